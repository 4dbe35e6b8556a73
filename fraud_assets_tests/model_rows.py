"""Synthetic fraud_features rows with a planted fraud signal, for the model's tests.

Legit rows have every signal feature near 0, frauds near 10: any sane model separates
them. The seed rules' inputs are quiet except on each day's first row (velocity 5 at
03:xx local: 45 points, MEDIUM), so rule and model scores can be told apart.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from fraud_assets.logic.features import MODEL_FEATURES

BASE: dict[str, pa.DataType] = {
    "transaction_id": pa.string(),
    "customer_id": pa.string(),
    "transaction_date": pa.timestamp("us"),
    "amount": pa.decimal128(12, 2),
    "currency": pa.string(),
    "amount_usd": pa.decimal128(14, 2),
    "merchant_name": pa.string(),
    "merchant_category": pa.string(),
    "location_country": pa.string(),
    "is_online": pa.bool_(),
    "local_hour": pa.int32(),
    "velocity_1h": pa.int64(),
    "hist_txn_count_30d": pa.int64(),
    "hist_mean_usd_30d": pa.float64(),
    "hist_std_usd_30d": pa.float64(),
    "amount_zscore_30d": pa.float64(),
    "prev_country": pa.string(),
    "prev_gap_seconds": pa.float64(),
    "day": pa.date32(),
    "expected_max_amount": pa.decimal128(12, 2),
}
SIGNALS = ("hist_std_usd_30d", *[f for f in MODEL_FEATURES if f not in BASE])


def transaction_ids(day: dt.date, n: int) -> list[str]:
    return [f"T{day:%Y%m%d}{i:06d}" for i in range(n)]


def feature_rows(day: dt.date, n: int, fraud: set[int], seed: int = 0) -> pa.Table:
    rng = np.random.default_rng([seed, day.toordinal()])
    is_fraud = np.array([i in fraud for i in range(n)])
    start = dt.datetime.combine(day, dt.time(8))
    columns = {
        "transaction_id": transaction_ids(day, n),
        "customer_id": [f"C{i % (n // 2 + 1):05d}" for i in range(n)],
        "transaction_date": [start + dt.timedelta(seconds=60 * i) for i in range(n)],
        "amount": [Decimal("25.00")] * n,
        "currency": ["USD"] * n,
        "amount_usd": [Decimal("25.00")] * n,
        "merchant_name": [f"Shop #{i % 7}" for i in range(n)],
        "merchant_category": ["grocery"] * n,
        "location_country": ["US"] * n,
        "is_online": [False] * n,
        "local_hour": [3 if i == 0 else 12 for i in range(n)],
        "velocity_1h": [5 if i == 0 else 1 for i in range(n)],
        "hist_txn_count_30d": [10] * n,
        "hist_mean_usd_30d": [25.0] * n,
        "hist_std_usd_30d": None,
        "amount_zscore_30d": [0.0] * n,
        "prev_country": ["US"] * n,
        "prev_gap_seconds": [86_400.0] * n,
        "day": [day] * n,
        "expected_max_amount": [None] * n,
    }
    table = {}
    for name in dict.fromkeys([*BASE, *SIGNALS]):
        if name in SIGNALS:
            values = rng.normal(0, 1, n) + 10 * is_fraud
            table[name] = pa.array(np.abs(values), BASE.get(name, pa.float64()))
        else:
            table[name] = pa.array(columns[name], BASE[name])
    return pa.table(table)


def write_features(lake, day: dt.date, n: int, fraud: set[int]) -> pa.Table:
    table = feature_rows(day, n, fraud)
    with lake.replace_partition("fraud_features", day) as folder:
        pq.write_table(table, folder / "part-0.parquet")
    return table


def write_feedback(lake, day: dt.date, reports: list[tuple[str, bool, dt.datetime]]) -> None:
    """fraud_feedback/date=`day`: (transaction_id, is_fraud, reported_at)."""
    ids, flags, at = zip(*reports, strict=True) if reports else ((), (), ())
    table = pa.table(
        {
            "transaction_id": pa.array(ids, pa.string()),
            "is_fraud": pa.array(flags, pa.bool_()),
            "reported_at": pa.array(at, pa.timestamp("us")),
            "source": pa.array(["chargeback"] * len(ids), pa.string()),
        }
    )
    with lake.replace_partition("fraud_feedback", day) as folder:
        pq.write_table(table, folder / "part-0.parquet")
