"""Behavioural risk profile per customer (the seed's statistics and signals,
ORIGIN_FACTS.md), from the customer_daily rows of the PROFILE_DAYS days ending the day."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

PROFILE_DAYS = 30
# (signal, points, condition text): the seed's profile signals.
SIGNALS: tuple[tuple[str, int, str], ...] = (
    ("HIGH_VARIABILITY", 20, "stddev / mean > 2"),
    ("LARGE_MAX_AMOUNT", 15, "max amount > 10,000 USD"),
    ("MANY_COUNTRIES", 10, "more than 5 countries"),
)
_MONEY = T.DecimalType(14, 2)


def profile_days(day: dt.date) -> list[dt.date]:
    """The PROFILE_DAYS days ending `day`, oldest first."""
    return [day - dt.timedelta(days=i) for i in range(PROFILE_DAYS - 1, -1, -1)]


def customer_profiles(daily_rows: DataFrame, day: dt.date) -> DataFrame:
    """One profile per customer active in the 30 days ending `day` (customer_daily rows):
    count, sum, mean, sample stddev (NULL under 2 transactions), min, max, distinct
    countries and merchants, first and last transaction, and the risk signals with their
    score (+20 stddev/mean > 2, +15 max > 10000 USD, +10 more than 5 countries)."""
    first = day - dt.timedelta(days=PROFILE_DAYS - 1)
    rows = daily_rows.where(F.col("stats_day").between(F.lit(first), F.lit(day)))
    agg = rows.groupBy("customer_id").agg(
        F.sum("txn_count").alias("n"),
        F.sum("sum_usd").alias("s"),
        F.sum("sum_sq_usd").alias("q"),
        F.min("min_usd").alias("lo"),
        F.max("max_usd").alias("hi"),
        F.size(F.array_distinct(F.flatten(F.collect_list("countries")))).alias("countries"),
        F.size(F.array_distinct(F.flatten(F.collect_list("merchants")))).alias("merchants"),
        F.min("first_ts").alias("first_ts"),
        F.max("last_ts").alias("last_ts"),
    )
    s, q, n = F.col("s").cast("double"), F.col("q").cast("double"), F.col("n")
    mean = s / n
    std = F.when(
        (n >= 2) & (F.col("lo") != F.col("hi")),
        F.sqrt(F.greatest(F.lit(0.0), (q - s * mean) / (n - 1))),
    ).when(n >= 2, F.lit(0.0))
    with_stats = agg.select(
        "customer_id",
        F.lit(day).alias("profile_day"),
        n.cast("int").alias("txn_count_30d"),
        F.col("s").cast(T.DecimalType(16, 2)).alias("sum_usd_30d"),
        F.round(mean, 2).cast(_MONEY).alias("mean_usd_30d"),
        F.round(std, 2).cast(_MONEY).alias("stddev_usd_30d"),
        F.col("lo").cast(_MONEY).alias("min_usd_30d"),
        F.col("hi").cast(_MONEY).alias("max_usd_30d"),
        F.col("countries").cast("int").alias("country_count_30d"),
        F.col("merchants").cast("int").alias("merchant_count_30d"),
        F.col("first_ts").alias("first_txn_at_30d"),
        F.col("last_ts").alias("last_txn_at"),
        (std / mean).alias("_variability"),
    )
    fired = {
        "HIGH_VARIABILITY": F.coalesce(F.col("_variability") > 2, F.lit(False)),
        "LARGE_MAX_AMOUNT": F.col("max_usd_30d") > 10_000,
        "MANY_COUNTRIES": F.col("country_count_30d") > 5,
    }
    score = sum((F.when(fired[name], pts).otherwise(0) for name, pts, _ in SIGNALS), F.lit(0))
    return with_stats.select(
        *[c for c in with_stats.columns if c != "_variability"],
        score.cast("short").alias("behaviour_risk_score"),
        F.array_compact(
            F.array(*[F.when(fired[name], F.lit(name)) for name, _, _ in SIGNALS])
        ).alias("behaviour_signals"),
    )
