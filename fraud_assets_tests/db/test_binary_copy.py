"""The loader's binary COPY stores exactly what PostgreSQL's own text parsing of the same
rows stores (real PostgreSQL), edge values included."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from psycopg import sql

from fraud_assets.contract.schema import COLUMN_NAMES, TRANSACTION_COLUMNS
from fraud_assets.db.binary_copy import binary_copy_chunks

PG_TYPES = [c.pg_type for c in TRANSACTION_COLUMNS]
SCHEMA = pa.schema([pa.field(c.name, c.arrow_type) for c in TRANSACTION_COLUMNS])


def _row(i: int, **changes) -> dict:
    row = {
        "transaction_id": f"T{i:04d}",
        "customer_id": f"C{i % 3}",
        "transaction_date": dt.datetime(2026, 11, 20, 10, 0, i % 60, 123456),
        "amount": Decimal("12.34"),
        "currency": "EUR",
        "merchant_name": "Café Zürich",
        "merchant_category": "restaurant",
        "transaction_type": "PURCHASE",
        "card_last_four": "4242",
        "location_country": "CH",
        "location_city": "Zürich",
        "ip_address": "10.0.0.1",
        "device_fingerprint": "dev-1",
        "is_online": True,
        "source_system": "core",
        "raw_data": '{"k": "v", "n": 1}',
        "normalized_at": dt.datetime(2026, 11, 20, 23, 0),
        "created_at": dt.datetime(2026, 11, 20, 23, 0),
    }
    return {**row, **changes}


EDGE_ROWS = [
    _row(0),
    _row(1, amount=Decimal("-12.34"), is_online=False),
    _row(2, amount=Decimal("0.00")),
    _row(3, amount=Decimal("9999999999.99")),
    _row(4, amount=Decimal("-9999999999.99")),
    _row(5, amount=Decimal("0.05"), ip_address="255.255.255.255"),
    _row(6, amount=Decimal("100000000.10"), ip_address="2001:db8::1"),
    _row(7, amount=Decimal("10000.00"), ip_address="::ffff:192.0.2.1"),
    _row(
        8, ip_address="0.0.0.0", raw_data='{"emoji": "\\ud83d\\ude00", "nested": {"a": [1, 2.5]}}'
    ),
    _row(
        9,
        currency=None,
        merchant_name=None,
        merchant_category=None,
        transaction_type=None,
        card_last_four=None,
        location_country=None,
        location_city=None,
        ip_address=None,
        device_fingerprint=None,
        is_online=None,
        raw_data=None,
        normalized_at=None,
        created_at=None,
    ),
    _row(10, transaction_date=dt.datetime(1999, 12, 31, 23, 59, 59, 999999), merchant_name=""),
    _row(11, transaction_date=dt.datetime(2000, 1, 1), merchant_name="x" * 255),
]


def _load(conn, table: str, rows: pa.Table, binary: bool) -> None:
    conn.execute(
        sql.SQL("CREATE TABLE {} (LIKE transactions INCLUDING DEFAULTS)").format(
            sql.Identifier(table)
        )
    )
    columns = sql.SQL(", ").join(map(sql.Identifier, COLUMN_NAMES))
    fmt = sql.SQL("binary" if binary else "csv")
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT {})").format(
        sql.Identifier(table), columns, fmt
    )
    with conn.cursor().copy(statement) as copy:
        if binary:
            for chunk in binary_copy_chunks(rows, PG_TYPES, batch_rows=5):
                copy.write(chunk)
        else:
            buffer = io.BytesIO()
            pacsv.write_csv(rows, buffer, pacsv.WriteOptions(include_header=False))
            copy.write(buffer.getvalue())


def _stored(conn, table: str) -> list[tuple]:
    # Text forms: what the server shows for each value, type by type.
    columns = sql.SQL(", ").join(
        sql.SQL("{}::text").format(sql.Identifier(c)) for c in COLUMN_NAMES
    )
    return conn.execute(
        sql.SQL("SELECT {} FROM {} ORDER BY transaction_id").format(columns, sql.Identifier(table))
    ).fetchall()


def test_binary_copy_stores_what_text_copy_stores(clean_db):
    rows = pa.Table.from_pylist(EDGE_ROWS, SCHEMA)
    with clean_db.connect() as conn:
        # Batches of 5 rows: the stream crosses batch boundaries and an array offset.
        _load(conn, "via_binary", rows, binary=True)
        _load(conn, "via_text", rows, binary=False)
        binary, text = _stored(conn, "via_binary"), _stored(conn, "via_text")
        conn.rollback()
    assert len(binary) == len(EDGE_ROWS)
    assert binary == text
    by_id = {r[0]: r for r in binary}
    names = list(COLUMN_NAMES)
    assert by_id["T0004"][names.index("amount")] == "-9999999999.99"
    assert (
        by_id["T0006"][names.index("ip_address")] == "2001:db8::1/128"
    )  # text(inet) shows the mask
    assert by_id["T0010"][names.index("transaction_date")] == "1999-12-31 23:59:59.999999"
    assert all(v is None for v in by_id["T0009"][4:14] + by_id["T0009"][15:])


def test_an_empty_table_is_a_valid_empty_stream(clean_db):
    with clean_db.connect() as conn:
        _load(conn, "via_binary", pa.Table.from_pylist([], SCHEMA), binary=True)
        assert _stored(conn, "via_binary") == []
        conn.rollback()


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("amount", Decimal("1.234"), "scale 2"),
        ("ip_address", "fe80::1%eth0", "scoped"),
    ],
)
def test_values_binary_copy_cannot_carry_are_refused_before_the_server(column, value, message):
    schema = SCHEMA
    if column == "amount":
        schema = schema.set(3, pa.field("amount", pa.decimal128(12, 3)))
    rows = pa.Table.from_pylist([_row(0, **{column: value})], schema)
    with pytest.raises(ValueError, match=message):
        list(binary_copy_chunks(rows, PG_TYPES))
