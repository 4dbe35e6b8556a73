"""What the Spark assets read from and write to the lake for a range of days."""

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
# Files per day of a Spark dataset: one per core keeps a 1M-row day's write parallel.
FILES_PER_DAY = 2


class MissingPartition(Exception):
    pass


@dataclass
class RangeInputs:
    tx: DataFrame  # every transaction of the days
    rates: DataFrame  # FX of the days, their tail and their history
    source_versions: dict[dt.date, str]  # lake version of each day's transactions
    tail: DataFrame | None
    history: DataFrame | None
    notes: dict = field(default_factory=dict)


def _paths(lake: LakeResource, dataset: str, days: list[dt.date]) -> list[str]:
    return [p for p in (lake.spark_path(dataset, d) for d in days) if p is not None]


def load_range_inputs(spark: SparkSession, lake: LakeResource, days: list[dt.date]) -> RangeInputs:
    """One read of the range's transactions, the last hour before it, and the per-card
    daily rows of the 30 days before it (recomputed where stale or missing)."""
    versions = {}
    for day in days:
        manifest = lake.manifest("transactions", day)
        if manifest is None:
            raise MissingPartition(
                f"no lake partition {lake.partition_uri('transactions', day)}: "
                f"materialize s3_partitioned_parquet for {day} first"
            )
        versions[day] = manifest.version
    first = days[0]
    tx = spark.read.parquet(*_paths(lake, "transactions", days))
    earlier = history_days(first)
    rates = rates_frame(spark, {d: usd_rates_on(d) for d in [*earlier, *days]})

    previous = lake.spark_path("transactions", first - dt.timedelta(days=1))
    tail = None
    if previous is not None:
        since = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC) - dt.timedelta(
            seconds=VELOCITY_WINDOW_SECONDS
        )
        tail = spark.read.parquet(previous).where(F.col("transaction_date") >= F.lit(since))

    # A day's per-card row written from an older version of that day's transactions is
    # stale: it is recomputed from the raw partition instead of trusted.
    fresh, stale, missing = [], [], []
    for h in earlier:
        raw = lake.manifest("transactions", h)
        if raw is None:
            missing.append(h)
            continue
        stats = lake.manifest(DAILY_STATS, h)
        if stats is not None and stats.extra.get("source_version") == raw.version:
            fresh.append(h)
        else:
            stale.append(h)
    frames = []
    if fresh:
        frames.append(spark.read.parquet(*_paths(lake, DAILY_STATS, fresh)))
    if stale:
        raw_stale = spark.read.parquet(*_paths(lake, "transactions", stale))
        frames.append(customer_daily_stats(with_amount_usd(raw_stale, rates)))
    history = None
    for f in frames:
        history = f if history is None else history.unionByName(f)
    notes = {
        "days": len(days),
        "history_days_used": len(fresh) + len(stale),
        "history_days_recomputed": [d.isoformat() for d in stale],
        "history_days_missing": len(missing),
        "previous_day_present": previous is not None,
    }
    return RangeInputs(tx, rates, versions, tail, history, notes)


def write_days(
    df: DataFrame,
    lake: LakeResource,
    dataset: str,
    days: list[dt.date],
    day_column: F.Column,
    sort_key: str,
    extra_by_day: dict[dt.date, dict] | None = None,
) -> None:
    """Write a multi-day DataFrame once, then publish each day as its own partition.

    Rows are placed by a hash of the sort key and sorted within each file, so the same
    rows always give the same files.
    """
    with lake.spark_output() as scratch:
        bucket = F.pmod(F.hash(sort_key), F.lit(FILES_PER_DAY))
        (
            df.withColumn("_date", day_column)
            .repartition(FILES_PER_DAY * len(days), "_date", bucket)
            .sortWithinPartitions("_date", sort_key)
            .write.partitionBy("_date")
            .option("compression", "zstd")
            .parquet(f"{scratch}/out")
        )
        for day in days:
            # A day with no rows has no folder: it is published as an empty partition.
            folder = f"{scratch}/out/_date={day.isoformat()}"
            lake.publish_spark_folder(dataset, day, folder, (extra_by_day or {}).get(day))
