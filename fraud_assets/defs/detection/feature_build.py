"""fraud_features' work for a range of days: compose the pure transforms, write each
dataset once (features, customer_daily, merchant_daily)."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pyarrow.parquet as pq
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from fraud_assets.db.profile_store import read_expectations
from fraud_assets.defs.detection.lake_inputs import (
    DAILY_STATS,
    MERCHANT_DAILY,
    RangeInputs,
    write_days,
)
from fraud_assets.defs.detection.spark_jobs import spark_job
from fraud_assets.logic.features import (
    CUSTOMER_DAILY_LAYOUT,
    HISTORY_DAYS,
    MODEL_FEATURES,
    build_features,
    customer_daily_stats,
    utc_day,
    with_amount_usd,
)
from fraud_assets.logic.merchant_features import (
    DEFAULT_MERCHANT_DELAY_DAYS,
    MERCHANT_DAILY_LAYOUT,
    MERCHANT_WINDOWS,
    merchant_daily_stats,
)
from fraud_assets.resources.lake import LakeResource
from fraud_assets.resources.postgres import PostgresResource

# The declared lookback of fraud_features: the card history or the merchant windows with
# the default delay, whichever reaches further back.
FEATURES_LOOKBACK_DAYS = max(HISTORY_DAYS, DEFAULT_MERCHANT_DELAY_DAYS + max(MERCHANT_WINDOWS))


class FeaturesConfig(dg.Config):
    # Merchant windows end this many days before the scored day: recent labels are still
    # incomplete (chargebacks arrive days to weeks later).
    merchant_delay_days: int = DEFAULT_MERCHANT_DELAY_DAYS


def write_feature_days(
    spark: SparkSession,
    lake: LakeResource,
    postgres: PostgresResource,
    days: list[dt.date],
    inputs: RangeInputs,
    merchant_delay_days: int,
) -> None:
    """Compute and publish fraud_features, customer_daily and merchant_daily for `days`.

    The USD-converted transactions feed three aggregations (features, per-card and
    per-merchant daily rows); the two daily tables are small and cached, so each dataset
    is written once and nothing is read back.
    """
    tx_usd = with_amount_usd(inputs.tx, inputs.rates)
    # The days' own daily rows feed both their features and later days: computed once.
    daily = customer_daily_stats(tx_usd).cache()
    merchant = merchant_daily_stats(tx_usd).cache()
    with spark_job(spark, "fraud_features: KYC expectations"):
        expectations = read_expectations(spark, postgres)
    features = build_features(
        inputs.tx,
        inputs.rates,
        inputs.tail,
        inputs.history,
        own_stats=daily,
        merchant_history=inputs.merchant_history,
        own_merchant_stats=merchant,
        feedback=inputs.feedback,
        expectations=expectations,
        merchant_delay_days=merchant_delay_days,
    )
    sources = {d: {"source_version": v} for d, v in inputs.source_versions.items()}
    with spark_job(spark, "fraud_features: per-card and merchant windows, write fraud_features"):
        write_days(
            features,
            lake,
            "fraud_features",
            days,
            utc_day(F.col("transaction_date")),
            "transaction_id",
            sources,
        )
    with spark_job(spark, "fraud_features: write customer_daily"):
        write_days(
            daily,
            lake,
            DAILY_STATS,
            days,
            F.col("stats_day"),
            "customer_id",
            {d: {**e, "layout": CUSTOMER_DAILY_LAYOUT} for d, e in sources.items()},
        )
    with spark_job(spark, "fraud_features: write merchant_daily"):
        write_days(
            merchant,
            lake,
            MERCHANT_DAILY,
            days,
            F.col("stats_day"),
            "merchant_name",
            {d: {**e, "layout": MERCHANT_DAILY_LAYOUT} for d, e in sources.items()},
        )
    daily.unpersist()
    merchant.unpersist()


def model_feature_nulls(lake: LakeResource, days: list[dt.date]) -> dict[dt.date, dict[str, int]]:
    """NULLs per model feature and day, from the Parquet footers' statistics: no data is
    read back (a file without statistics for a column counts as -1, i.e. unknown)."""
    out = {}
    for day in days:
        folder = lake.local_partition("fraud_features", day)
        counts = dict.fromkeys(MODEL_FEATURES, 0)
        for path in sorted(folder.glob("*.parquet")) if folder else []:
            meta = pq.ParquetFile(path).metadata
            names = [meta.schema.column(i).name for i in range(meta.num_columns)]
            for g in range(meta.num_row_groups):
                group = meta.row_group(g)
                for c in MODEL_FEATURES:
                    stats = group.column(names.index(c)).statistics if c in names else None
                    if stats is None or not stats.has_null_count:
                        counts[c] = -1
                    elif counts[c] >= 0:
                        counts[c] += stats.null_count
        out[day] = counts
    return out
