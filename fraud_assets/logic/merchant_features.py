"""Per-merchant risk over windows that end a delay before the day.

Labels arrive late (a chargeback comes days or weeks after the transaction), so the most
recent days' fraud counts are always incomplete. The merchant windows therefore end
`delay` days before the scored day D: the w-day window covers the days
D - delay - w .. D - delay - 1. Only labels reported before D began count
(logic/labels.py), so a label reported on D or later changes nothing computed for D.

Transaction counts come from one `merchant_daily` row per merchant per day (30 rows per
merchant at most), never from raw transactions of earlier days.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from fraud_assets.logic.labels import labels_available

MERCHANT_WINDOWS = (1, 7, 30)
DEFAULT_MERCHANT_DELAY_DAYS = 7
MERCHANT_DAILY_LAYOUT = 1

MERCHANT_FEATURE_COLUMNS: dict[str, str] = {
    **{
        f"merchant_txn_count_{w}d": (
            f"Merchant's transactions over the {w} day(s) ending `delay` days before this "
            f"day: days D-delay-{w} .. D-delay-1 (default delay 7)."
        )
        for w in MERCHANT_WINDOWS
    },
    **{
        f"merchant_fraud_count_{w}d": (
            f"Of those {w}-day transactions, how many were known fraudulent from labels "
            "reported before this day began (latest report wins)."
        )
        for w in MERCHANT_WINDOWS
    },
    **{
        f"merchant_fraud_share_{w}d": (
            f"merchant_fraud_count_{w}d / merchant_txn_count_{w}d (at most 1); 0 when the "
            "merchant had no transactions in the window."
        )
        for w in MERCHANT_WINDOWS
    },
}


def merchant_daily_stats(tx_usd: DataFrame) -> DataFrame:
    """One row per merchant per UTC day (`stats_day`): its transactions and USD total."""
    return (
        tx_usd.where(F.col("merchant_name").isNotNull())
        .groupBy(F.to_date("transaction_date").alias("stats_day"), "merchant_name")
        .agg(
            F.count(F.lit(1)).alias("txn_count"),
            F.sum("amount_usd").cast(T.DecimalType(24, 2)).alias("sum_usd"),
        )
    )


def merchant_history_span(delay: int) -> tuple[int, int]:
    """(first, last) offsets in days before D of the daily rows the windows read."""
    return delay + max(MERCHANT_WINDOWS), delay + 1


def merchant_window_stats(
    targets: DataFrame,
    merchant_rows: DataFrame,
    feedback: DataFrame | None,
    delay: int = DEFAULT_MERCHANT_DELAY_DAYS,
) -> DataFrame:
    """Per (merchant_name, _day) of `targets`: transaction counts, known frauds and their
    share over each window of MERCHANT_WINDOWS days ending `delay` days before `_day`."""
    if delay < 0:
        raise ValueError(f"merchant delay must be >= 0 days, got {delay}")
    longest = max(MERCHANT_WINDOWS)
    m = merchant_rows.alias("m")
    t = targets.alias("t")
    # offset 1 = the last day of every window (D - delay - 1), `longest` = the first.
    counts = t.join(
        m,
        (F.col("m.merchant_name") == F.col("t.merchant_name"))
        & (F.col("m.stats_day") >= F.date_sub(F.col("t._day"), delay + longest))
        & (F.col("m.stats_day") <= F.date_sub(F.col("t._day"), delay + 1)),
    ).select(
        F.col("t.merchant_name").alias("merchant_name"),
        F.col("t._day").alias("_day"),
        (F.datediff(F.col("t._day"), F.col("m.stats_day")) - delay).alias("_off"),
        F.col("m.txn_count").cast("long").alias("_n"),
        F.lit(0).cast("long").alias("_f"),
    )
    rows = counts
    if feedback is not None:
        days = targets.select(F.col("_day").alias("day")).distinct()
        known = labels_available(feedback, days).where(
            F.col("is_fraud") & F.col("merchant_name").isNotNull()
        )
        frauds = known.select(
            "merchant_name",
            F.col("day").alias("_day"),
            (F.datediff(F.col("day"), F.to_date("transaction_date")) - delay).alias("_off"),
            F.lit(0).cast("long").alias("_n"),
            F.lit(1).cast("long").alias("_f"),
        ).where(F.col("_off").between(1, longest))
        rows = rows.unionByName(frauds)
    aggs = []
    for w in MERCHANT_WINDOWS:
        inside = F.col("_off") <= w
        n = F.sum(F.when(inside, F.col("_n")).otherwise(0))
        f = F.sum(F.when(inside, F.col("_f")).otherwise(0))
        aggs += [
            n.cast("long").alias(f"merchant_txn_count_{w}d"),
            f.cast("long").alias(f"merchant_fraud_count_{w}d"),
            F.when(n > 0, F.least(F.lit(1.0), f / n))
            .otherwise(0.0)
            .alias(f"merchant_fraud_share_{w}d"),
        ]
    return (
        rows.groupBy("merchant_name", "_day")
        .agg(*aggs)
        .select("merchant_name", "_day", *MERCHANT_FEATURE_COLUMNS)
    )
