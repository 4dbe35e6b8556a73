"""What the Spark assets read from and write to the lake for a range of days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from fraud_assets.contract.currency import usd_rates_on
from fraud_assets.errors import InputError
from fraud_assets.logic.features import (
    CUSTOMER_DAILY_LAYOUT,
    VELOCITY_WINDOW_SECONDS,
    customer_daily_stats,
    history_days,
    rates_frame,
    with_amount_usd,
)
from fraud_assets.logic.labels import FEEDBACK_SCHEMA
from fraud_assets.logic.merchant_features import (
    DEFAULT_MERCHANT_DELAY_DAYS,
    MERCHANT_DAILY_LAYOUT,
    merchant_daily_stats,
    merchant_history_span,
)
from fraud_assets.resources.lake import LakeResource

DAILY_STATS = "customer_daily"
MERCHANT_DAILY = "merchant_daily"
FEEDBACK = "fraud_feedback"
# Files per day of a Spark dataset: one per core keeps a 1M-row day's write parallel.
FILES_PER_DAY = 2


class MissingPartition(InputError):
    pass


@dataclass
class RangeInputs:
    tx: DataFrame  # every transaction of the days
    rates: DataFrame  # FX of the days, their tail and their history
    source_versions: dict[dt.date, str]  # lake version of each day's transactions
    tail: DataFrame | None
    history: DataFrame | None  # customer_daily rows of the 30 days before the range
    merchant_history: DataFrame | None  # merchant_daily rows the merchant windows reach
    feedback: DataFrame | None  # fraud_feedback rows reported before the last day
    notes: dict = field(default_factory=dict)


def _paths(lake: LakeResource, dataset: str, days: list[dt.date]) -> list[str]:
    return [p for p in (lake.spark_path(dataset, d) for d in days) if p is not None]


def _daily_rows(
    spark: SparkSession,
    lake: LakeResource,
    dataset: str,
    layout: int,
    days: list[dt.date],
    compute: Callable[[DataFrame], DataFrame],
    rates: DataFrame,
) -> tuple[DataFrame | None, dict]:
    """The daily aggregate rows (`customer_daily` or `merchant_daily`) of `days`.

    A day's rows written from an older version of that day's transactions, or with an older
    column layout, are stale: they are recomputed from the raw partition instead of trusted.
    """
    fresh, stale, missing = [], [], []
    for h in days:
        raw = lake.manifest("transactions", h)
        if raw is None:
            missing.append(h)
            continue
        stats = lake.manifest(dataset, h)
        if (
            stats is not None
            and stats.extra.get("source_version") == raw.version
            and stats.extra.get("layout", 1) == layout
        ):
            fresh.append(h)
        else:
            stale.append(h)
    frames = []
    if fresh:
        frames.append(spark.read.parquet(*_paths(lake, dataset, fresh)))
    if stale:
        raw_stale = spark.read.parquet(*_paths(lake, "transactions", stale))
        frames.append(compute(with_amount_usd(raw_stale, rates)))
    rows = None
    for f in frames:
        rows = f if rows is None else rows.unionByName(f)
    notes = {"used": len(fresh) + len(stale), "recomputed": [d.isoformat() for d in stale]}
    notes["missing"] = len(missing)
    return rows, notes


def load_range_inputs(
    spark: SparkSession,
    lake: LakeResource,
    days: list[dt.date],
    merchant_delay_days: int = DEFAULT_MERCHANT_DELAY_DAYS,
) -> RangeInputs:
    """One read of the range's transactions, the last hour before it, the per-card daily
    rows of the 30 days before it, the per-merchant daily rows its merchant windows reach
    (recomputed where stale or missing) and the labels reported before its last day."""
    versions = {}
    for day in days:
        manifest = lake.manifest("transactions", day)
        if manifest is None:
            raise MissingPartition(
                f"no lake partition {lake.partition_uri('transactions', day)}: "
                f"materialize s3_partitioned_parquet for {day} first"
            )
        versions[day] = manifest.version
    first, last = days[0], days[-1]
    tx = spark.read.parquet(*_paths(lake, "transactions", days))
    earlier = history_days(first)
    reach, _ = merchant_history_span(merchant_delay_days)
    merchant_days = [
        first - dt.timedelta(days=i)
        for i in range(reach, 0, -1)
        if first - dt.timedelta(days=i) <= last - dt.timedelta(days=merchant_delay_days + 1)
    ]
    rates = rates_frame(
        spark, {d: usd_rates_on(d) for d in sorted({*earlier, *merchant_days, *days})}
    )

    previous = lake.spark_path("transactions", first - dt.timedelta(days=1))
    tail = None
    if previous is not None:
        since = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC) - dt.timedelta(
            seconds=VELOCITY_WINDOW_SECONDS
        )
        tail = spark.read.parquet(previous).where(F.col("transaction_date") >= F.lit(since))

    history, customer_notes = _daily_rows(
        spark, lake, DAILY_STATS, CUSTOMER_DAILY_LAYOUT, earlier, customer_daily_stats, rates
    )
    merchant_history, merchant_notes = _daily_rows(
        spark,
        lake,
        MERCHANT_DAILY,
        MERCHANT_DAILY_LAYOUT,
        merchant_days,
        merchant_daily_stats,
        rates,
    )
    # Labels reported on the days the merchant windows can still learn about, up to the
    # day before the last day (each day then keeps only those reported before it began).
    report_days = [first - dt.timedelta(days=i) for i in range(reach, -len(days) + 1, -1)]
    feedback_paths = _paths(lake, FEEDBACK, report_days)
    feedback = (
        spark.read.schema(FEEDBACK_SCHEMA).parquet(*feedback_paths) if feedback_paths else None
    )
    notes = {
        "days": len(days),
        "history_days_used": customer_notes["used"],
        "history_days_recomputed": customer_notes["recomputed"],
        "history_days_missing": customer_notes["missing"],
        "merchant_days_used": merchant_notes["used"],
        "merchant_days_recomputed": merchant_notes["recomputed"],
        "merchant_days_missing": merchant_notes["missing"],
        "merchant_delay_days": merchant_delay_days,
        "feedback_days_present": len(feedback_paths),
        "feedback_days_missing": len(report_days) - len(feedback_paths),
        "previous_day_present": previous is not None,
    }
    return RangeInputs(tx, rates, versions, tail, history, merchant_history, feedback, notes)


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
