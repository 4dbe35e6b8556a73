"""The day's quarantine rows in PostgreSQL, replaced together with the day."""

from __future__ import annotations

import datetime as dt
import io

import orjson
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql

from fraud_assets.contract.schema import FEED_COLUMNS
from fraud_assets.logic.validation import QUARANTINE_SCHEMA

# The columns of both quarantine tables (transactions_quarantine, customers_quarantine).
QUARANTINE_COLUMNS = (
    "partition_date",
    "source_file",
    "record_number",
    "reason",
    "detail",
    "raw_record",
    "dagster_run_id",
)


def duplicates_as_quarantine(duplicates: pa.Table) -> pa.Table:
    """Typed rows refused because their id exists on another day, as quarantine rows."""
    records = [
        {k: (None if v is None else str(v)) for k, v in r.items()}
        for r in duplicates.select(list(FEED_COLUMNS)).to_pylist()
    ]
    return pa.table(
        {
            "source_file": duplicates["_source_file"],
            "record_number": duplicates["_record_number"],
            "reason": pa.array(["duplicate_transaction_id"] * duplicates.num_rows, pa.string()),
            "detail": pa.array(
                ["transaction_id already loaded on another day"] * duplicates.num_rows, pa.string()
            ),
            "raw_record": pa.array([orjson.dumps(r).decode() for r in records], pa.string()),
        },
        schema=QUARANTINE_SCHEMA,
    )


def replace_quarantine(
    conn: psycopg.Connection, day: dt.date, rows: pa.Table, duplicates: pa.Table, run_id: str
) -> None:
    conn.execute("DELETE FROM transactions_quarantine WHERE partition_date = %s", (day,))
    table = (
        pa.concat_tables([rows, duplicates_as_quarantine(duplicates)])
        if duplicates.num_rows
        else rows
    )
    if table.num_rows == 0:
        return
    n = table.num_rows
    table = table.add_column(0, "partition_date", pa.array([day] * n, pa.date32())).append_column(
        "dagster_run_id", pa.array([run_id] * n, pa.string())
    )
    buffer = io.BytesIO()
    pacsv.write_csv(
        table.select(list(QUARANTINE_COLUMNS)), buffer, pacsv.WriteOptions(include_header=False)
    )
    copy_sql = sql.SQL("COPY transactions_quarantine ({}) FROM STDIN (FORMAT csv)").format(
        sql.SQL(", ").join(map(sql.Identifier, QUARANTINE_COLUMNS))
    )
    with conn.cursor().copy(copy_sql) as copy:
        copy.write(buffer.getvalue())
