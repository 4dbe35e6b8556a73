"""Per-transaction fraud features for one UTC day: pure DataFrame -> DataFrame transforms.

History is kept cheap: instead of re-reading 30 days of raw transactions, each day leaves
one row per customer (`customer_daily_stats`), and a day's features combine the 30 rows
before it. The day's cost therefore follows the day's size, not the lookback's length.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from fraud_assets.contract.geography import COUNTRY_TIME_ZONES

VELOCITY_WINDOW_SECONDS = 3600
HISTORY_DAYS = 30
_MICROS = 1_000_000
USD_TYPE = T.DecimalType(14, 2)

# Columns of fraud_features, documented (README "Features").
FEATURE_COLUMNS: dict[str, str] = {
    "transaction_id": "Transaction key.",
    "customer_id": "The card.",
    "transaction_date": "Event time (UTC).",
    "amount": "Original amount.",
    "currency": "Original currency (NULL read as USD).",
    "amount_usd": "Amount in USD at the day's FX rate, rounded to cents.",
    "merchant_name": "The terminal.",
    "merchant_category": "Merchant category.",
    "location_country": "Country of the transaction.",
    "is_online": "Card not present.",
    "local_hour": "Hour 0-23 at location_country's time zone.",
    "velocity_1h": "Customer's transactions in [t - 3600 s, t], this one included.",
    "hist_txn_count_30d": "Customer's transactions in the 30 days before this day.",
    "hist_mean_usd_30d": "Their mean USD amount.",
    "hist_std_usd_30d": "Their sample standard deviation (NULL if fewer than 2 or all equal).",
    "amount_zscore_30d": "|amount_usd - mean| / std, NULL when std is NULL.",
    "prev_country": "Country of the customer's previous transaction (within 30 days).",
    "prev_gap_seconds": "Seconds since that previous transaction.",
}


def rates_frame(spark: SparkSession, rates_by_day: dict[dt.date, dict[str, Decimal]]) -> DataFrame:
    """(rate_day, currency, usd_per_unit): the FX rate of each currency on each day."""
    schema = T.StructType(
        [
            T.StructField("rate_day", T.DateType(), False),
            T.StructField("currency", T.StringType(), False),
            T.StructField("usd_per_unit", T.DecimalType(20, 10), False),
        ]
    )
    rows = [
        (day, c, r) for day, rates in sorted(rates_by_day.items()) for c, r in sorted(rates.items())
    ]
    return spark.createDataFrame(rows, schema)


def utc_day(ts: Column) -> Column:
    return F.to_date(ts)


def with_amount_usd(tx: DataFrame, rates: DataFrame) -> DataFrame:
    """amount_usd = amount x its day's USD rate, to the cent. NULL currency means USD."""
    joined = tx.join(
        F.broadcast(rates.withColumnRenamed("currency", "_ccy")),
        (F.coalesce(tx["currency"], F.lit("USD")) == F.col("_ccy"))
        & (utc_day(tx["transaction_date"]) == F.col("rate_day")),
        "left",
    )
    usd = F.round(F.col("amount").cast(T.DecimalType(14, 2)) * F.col("usd_per_unit"), 2).cast(
        USD_TYPE
    )
    return joined.withColumn("amount_usd", usd).drop("_ccy", "usd_per_unit", "rate_day")


def local_hour(ts: Column, country: Column) -> Column:
    """Hour of `ts` (UTC) on the clock of `country`; NULL for a country without a zone."""
    zones = F.create_map(*[F.lit(x) for kv in sorted(COUNTRY_TIME_ZONES.items()) for x in kv])
    zone = F.try_element_at(zones, country)
    return F.when(zone.isNotNull(), F.hour(F.from_utc_timestamp(ts, zone)))


def customer_daily_stats(tx_usd: DataFrame) -> DataFrame:
    """One row per customer per UTC day (`stats_day`): what later days need of it."""
    last = F.max_by(
        F.struct("transaction_date", "transaction_id", "location_country"),
        F.struct("transaction_date", "transaction_id"),
    )
    return (
        tx_usd.groupBy(utc_day(F.col("transaction_date")).alias("stats_day"), "customer_id")
        .agg(
            F.count(F.lit(1)).alias("txn_count"),
            F.sum("amount_usd").cast(T.DecimalType(24, 2)).alias("sum_usd"),
            # Exact decimal sums: the result cannot depend on the order Spark adds rows in,
            # so a day's statistics are identical in a one-day run and in a backfill.
            F.sum(F.col("amount_usd") * F.col("amount_usd"))
            .cast(T.DecimalType(38, 4))
            .alias("sum_sq_usd"),
            F.min("amount_usd").alias("min_usd"),
            F.max("amount_usd").alias("max_usd"),
            last.alias("_last"),
        )
        .select(
            "stats_day",
            "customer_id",
            "txn_count",
            "sum_usd",
            "sum_sq_usd",
            "min_usd",
            "max_usd",
            F.col("_last.transaction_date").alias("last_ts"),
            F.col("_last.transaction_id").alias("last_transaction_id"),
            F.col("_last.location_country").alias("last_country"),
        )
    )


def trailing_customer_stats(tx: DataFrame, history: DataFrame) -> DataFrame:
    """Per (customer, day) of `tx`: mean and sample stddev of the customer's USD amounts
    over the HISTORY_DAYS days before that day, from the daily rows in `history`.

    The stddev is NULL with fewer than 2 transactions or when every amount was equal
    (decided exactly from min = max, not from a floating-point variance near zero).
    """
    targets = tx.select("customer_id", utc_day(F.col("transaction_date")).alias("_day")).distinct()
    h = history.alias("h")
    window = targets.join(
        h,
        (F.col("h.customer_id") == targets["customer_id"])
        & (F.col("h.stats_day") >= F.date_sub(targets["_day"], HISTORY_DAYS))
        & (F.col("h.stats_day") < targets["_day"]),
    )
    agg = window.groupBy(targets["customer_id"], targets["_day"]).agg(
        F.sum("h.txn_count").alias("n"),
        F.sum("h.sum_usd").cast("double").alias("s"),
        F.sum("h.sum_sq_usd").cast("double").alias("q"),
        F.min("h.min_usd").alias("lo"),
        F.max("h.max_usd").alias("hi"),
    )
    mean = F.col("s") / F.col("n")
    variance = F.greatest(F.lit(0.0), (F.col("q") - F.col("s") * mean) / (F.col("n") - 1))
    evaluable = (F.col("n") >= 2) & (F.col("lo") != F.col("hi"))
    return agg.select(
        "customer_id",
        "_day",
        F.col("n").alias("hist_txn_count_30d"),
        mean.alias("hist_mean_usd_30d"),
        F.when(evaluable, F.sqrt(variance)).alias("hist_std_usd_30d"),
    )


_TODAY, _TAIL, _STUB = "today", "tail", "stub"


def with_sequence_features(
    tx: DataFrame, tail: DataFrame | None, history: DataFrame | None
) -> DataFrame:
    """velocity_1h, prev_country and prev_gap_seconds in one pass per card.

    - velocity_1h: the card's transactions in [t - 3600 s, t], itself counted; `tail` (the
      last hour before the first day) lets the count cross midnight.
    - prev_*: the card's previous transaction in (transaction_date, transaction_id) order,
      across days; the last transaction of the latest `history` day stands in for
      everything before the first day (it may repeat a tail row: identical, so harmless).

    One union, one shuffle by card, two sorted windows; the day's rows carry all their
    columns through, so nothing is joined back.
    """
    rows = tx.withColumn("_kind", F.lit(_TODAY))
    if tail is not None:
        rows = rows.unionByName(
            tail.select(
                "transaction_id", "customer_id", "transaction_date", "location_country"
            ).withColumn("_kind", F.lit(_TAIL)),
            allowMissingColumns=True,
        )
    if history is not None:
        latest = history.groupBy("customer_id").agg(
            F.max_by(
                F.struct("last_ts", "last_transaction_id", "last_country"),
                F.struct("last_ts", "last_transaction_id"),
            ).alias("l")
        )
        rows = rows.unionByName(
            latest.select(
                F.col("l.last_transaction_id").alias("transaction_id"),
                "customer_id",
                F.col("l.last_ts").alias("transaction_date"),
                F.col("l.last_country").alias("location_country"),
                F.lit(_STUB).alias("_kind"),
            ),
            allowMissingColumns=True,
        )
    micros = F.unix_micros("transaction_date")
    recent = (
        Window.partitionBy("customer_id")
        .orderBy(micros)
        .rangeBetween(-VELOCITY_WINDOW_SECONDS * _MICROS, 0)
    )
    ordered = Window.partitionBy("customer_id").orderBy("transaction_date", "transaction_id")
    return (
        rows.withColumn(
            "velocity_1h",
            F.sum(F.when(F.col("_kind") != _STUB, 1).otherwise(0)).over(recent).cast("long"),
        )
        .withColumn("prev_country", F.lag("location_country").over(ordered))
        .withColumn("prev_gap_seconds", (micros - F.lag(micros).over(ordered)) / _MICROS)
        .where(F.col("_kind") == _TODAY)
        .drop("_kind")
    )


def build_features(
    tx: DataFrame,
    rates: DataFrame,
    tail: DataFrame | None = None,
    history: DataFrame | None = None,
    own_stats: DataFrame | None = None,
) -> DataFrame:
    """Features for every transaction of `tx` (one or more consecutive UTC days).

    `tail`: the last hour before the first day (velocity crosses midnight).
    `history`: `customer_daily_stats` rows of the HISTORY_DAYS days before the first day;
    the days of `tx` itself are added (`own_stats` when the caller already has them), so a
    range is computed in one pass.
    """
    tx = with_amount_usd(tx, rates).withColumn(
        "local_hour", local_hour(F.col("transaction_date"), F.col("location_country"))
    )
    own = own_stats if own_stats is not None else customer_daily_stats(tx)
    stats_rows = own if history is None else history.unionByName(own)
    tx = with_sequence_features(tx, tail, history)
    tx = tx.withColumn("_day", utc_day(F.col("transaction_date"))).join(
        trailing_customer_stats(tx, stats_rows), ["customer_id", "_day"], "left"
    )
    tx = tx.withColumn("hist_txn_count_30d", F.coalesce("hist_txn_count_30d", F.lit(0)))
    zscore = F.when(
        F.col("hist_std_usd_30d") > 0,
        F.abs(F.col("amount_usd").cast("double") - F.col("hist_mean_usd_30d"))
        / F.col("hist_std_usd_30d"),
    )
    return tx.withColumn("amount_zscore_30d", zscore).select(*FEATURE_COLUMNS)


def history_days(first_day: dt.date) -> list[dt.date]:
    """The HISTORY_DAYS days before `first_day`, oldest first."""
    return [first_day - dt.timedelta(days=i) for i in range(HISTORY_DAYS, 0, -1)]


# The numeric columns the learned model reads (fraud_assets/logic/model.py). Provisional:
# today's rule inputs; the per-customer and per-merchant window features extend it.
MODEL_FEATURES: tuple[str, ...] = (
    "amount_usd",
    "is_online",
    "local_hour",
    "velocity_1h",
    "hist_txn_count_30d",
    "hist_mean_usd_30d",
    "hist_std_usd_30d",
    "amount_zscore_30d",
    "prev_gap_seconds",
)
