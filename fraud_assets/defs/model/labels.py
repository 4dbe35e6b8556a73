"""Where the model's labels come from: the fraud_feedback dataset in the lake."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from fraud_assets.defs.detection.lake_inputs import FEEDBACK
from fraud_assets.resources.lake import LakeResource


def feedback_reports(
    spark: SparkSession, lake: LakeResource, days: list[dt.date]
) -> DataFrame | None:
    """(transaction_id, is_fraud, reported_at) of the fraud_feedback partitions of `days`
    (those that exist), or None when there are none."""
    paths = [p for p in (lake.spark_path(FEEDBACK, d) for d in days) if p is not None]
    if not paths:
        return None
    return spark.read.parquet(*paths).select(
        "transaction_id", F.col("is_fraud").cast("boolean"), "reported_at", "source"
    )
