"""Feature families on tiny hand-made frames, through the real feature code.

Every scenario uses its own card or merchant, so the whole file is computed in one Spark
pass (the features twice, with and without a label reported during the scored day,
unioned), and each test asserts on its own rows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pyspark.sql import functions as F
from pyspark.sql import types as T

from fraud_assets.contract.currency import usd_rates_on
from fraud_assets.logic.features import (
    FEATURE_COLUMNS,
    MODEL_FEATURES,
    NO_PREVIOUS_SECONDS,
    build_features,
    customer_daily_stats,
    rates_frame,
    with_amount_usd,
)
from fraud_assets.logic.labels import FEEDBACK_SCHEMA
from fraud_assets.logic.scoring import score_transactions
from fraud_assets_tests.logic.frames import TX_SCHEMA, ts

DAY = dt.date(2026, 11, 20)  # a Friday
D = "2026-11-20"


def before(days: int, time: str = "12:00:00") -> str:
    return f"{DAY - dt.timedelta(days=days)} {time}"


def row(tid, card, when, amount, country="US", merchant="Shop #1"):
    return (tid, card, ts(when), Decimal(amount), "USD", merchant, "grocery", country, False)


HISTORY = [
    # C1: D-1 twice (the last at 22:00 in FR), D-5, D-10, and D-31 (outside every window).
    row("C1_h1", "C1", before(1, "20:00:00"), "100.00", "US", "M_A"),
    row("C1_h2", "C1", before(1, "22:00:00"), "50.00", "FR", "M_B"),
    row("C1_h3", "C1", before(5), "30.00", "DE", "M_C"),
    row("C1_h4", "C1", before(10), "40.00", "US", "M_D"),
    row("C1_h5", "C1", before(31), "999.00", "JP", "M_Z"),
    # Z: mean 100, sample stddev 10 (90, 100, 110); D: 145 -> z = 4.5; 135 -> z = 3.5.
    *[
        row(f"Z{c}_h{i}", f"Z{c}", before(3), a)
        for c in "12"
        for i, a in enumerate(["90", "100", "110"])
    ],
]
TODAY = [
    row("C1_t1", "C1", f"{D} 10:00:00", "60.00", "US", "M_A"),
    row("C1_t2", "C1", f"{D} 12:00:00", "90.00", "ES", "M_E"),
    row("NEW_t1", "NEW", f"{D} 12:00:00", "25.00", "US", "M_A"),
    # Calendar: 03:00 UTC is 22:00 Thursday in New York (night, not weekend); 23:30 UTC is
    # 12:30 Saturday in Auckland (weekend, not night); 12:00 UTC in Berlin is neither.
    row("CAL_night", "CAL1", f"{D} 03:00:00", "10.00", "US"),
    row("CAL_weekend", "CAL2", f"{D} 23:30:00", "10.00", "NZ"),
    row("CAL_plain", "CAL3", f"{D} 12:00:00", "10.00", "DE"),
    # Merchant MX, bought at by a card of its own.
    row("MX_t1", "MXC", f"{D} 12:00:00", "10.00", "US", "MX"),
    # KYC expectations: max 100 USD.
    row("K_ok", "K1", f"{D} 12:00:00", "100.00"),
    row("K_over", "K2", f"{D} 12:00:00", "150.00"),
    row("K_double", "K3", f"{D} 12:00:00", "200.01"),
    row("Z1_t", "Z1", f"{D} 12:00:00", "145.00"),
    row("Z2_t", "Z2", f"{D} 12:00:00", "135.00"),
]
EXPECTED_MAX = {"K1": "100.00", "K2": "100.00", "K3": "100.00", "Z1": "1000.00", "Z2": "1000.00"}

# Merchant MX's daily rows (delay 7: the 1-day window is D-8, 7 days D-14..D-8, 30 days
# D-37..D-8): 4 + 6 + 10 = 20 transactions inside, D-7 and D-38 outside.
MERCHANT_DAYS = {8: 4, 10: 6, 20: 10, 7: 100, 38: 50}


def label(tid, tx_days_back, fraud, reported):
    return (tid, fraud, ts(reported), "chargeback", ts(before(tx_days_back)), "X", "MX")


FEEDBACK = [
    label("L1", 8, True, before(3)),  # counted in 1, 7 and 30 days
    label("L2", 10, True, before(2)),  # ... then reversed before D: not fraud
    label("L2", 10, False, before(1)),
    label("L3", 20, True, f"{D} 00:00:00"),  # reported as D began: not available for D
    label("L4", 20, True, before(1, "23:59:59")),  # the last second before D: counted (30 d)
    label("L5", 7, True, before(1)),  # inside the delay: not in any window
    label("L6", 10, False, before(5)),  # a reversal superseded by a fraud report: counted
    label("L6", 10, True, before(4)),
]
# Reported during the scored day: must change nothing computed for that day.
LATE = [label("L1", 8, False, f"{D} 09:00:00"), label("L7", 8, True, f"{D} 10:00:00")]


@pytest.fixture(scope="module")
def features(spark) -> dict:
    days = [DAY - dt.timedelta(days=i) for i in range(40)]
    rates = rates_frame(spark, {d: usd_rates_on(d) for d in days})
    history = customer_daily_stats(
        with_amount_usd(spark.createDataFrame(HISTORY, TX_SCHEMA), rates)
    )
    merchant_history = spark.createDataFrame(
        [(DAY - dt.timedelta(days=b), "MX", n, Decimal(n * 10)) for b, n in MERCHANT_DAYS.items()],
        "stats_day date, merchant_name string, txn_count long, sum_usd decimal(24,2)",
    )
    expectations = spark.createDataFrame(
        [(c, Decimal(v)) for c, v in EXPECTED_MAX.items()],
        T.StructType(
            [
                T.StructField("customer_id", T.StringType(), False),
                T.StructField("expected_max_amount", T.DecimalType(12, 2), False),
            ]
        ),
    )
    tx = spark.createDataFrame(TODAY, TX_SCHEMA)

    def build(feedback_rows):
        return score_transactions(
            build_features(
                tx,
                rates,
                None,
                history,
                merchant_history=merchant_history,
                feedback=spark.createDataFrame(feedback_rows, FEEDBACK_SCHEMA),
                expectations=expectations,
            )
        )

    both = (
        build(FEEDBACK)
        .withColumn("_run", F.lit("on_time"))
        .unionByName(build(FEEDBACK + LATE).withColumn("_run", F.lit("with_late")))
    )
    out: dict = {"on_time": {}, "with_late": {}}
    for r in both.collect():
        d = r.asDict()
        out[d.pop("_run")][d["transaction_id"]] = d
    return out


@pytest.fixture(scope="module")
def rows(features) -> dict:
    return features["on_time"]


def test_every_documented_column_and_no_other(rows):
    assert sorted(rows) == sorted(r[0] for r in TODAY)
    assert set(FEATURE_COLUMNS) <= set(rows["C1_t1"])
    assert set(MODEL_FEATURES) <= set(FEATURE_COLUMNS)
    for r in rows.values():
        assert all(r[c] is not None for c in MODEL_FEATURES), r["transaction_id"]
        assert r["day"] == DAY


def test_card_windows_count_calendar_days_with_today_so_far(rows):
    first, second = rows["C1_t1"], rows["C1_t2"]
    assert (first["cust_txn_count_1d"], second["cust_txn_count_1d"]) == (1, 2)
    assert second["cust_mean_usd_1d"] == pytest.approx(75.0)
    # 7 days: D-6..D-1 (150 + 30) and today's two; 30 days adds D-10 (40), never D-31.
    assert (second["cust_txn_count_7d"], second["cust_mean_usd_7d"]) == (5, pytest.approx(66.0))
    assert (second["cust_txn_count_30d"], second["cust_mean_usd_30d"]) == (
        6,
        pytest.approx(370 / 6),
    )
    assert first["cust_txn_count_7d"] == 4


def test_card_history_relative_amount_and_previous_transaction(rows):
    second, first = rows["C1_t2"], rows["C1_t1"]
    assert second["hist_txn_count_30d"] == 4 and second["hist_mean_usd_30d"] == pytest.approx(55.0)
    assert second["amount_to_mean_30d"] == pytest.approx(90 / 55)
    assert second["secs_since_prev_txn"] == pytest.approx(7200.0)
    assert first["secs_since_prev_txn"] == pytest.approx(12 * 3600.0)  # D-1 22:00 -> D 10:00
    assert (first["prev_country"], first["country_differs_from_prev"]) == ("FR", 1)
    new = rows["NEW_t1"]
    assert new["hist_txn_count_30d"] == 0 and new["amount_to_mean_30d"] == 1.0
    assert new["secs_since_prev_txn"] == NO_PREVIOUS_SECONDS and new["amount_z_30d"] == 0.0
    assert (new["cust_txn_count_30d"], new["cust_mean_usd_30d"]) == (1, pytest.approx(25.0))


def test_distinct_countries_and_merchants_include_today_so_far(rows):
    first, second = rows["C1_t1"], rows["C1_t2"]
    # 7 days: US, FR, DE (+ ES today); merchants M_A, M_B, M_C (+ M_E); 30 days adds M_D.
    assert (first["cust_countries_7d"], second["cust_countries_7d"]) == (3, 4)
    assert (first["cust_merchants_7d"], second["cust_merchants_7d"]) == (3, 4)
    assert (second["cust_countries_30d"], second["cust_merchants_30d"]) == (4, 5)


def test_calendar_uses_the_local_clock(rows):
    assert (rows["CAL_night"]["is_night"], rows["CAL_night"]["is_weekend"]) == (1, 0)
    assert (rows["CAL_weekend"]["is_night"], rows["CAL_weekend"]["is_weekend"]) == (0, 1)
    assert (rows["CAL_plain"]["is_night"], rows["CAL_plain"]["is_weekend"]) == (0, 0)


def test_merchant_windows_end_the_delay_before_the_day(rows):
    mx = rows["MX_t1"]
    assert [mx[f"merchant_txn_count_{w}d"] for w in (1, 7, 30)] == [4, 10, 20]
    # L1 (1, 7, 30 days), L6 (7, 30), L4 (30); not L2 (reversed), L3 (reported at D
    # 00:00), L5 (inside the delay).
    assert [mx[f"merchant_fraud_count_{w}d"] for w in (1, 7, 30)] == [1, 2, 3]
    assert [mx[f"merchant_fraud_share_{w}d"] for w in (1, 7, 30)] == pytest.approx(
        [0.25, 0.2, 0.15]
    )
    other = rows["C1_t1"]  # M_A has no merchant history
    assert other["merchant_txn_count_30d"] == 0 and other["merchant_fraud_share_30d"] == 0.0


def test_a_label_reported_during_the_day_changes_nothing_for_that_day(features):
    assert features["with_late"] == features["on_time"]


@pytest.mark.parametrize(
    ("tid", "points"),
    [("K_ok", 0), ("K_over", 15), ("K_double", 30), ("Z2_t", 15), ("Z1_t", 30), ("C1_t1", 0)],
)
def test_profile_deviation_rule(rows, tid, points):
    """amount > expected max: 15, > 2x: 30; z > 3: 15, z > 4: 30; no expectation: never."""
    assert rows[tid]["score_profile_deviation"] == points
    if points:
        assert "PROFILE_DEVIATION" in rows[tid]["rules_triggered"]
