"""What the Spark assets read from the lake for one day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from fraud_assets.contract.currency import usd_rates_on
from fraud_assets.logic.features import (
    VELOCITY_WINDOW_SECONDS,
    customer_daily_stats,
    history_days,
    rates_frame,
    with_amount_usd,
)
from fraud_assets.resources.lake import LakeResource

DAILY_STATS = "customer_daily"


class MissingPartition(Exception):
    pass


@dataclass
class DayInputs:
    day_tx: DataFrame
    source_version: str
    tail: DataFrame | None
    history: DataFrame | None
    notes: dict = field(default_factory=dict)


def read_transactions(spark: SparkSession, lake: LakeResource, day: dt.date) -> DataFrame | None:
    path = lake.spark_path("transactions", day)
    return None if path is None else spark.read.parquet(path)


def day_rates(spark: SparkSession, day: dt.date) -> DataFrame:
    return rates_frame(spark, usd_rates_on(day))


def daily_stats_from_raw(spark: SparkSession, tx: DataFrame, day: dt.date) -> DataFrame:
    return customer_daily_stats(with_amount_usd(tx, day_rates(spark, day)))


def load_day_inputs(spark: SparkSession, lake: LakeResource, day: dt.date) -> DayInputs:
    manifest = lake.manifest("transactions", day)
    if manifest is None:
        raise MissingPartition(
            f"no lake partition {lake.partition_uri('transactions', day)}: materialize s3_partitioned_parquet for {day} first"
        )
    day_tx = spark.read.parquet(lake.spark_path("transactions", day))

    previous = read_transactions(spark, lake, day - dt.timedelta(days=1))
    tail = None
    if previous is not None:
        since = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) - dt.timedelta(
            seconds=VELOCITY_WINDOW_SECONDS
        )
        tail = previous.where(F.col("transaction_date") >= F.lit(since))

    # Each earlier day contributes its per-customer aggregate; one written from an older
    # version of that day's transactions is stale and recomputed from the raw partition.
    fresh_paths, recomputed, missing = [], [], []
    for h in history_days(day):
        raw = lake.manifest("transactions", h)
        if raw is None:
            missing.append(h)
            continue
        stats = lake.manifest(DAILY_STATS, h)
        if stats is not None and stats.extra.get("source_version") == raw.version:
            fresh_paths.append(lake.spark_path(DAILY_STATS, h))
        else:
            recomputed.append(h)
    frames = []
    if fresh_paths:
        frames.append(spark.read.parquet(*fresh_paths))
    for h in recomputed:
        frames.append(
            daily_stats_from_raw(spark, spark.read.parquet(lake.spark_path("transactions", h)), h)
        )
    history = None
    for f in frames:
        history = f if history is None else history.unionByName(f)
    notes = {
        "history_days_used": len(fresh_paths) + len(recomputed),
        "history_days_recomputed": [d.isoformat() for d in recomputed],
        "history_days_missing": len(missing),
        "previous_day_present": previous is not None,
    }
    return DayInputs(day_tx, manifest.version, tail, history, notes)
