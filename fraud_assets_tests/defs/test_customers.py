"""postgres_customers against real feed files and the real PostgreSQL (no Spark)."""

from __future__ import annotations

import csv
import datetime as dt

import dagster as dg
import psycopg
import pytest

from fraud_assets.contract.customers import CUSTOMER_FEED_COLUMNS
from fraud_assets.defs.ingest.customers import postgres_customers
from fraud_assets_tests.defs.pipeline import run_day, use_folders

DAY = dt.date(2026, 11, 20)
LATER = dt.date(2026, 11, 22)
ANA = ["C1", "Ana", "Silva", "ana@example.com", "+351 1", "2021-03-04", "LOW", "PT", "Lisboa"]
BEN = ["C2", "Ben", "Ng", "ben@example.com", "+65 2", "2019-01-01", "HIGH", "SG", "Singapore"]


@pytest.fixture
def landing(tmp_path, clean_db):
    use_folders(tmp_path / "landing", tmp_path / "lake")
    return tmp_path / "landing"


def _feed(landing, day, rows):
    path = landing / "customers" / f"date={day.isoformat()}" / "customers.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CUSTOMER_FEED_COLUMNS)
        writer.writerows(rows)


def _run(day, max_rate=None):
    config = {"ops": {"postgres_customers": {"config": {"max_quarantine_rate": max_rate}}}}
    result = run_day(
        day,
        dg.DagsterInstance.ephemeral(),
        [postgres_customers],
        config if max_rate is not None else None,
        raise_on_error=False,
    )
    meta = result.asset_materializations_for_node("postgres_customers")[0].metadata
    (check,) = result.get_asset_check_evaluations()
    return meta, check


def _stored(pg):
    with psycopg.connect(pg.conninfo) as conn:
        return conn.execute(
            "SELECT customer_id, home_city, risk_level, feed_date, total_transactions "
            "FROM customers ORDER BY customer_id"
        ).fetchall()


def test_the_feed_is_upserted_idempotently_and_an_older_day_never_undoes_a_newer_one(
    landing, clean_db
):
    _feed(landing, DAY, [ANA, BEN])
    meta, check = _run(DAY)
    assert (meta["inserted"].value, meta["updated"].value, meta["unchanged"].value) == (2, 0, 0)
    assert check.passed
    first = _stored(clean_db)
    assert first == [
        ("C1", "Lisboa", "LOW", DAY, 0),
        ("C2", "Singapore", "HIGH", DAY, 0),
    ]

    meta, _ = _run(DAY)  # the same day again: nothing changes
    assert (meta["inserted"].value, meta["updated"].value, meta["unchanged"].value) == (0, 0, 2)
    assert _stored(clean_db) == first

    _feed(landing, LATER, [[*ANA[:7], "PT", "Porto"]])  # Ana moved
    meta, _ = _run(LATER)
    assert (meta["inserted"].value, meta["updated"].value) == (0, 1)
    meta, _ = _run(DAY)  # a late re-run of the older day keeps the newer address
    assert meta["updated"].value == 0
    assert _stored(clean_db)[0] == ("C1", "Porto", "LOW", LATER, 0)


def test_a_day_without_a_feed_changes_nothing(landing, clean_db):
    meta, check = _run(DAY)
    assert meta["records_read"].value == 0 and meta["dagster/row_count"].value == 0
    assert meta["days_without_feed"].value == [DAY.isoformat()]
    assert check.passed


def test_bad_records_are_quarantined_with_their_reason_and_too_many_block(landing, clean_db):
    _feed(landing, DAY, [ANA, [*BEN[:7], "XX", "Nowhere"]])
    meta, check = _run(DAY)
    assert meta["quarantined"].value == 1 and meta["inserted"].value == 1
    assert not check.passed and check.blocking
    assert "unsupported_country" in check.metadata["explanation"].value
    with psycopg.connect(clean_db.conninfo) as conn:
        rows = conn.execute(
            "SELECT partition_date, record_number, reason, raw_record->>'customer_id' "
            "FROM customers_quarantine"
        ).fetchall()
    assert rows == [(DAY, 2, "unsupported_country", "C2")]

    meta, check = _run(DAY, max_rate=0.6)  # within a looser threshold; re-run replaces
    assert check.passed
    with psycopg.connect(clean_db.conninfo) as conn:
        assert conn.execute("SELECT count(*) FROM customers_quarantine").fetchone()[0] == 1
