"""Behavioural profiles: the seed's statistics and signals on a tiny frame (one Spark pass),
upserted into the real customer_profiles beside KYC columns that must never change."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import psycopg
import pytest

from fraud_assets.contract.currency import usd_rates_on
from fraud_assets.db.profile_store import BEHAVIOUR_COLUMNS, upsert_profiles
from fraud_assets.logic.features import customer_daily_stats, rates_frame, with_amount_usd
from fraud_assets.logic.profiles import customer_profiles
from fraud_assets_tests.logic.frames import tx

DAY = dt.date(2026, 11, 20)
D = "2026-11-20"
ROWS = [
    # P1: 10, 20, 30 over three days (mean 20, stddev 10), then one 40-day-old (outside).
    ("P1_a", "P1", f"{D} 10:00:00", "10.00", "USD", "US"),
    ("P1_b", "P1", "2026-11-10 10:00:00", "20.00", "USD", "FR"),
    ("P1_c", "P1", "2026-10-22 10:00:00", "30.00", "USD", "US"),
    ("P1_old", "P1", "2026-10-10 10:00:00", "99999.00", "USD", "JP"),
    # P2: wildly variable, a 10,000+ USD maximum, six countries: every signal.
    *[
        (f"P2_{i}", "P2", f"2026-11-{10 + i} 10:00:00", a, "USD", c)
        for i, (a, c) in enumerate(
            [("1.00", "US"), ("1.00", "FR"), ("1.00", "DE"), ("1.00", "ES"), ("1.00", "IT")]
        )
    ],
    ("P2_big", "P2", f"{D} 11:00:00", "20000.00", "USD", "GB"),
]


@pytest.fixture(scope="module")
def profiles(spark) -> dict:
    rates = rates_frame(spark, {DAY - dt.timedelta(days=i): usd_rates_on(DAY) for i in range(45)})
    daily = customer_daily_stats(with_amount_usd(tx(spark, ROWS), rates))
    table = customer_profiles(daily, DAY).orderBy("customer_id").toArrow()
    return {"table": table, "rows": {r["customer_id"]: r for r in table.to_pylist()}}


def test_statistics_over_the_30_days_ending_the_day(profiles):
    p = profiles["rows"]["P1"]
    assert p["profile_day"] == DAY and p["txn_count_30d"] == 3
    assert (p["mean_usd_30d"], p["stddev_usd_30d"]) == (Decimal("20.00"), Decimal("10.00"))
    assert (p["min_usd_30d"], p["max_usd_30d"]) == (Decimal("10.00"), Decimal("30.00"))
    assert (p["country_count_30d"], p["merchant_count_30d"]) == (2, 1)
    assert p["first_txn_at_30d"] == dt.datetime(2026, 10, 22, 10, tzinfo=dt.UTC)
    assert p["last_txn_at"] == dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
    assert (p["behaviour_risk_score"], p["behaviour_signals"]) == (0, [])


def test_the_seeds_signals(profiles):
    p = profiles["rows"]["P2"]
    assert p["behaviour_signals"] == ["HIGH_VARIABILITY", "LARGE_MAX_AMOUNT", "MANY_COUNTRIES"]
    assert p["behaviour_risk_score"] == 45


KYC = ("P1", "retail", Decimal("5000.00"), Decimal("1.00"), Decimal("500.00"), 0.9)


def _stored(pg) -> dict:
    with psycopg.connect(pg.conninfo) as conn:
        cur = conn.execute("SELECT * FROM customer_profiles ORDER BY customer_id")
        names = [c.name for c in cur.description]
        return {r[0]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}


def test_upsert_keeps_kyc_columns_is_idempotent_and_never_goes_back_in_time(profiles, clean_db):
    with psycopg.connect(clean_db.conninfo) as conn:
        conn.execute(
            """INSERT INTO customer_profiles (customer_id, business_type, expected_monthly_volume,
                   expected_min_amount, expected_max_amount, confidence_score)
               VALUES (%s, %s, %s, %s, %s, %s)""",
            KYC,
        )
    table = profiles["table"].select(["customer_id", *BEHAVIOUR_COLUMNS])
    with psycopg.connect(clean_db.conninfo) as conn:
        first = upsert_profiles(conn, table)
    assert (first.inserted, first.updated, first.unchanged) == (1, 1, 0)
    stored = _stored(clean_db)
    p1 = stored["P1"]
    kyc = ("business_type", "expected_monthly_volume", "expected_min_amount", "expected_max_amount")
    assert tuple(p1[c] for c in kyc) == KYC[1:5] and float(p1["confidence_score"]) == 0.9
    assert p1["txn_count_30d"] == 3 and p1["behaviour_signals"] == []
    assert p1["last_txn_at"] == dt.datetime(2026, 11, 20, 10)  # TIMESTAMP holds UTC
    assert stored["P2"]["expected_max_amount"] is None and stored["P2"]["txn_count_30d"] == 6

    with psycopg.connect(clean_db.conninfo) as conn:
        again = upsert_profiles(conn, table)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert _stored(clean_db) == stored  # not even profiled_at moved

    # A backfill of an older day must not overwrite the newer profile.
    older = table.set_column(
        table.schema.get_field_index("profile_day"),
        "profile_day",
        [[DAY - dt.timedelta(days=3)] * table.num_rows],
    )
    with psycopg.connect(clean_db.conninfo) as conn:
        upsert_profiles(conn, older)
    assert _stored(clean_db) == stored
