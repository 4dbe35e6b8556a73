"""Fraud labels and the one availability rule that governs every use of them.

A label is what the bank learns after a transaction: a chargeback or a confirmed fraud
(`is_fraud = true`), or a reversal / an analyst's FALSE_POSITIVE (`is_fraud = false`).
Each report carries `reported_at`, the moment the bank learned it.

The availability rule, used by features, training and evaluation alike:

    a label may be used for day D only if it was reported before D began
    (reported_at < D 00:00:00 UTC); among those, the latest report wins.

A report that arrives during D or later changes nothing computed for D.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

# Where a label came from. At the same instant a chargeback (the bank's settlement) outranks
# an analyst's review, and within one source a fraud report outranks a reversal: the order
# must be total so that "the latest report wins" is deterministic.
SOURCES: tuple[str, ...] = ("review", "chargeback")

# Columns of fraud_feedback (one row per transaction per report day), documented.
FEEDBACK_COLUMNS: dict[str, str] = {
    "transaction_id": "The labelled transaction.",
    "is_fraud": "true: confirmed fraud or chargeback; false: reversal or FALSE_POSITIVE review.",
    "reported_at": "When the bank learned it (UTC): the chargeback's reported_at or the review's reviewed_at.",
    "source": "chargeback or review.",
    "transaction_date": "Event time of the transaction (UTC); NULL when it is not in PostgreSQL.",
    "customer_id": "The card; NULL when the transaction is unknown.",
    "merchant_name": "The merchant; NULL when the transaction is unknown.",
}

FEEDBACK_SCHEMA = T.StructType(
    [
        T.StructField("transaction_id", T.StringType(), False),
        T.StructField("is_fraud", T.BooleanType(), False),
        T.StructField("reported_at", T.TimestampType(), False),
        T.StructField("source", T.StringType(), False),
        T.StructField("transaction_date", T.TimestampType(), True),
        T.StructField("customer_id", T.StringType(), True),
        T.StructField("merchant_name", T.StringType(), True),
    ]
)


def day_start(day: Column) -> Column:
    """D 00:00:00 UTC as a timestamp (the session time zone is UTC)."""
    return F.to_timestamp(day)


def available_before(reported_at: Column, day: Column) -> Column:
    """THE availability rule: a label reported at `reported_at` may be used for `day`."""
    return reported_at < day_start(day)


def _source_rank(source: Column) -> Column:
    ranks = F.create_map(*[F.lit(x) for i, s in enumerate(SOURCES) for x in (s, i)])
    return F.coalesce(F.try_element_at(ranks, source), F.lit(-1))


def latest_reports(reports: DataFrame, keys: tuple[str, ...] = ("transaction_id",)) -> DataFrame:
    """One row per `keys`: the latest report (reported_at, then source rank, then fraud)."""
    order = F.struct(
        F.col("reported_at"), _source_rank(F.col("source")), F.col("is_fraud").cast("int")
    )
    others = [c for c in reports.columns if c not in keys]
    return (
        reports.groupBy(*keys)
        .agg(F.max_by(F.struct(*others), order).alias("_r"))
        .select(*keys, *[F.col(f"_r.{c}").alias(c) for c in others])
    )


def labels_available(feedback: DataFrame, days: DataFrame) -> DataFrame:
    """For every day D of `days` (column `day`): each transaction's label as known before D
    began, the latest report winning. Output: `day` plus the feedback columns."""
    candidates = feedback.crossJoin(F.broadcast(days.select("day").distinct())).where(
        available_before(F.col("reported_at"), F.col("day"))
    )
    return latest_reports(candidates, ("day", "transaction_id"))


def labels_available_on(spark: SparkSession, feedback: DataFrame, day: dt.date) -> DataFrame:
    """The labels usable for one day D (the rule above for a single day)."""
    days = spark.createDataFrame([(day,)], T.StructType([T.StructField("day", T.DateType())]))
    return labels_available(feedback, days).drop("day")
