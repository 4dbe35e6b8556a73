"""postgres_transactions against real feed files and the real PostgreSQL (no Spark)."""

from __future__ import annotations

import datetime as dt
import gzip
import shutil

import dagster as dg
import psycopg
import pytest

from fraud_assets.defs.ingest.assets import postgres_transactions
from fraud_assets_tests.defs.pipeline import run_day, use_folders
from fraud_assets_tests.feeds import good_record, write_feed

DAY = dt.date(2026, 11, 20)
NEXT = dt.date(2026, 11, 21)


@pytest.fixture
def landing(tmp_path, clean_db):
    use_folders(tmp_path / "landing", tmp_path / "lake")
    return tmp_path / "landing"


def _feed(landing, day: dt.date, name: str, records):
    return write_feed(landing / "transactions" / f"date={day.isoformat()}" / name, records)


def _load(day, config=None, raise_on_error=True):
    return run_day(
        day,
        dg.DagsterInstance.ephemeral(),
        [postgres_transactions],
        {"ops": {"postgres_transactions": {"config": config}}} if config else None,
        raise_on_error,
    )


def _rows(pg, sql, params=()):
    with psycopg.connect(pg.conninfo) as conn:
        return conn.execute(sql, params).fetchall()


def _day(d):
    return f"{d:%Y-%m-%d}T12:00:00Z"


def test_good_rows_load_and_bad_rows_are_quarantined_with_reasons(landing, clean_db):
    _feed(landing, DAY, "card_processor.csv", [good_record(f"T{i}", _day(DAY)) for i in range(5)])
    _load(DAY)
    _feed(
        landing,
        NEXT,
        "core_banking.csv",
        [
            good_record("N1", _day(NEXT)),
            good_record("T3", _day(NEXT)),  # id already stored on the previous day
            good_record("N2", _day(NEXT), amount="0.00"),
            good_record("N3", _day(NEXT), raw_data="{not json"),
        ],
    )
    _feed(landing, NEXT, "online_gateway.csv.gz.tmp", [])  # not a feed file: ignored
    result = _load(NEXT, {"max_quarantine_rate": 1.0})
    meta = result.asset_materializations_for_node("postgres_transactions")[0].metadata
    assert meta["dagster/row_count"].value == 1
    assert meta["quarantined"].value == 3
    quarantined = _rows(
        clean_db,
        "SELECT reason, source_file, record_number FROM transactions_quarantine WHERE partition_date = %s ORDER BY record_number",
        (NEXT,),
    )
    assert quarantined == [
        ("duplicate_transaction_id", "core_banking.csv", 2),
        ("non_positive_amount", "core_banking.csv", 3),
        ("bad_json", "core_banking.csv", 4),
    ]
    assert _rows(
        clean_db, "SELECT transaction_id FROM transactions WHERE transaction_id LIKE 'T3'"
    ) == [("T3",)]


def test_a_high_quarantine_rate_blocks_the_day(landing):
    _feed(
        landing,
        DAY,
        "a.csv",
        [good_record("A1", _day(DAY)), good_record("A2", _day(DAY), currency="XYZ")],
    )
    result = _load(DAY, raise_on_error=False)
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    check = checks["quarantine_rate_within_threshold"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert check.metadata["reasons"].value == {"unsupported_currency": 1}


def test_reloading_a_day_replaces_exactly_that_day_and_its_quarantine(landing, clean_db):
    _feed(
        landing,
        DAY,
        "a.csv",
        [good_record(f"A{i}", _day(DAY)) for i in range(3)]
        + [good_record("BAD", _day(DAY), amount="x")],
    )
    _feed(landing, NEXT, "a.csv", [good_record("B1", _day(NEXT))])
    _load(DAY, {"max_quarantine_rate": 1.0})
    _load(NEXT)
    _feed(landing, DAY, "a.csv", [good_record("A0", _day(DAY)), good_record("A9", _day(DAY))])
    _load(DAY)
    assert _rows(clean_db, "SELECT transaction_id FROM transactions ORDER BY 1") == [
        ("A0",),
        ("A9",),
        ("B1",),
    ]
    assert _rows(clean_db, "SELECT count(*) FROM transactions_quarantine") == [(0,)]
    # PK and the B-tree indexes of ORIGIN_FACTS exist on the new day's tables.
    indexes = _rows(
        clean_db,
        "SELECT count(*) FROM pg_indexes WHERE tablename LIKE 'transactions_p20261120_s%%'",
    )
    assert indexes == [(2 * 7,)]


def test_gzip_and_parquet_feeds_are_read(landing, clean_db, tmp_path):
    plain = _feed(landing, DAY, "a.csv", [good_record("G1", _day(DAY))])
    with open(plain, "rb") as src, gzip.open(plain.with_suffix(".csv.gz"), "wb") as dst:
        shutil.copyfileobj(src, dst)
    plain.unlink()
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from fraud_assets.contract.schema import FEED_COLUMNS

    as_text = pacsv.ConvertOptions(column_types=dict.fromkeys(FEED_COLUMNS, pa.string()))
    text = pacsv.read_csv(
        write_feed(tmp_path / "b.csv", [good_record("P1", _day(DAY))]), convert_options=as_text
    )
    pq.write_table(text, plain.with_name("b.parquet"))
    # A typed Parquet feed (timestamp, decimal, boolean columns) is read the same way.
    typed = pacsv.read_csv(
        write_feed(tmp_path / "c.csv", [good_record("P2", _day(DAY))]), convert_options=as_text
    )
    typed = typed.set_column(
        2, "transaction_date", pa.array([dt.datetime(2026, 11, 20, 12)], pa.timestamp("us", "UTC"))
    )
    typed = typed.set_column(3, "amount", pa.array(["12.50"]).cast(pa.decimal128(12, 2)))
    typed = typed.set_column(13, "is_online", pa.array([True]))
    pq.write_table(typed, plain.with_name("c.parquet"))
    _load(DAY)
    assert _rows(
        clean_db,
        "SELECT transaction_id, transaction_date::text, amount::text, is_online FROM transactions ORDER BY 1",
    ) == [
        ("G1", "2026-11-20 12:00:00", "12.50", False),
        ("P1", "2026-11-20 12:00:00", "12.50", False),
        ("P2", "2026-11-20 12:00:00", "12.50", True),
    ]


def _retries(result) -> int:
    return sum(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events)


def test_a_missing_feed_fails_naming_the_path_without_retrying(landing):
    result = _load(DAY, raise_on_error=False)
    assert not result.success
    failure = result.failure_data_for_node("postgres_transactions")
    assert f"transactions/date={DAY.isoformat()}" in str(failure.error)
    # Waiting and reading again cannot fix a feed: the retry policy is for lost connections.
    assert _retries(result) == 0


def test_a_wrong_header_fails_naming_the_file_and_loads_nothing(landing, clean_db):
    path = _feed(landing, DAY, "a.csv", [good_record("H1", _day(DAY))])
    text = path.read_text().replace(
        "merchant_name,merchant_category", "merchant_category,merchant_name", 1
    )
    path.write_text(text)
    result = _load(DAY, raise_on_error=False)
    assert not result.success
    assert "a.csv has the wrong header" in str(
        result.failure_data_for_node("postgres_transactions").error
    )
    assert _retries(result) == 0
    assert _rows(clean_db, "SELECT count(*) FROM transactions") == [(0,)]


def test_upstream_mode_validates_without_changing_anything(landing, clean_db):
    _feed(landing, DAY, "a.csv", [good_record(f"U{i}", _day(DAY)) for i in range(4)])
    _load(DAY)
    shutil.rmtree(landing)  # upstream mode never reads the landing area
    before = _rows(clean_db, "SELECT t::text FROM transactions t ORDER BY transaction_id")
    result = _load(DAY, {"source_mode": "upstream"})
    meta = result.asset_materializations_for_node("postgres_transactions")[0].metadata
    assert meta["dagster/row_count"].value == 4 and meta["source_mode"].value == "upstream"
    assert _rows(clean_db, "SELECT t::text FROM transactions t ORDER BY transaction_id") == before


def test_a_control_record_that_reconciles_lets_the_day_load(landing, clean_db):
    path = _feed(
        landing,
        DAY,
        "a.csv",
        [good_record("C1", _day(DAY)), good_record("C2", _day(DAY), amount="x")],
    )
    path.with_name("a.csv.ctl").write_text("record_count,amount_sum\n2,12.50\n")
    _load(DAY, {"max_quarantine_rate": 1.0})
    assert _rows(clean_db, "SELECT transaction_id FROM transactions") == [("C1",)]


def test_a_control_record_that_does_not_reconcile_fails_naming_the_file(landing, clean_db):
    path = _feed(
        landing, DAY, "a.csv", [good_record("C1", _day(DAY)), good_record("C2", _day(DAY))]
    )
    path.with_name("a.csv.ctl").write_text("record_count,amount_sum\n3,37.50\n")
    result = _load(DAY, raise_on_error=False)
    message = str(result.failure_data_for_node("postgres_transactions").error)
    assert "a.csv does not reconcile with" in message and "a.csv.ctl" in message
    assert "2 records summing 25.00" in message
    assert _rows(clean_db, "SELECT count(*) FROM transactions") == [(0,)]


def test_a_feed_in_the_wrong_encoding_fails_naming_the_file(landing, clean_db):
    path = _feed(landing, DAY, "latin1.csv", [good_record("E1", _day(DAY), location_city="Zürich")])
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1"))
    result = _load(DAY, raise_on_error=False)
    message = str(result.failure_data_for_node("postgres_transactions").error)
    assert "latin1.csv" in message and "UTF" in message.upper()
    assert _rows(clean_db, "SELECT count(*) FROM transactions") == [(0,)]


def test_the_contract_check_names_offending_rows_written_upstream(landing, clean_db):
    _feed(landing, DAY, "a.csv", [good_record(f"W{i}", _day(DAY)) for i in range(3)])
    _load(DAY)
    with psycopg.connect(clean_db.conninfo, autocommit=True) as conn:
        # Another system writes rows the contract does not allow.
        conn.execute("UPDATE transactions SET amount = -1 WHERE transaction_id = 'W1'")
        conn.execute("UPDATE transactions SET currency = 'XYZ' WHERE transaction_id = 'W2'")
    result = _load(DAY, {"source_mode": "upstream"}, raise_on_error=False)
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    contract = checks["contract_holds_in_postgres"]
    assert not contract.passed
    assert contract.metadata["violations"].value == {
        DAY.isoformat(): {
            "amount_not_positive": {"count": 1, "sample": ["W1"]},
            "unknown_currency": {"count": 1, "sample": ["W2"]},
        }
    }


def test_a_load_sweeps_orphans_of_killed_loads_of_other_days(landing, clean_db):
    with psycopg.connect(clean_db.conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE transactions_p20260101_ldeadbeef_s0 (LIKE transactions)")
    _feed(landing, DAY, "a.csv", [good_record("O1", _day(DAY))])
    _load(DAY)
    assert _rows(
        clean_db, "SELECT count(*) FROM pg_class WHERE relname LIKE 'transactions_p20260101_l%%'"
    ) == [(0,)]
