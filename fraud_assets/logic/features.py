"""Per-transaction fraud features for one or more UTC days: pure DataFrame transforms.

History is kept cheap: instead of re-reading 30 days of raw transactions, each day leaves
one row per customer (`customer_daily_stats`) and one per merchant
(`merchant_daily_stats`, in merchant_features.py), and a day's features combine at most 30
such rows per key. The day's cost therefore follows the day's size, not the lookback.

Shape of the computation (docs/features.md): the day's transactions, the last hour before
it, one "stub" row per card (its last earlier transaction) and one "history" row per
(card, day) are unioned and shuffled ONCE by card; every per-card feature is a window over
that one shuffle (no join back). Merchant windows and KYC expectations are small tables
joined by broadcast.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from fraud_assets.contract.geography import COUNTRY_TIME_ZONES
from fraud_assets.logic.merchant_features import (
    DEFAULT_MERCHANT_DELAY_DAYS,
    MERCHANT_FEATURE_COLUMNS,
    merchant_daily_stats,
    merchant_window_stats,
)

VELOCITY_WINDOW_SECONDS = 3600
HISTORY_DAYS = 30
CUSTOMER_WINDOWS = (1, 7, 30)  # calendar days, today included (see cust_txn_count_*)
NO_PREVIOUS_SECONDS = HISTORY_DAYS * 86_400  # secs_since_prev_txn when there is none
Z_CAP = 50.0  # amount_z_30d is capped: one huge outlier must not dominate a model
_MICROS = 1_000_000
USD_TYPE = T.DecimalType(14, 2)
# Bumped when customer_daily's columns change: older partitions are then recomputed.
CUSTOMER_DAILY_LAYOUT = 2

# The seed rules' inputs (CONTRACT.md), unchanged.
RULE_INPUT_COLUMNS: dict[str, str] = {
    "transaction_id": "Transaction key.",
    "customer_id": "The card.",
    "transaction_date": "Event time (UTC).",
    "day": "UTC day of the transaction (the partition).",
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
    "expected_max_amount": (
        "KYC expectation from customer_profiles.expected_max_amount (USD); NULL when the "
        "customer has none (the PROFILE_DEVIATION rule then does not apply)."
    ),
}

# Learned-model inputs: numeric, never NULL (fill values documented per column).
CUSTOMER_FEATURE_COLUMNS: dict[str, str] = {
    **{
        f"cust_txn_count_{w}d": (
            f"Card's transactions in the last {w} calendar day(s), today included up to and "
            "including this transaction ((time, id) order)."
        )
        for w in CUSTOMER_WINDOWS
    },
    **{
        f"cust_mean_usd_{w}d": f"Mean USD amount of those {w}-day transactions (this one included)."
        for w in CUSTOMER_WINDOWS
    },
    "amount_to_mean_30d": (
        "amount_usd / the card's mean USD amount over the 30 days before today; 1.0 when the "
        "card has no history (hist_txn_count_30d = 0 tells the cases apart)."
    ),
    "amount_z_30d": f"amount_zscore_30d, 0 when not evaluable, capped at {Z_CAP:g}.",
    "secs_since_prev_txn": (
        "Seconds since the card's previous transaction (across days); "
        f"{NO_PREVIOUS_SECONDS} (30 days) when there is none within 30 days."
    ),
    "country_differs_from_prev": "1 when the previous transaction was in another country, else 0.",
    "cust_countries_7d": "Distinct countries of the card in the last 7 calendar days, this one included.",
    "cust_countries_30d": "Same over 30 calendar days.",
    "cust_merchants_7d": "Distinct merchants of the card in the last 7 calendar days, this one included.",
    "cust_merchants_30d": "Same over 30 calendar days.",
}

CALENDAR_FEATURE_COLUMNS: dict[str, str] = {
    "is_weekend": "1 on Saturday or Sunday at location_country's local time, else 0.",
    "is_night": "1 when the local hour is 22-23 or 0-5, else 0.",
}

OTHER_MODEL_COLUMNS: dict[str, str] = {
    "amount_usd_f": "amount_usd as a double.",
    "velocity_1h_f": "velocity_1h as a double.",
    "hist_txn_count_30d_f": "hist_txn_count_30d as a double.",
    "is_online_f": "1 when the card was not present (is_online), else 0.",
}

FEATURE_COLUMNS: dict[str, str] = {
    **RULE_INPUT_COLUMNS,
    **OTHER_MODEL_COLUMNS,
    **CUSTOMER_FEATURE_COLUMNS,
    **MERCHANT_FEATURE_COLUMNS,
    **CALENDAR_FEATURE_COLUMNS,
}

# The numeric columns a learned model may use: every one documented in FEATURE_COLUMNS,
# never NULL, computed only from what was known before the transaction (labels: only those
# reported before the day began, logic/labels.py).
MODEL_FEATURES: tuple[str, ...] = (
    *OTHER_MODEL_COLUMNS,
    *CUSTOMER_FEATURE_COLUMNS,
    *MERCHANT_FEATURE_COLUMNS,
    *CALENDAR_FEATURE_COLUMNS,
)


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


def _zone(country: Column) -> Column:
    zones = F.create_map(*[F.lit(x) for kv in sorted(COUNTRY_TIME_ZONES.items()) for x in kv])
    return F.try_element_at(zones, country)


def local_time(ts: Column, country: Column) -> Column:
    """`ts` (UTC) on the clock of `country`; NULL for a country without a zone."""
    zone = _zone(country)
    return F.when(zone.isNotNull(), F.from_utc_timestamp(ts, zone))


def local_hour(ts: Column, country: Column) -> Column:
    """Hour of `ts` (UTC) on the clock of `country`; NULL for a country without a zone."""
    return F.hour(local_time(ts, country))


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
            F.min("transaction_date").alias("first_ts"),
            last.alias("_last"),
            # Exact small sets (sorted, so the file is deterministic): distinct counts over
            # 7 or 30 days are unions of these, never a re-read of raw transactions.
            F.array_sort(F.collect_set("location_country")).alias("countries"),
            F.array_sort(F.collect_set("merchant_name")).alias("merchants"),
        )
        .select(
            "stats_day",
            "customer_id",
            "txn_count",
            "sum_usd",
            "sum_sq_usd",
            "min_usd",
            "max_usd",
            "first_ts",
            F.col("_last.transaction_date").alias("last_ts"),
            F.col("_last.transaction_id").alias("last_transaction_id"),
            F.col("_last.location_country").alias("last_country"),
            "countries",
            "merchants",
        )
    )


def _distinct_union(arrays: Column) -> Column:
    return F.array_distinct(F.flatten(arrays))


def customer_history(targets: DataFrame, stats_rows: DataFrame) -> DataFrame:
    """Per (customer_id, _day) of `targets`: what the card did on the HISTORY_DAYS days
    before that day, from its daily rows (30 rows per card at most).

    - hist_*: count, mean and sample stddev of USD amounts over the 30 days before the day
      (the STATISTICAL_ANOMALY inputs). The stddev is NULL with fewer than 2 transactions
      or when every amount was equal (decided exactly from min = max).
    - _h_n{w}, _h_s{w}: count and USD sum over the w - 1 days before the day, and the sets of
      countries and merchants over them, for the calendar windows that end today.
    """
    h = stats_rows.alias("h")
    back = F.datediff(targets["_day"], F.col("h.stats_day"))  # 1 .. HISTORY_DAYS
    joined = targets.join(
        h,
        (F.col("h.customer_id") == targets["customer_id"])
        & (F.col("h.stats_day") >= F.date_sub(targets["_day"], HISTORY_DAYS))
        & (F.col("h.stats_day") < targets["_day"]),
    )
    windowed = [w for w in CUSTOMER_WINDOWS if w > 1]
    aggs = [
        F.sum("h.txn_count").alias("n"),
        F.sum("h.sum_usd").cast("double").alias("s"),
        F.sum("h.sum_sq_usd").cast("double").alias("q"),
        F.min("h.min_usd").alias("lo"),
        F.max("h.max_usd").alias("hi"),
    ]
    for w in windowed:
        inside = back <= w - 1
        aggs += [
            F.sum(F.when(inside, F.col("h.txn_count")).otherwise(0)).alias(f"_h_n{w}"),
            F.sum(F.when(inside, F.col("h.sum_usd"))).cast("double").alias(f"_h_s{w}"),
            _distinct_union(F.collect_list(F.when(inside, F.col("h.countries")))).alias(
                f"_h_countries{w}"
            ),
            _distinct_union(F.collect_list(F.when(inside, F.col("h.merchants")))).alias(
                f"_h_merchants{w}"
            ),
        ]
    agg = joined.groupBy(targets["customer_id"], targets["_day"]).agg(*aggs)
    mean = F.col("s") / F.col("n")
    variance = F.greatest(F.lit(0.0), (F.col("q") - F.col("s") * mean) / (F.col("n") - 1))
    evaluable = (F.col("n") >= 2) & (F.col("lo") != F.col("hi"))
    return agg.select(
        "customer_id",
        "_day",
        F.col("n").alias("hist_txn_count_30d"),
        mean.alias("hist_mean_usd_30d"),
        F.when(evaluable, F.sqrt(variance)).alias("hist_std_usd_30d"),
        *[
            c
            for w in windowed
            for c in (f"_h_n{w}", f"_h_s{w}", f"_h_countries{w}", f"_h_merchants{w}")
        ],
    )


# Backwards-compatible name: the 30-day statistics of the cards of `tx`.
def trailing_customer_stats(tx: DataFrame, history: DataFrame) -> DataFrame:
    targets = tx.select("customer_id", utc_day(F.col("transaction_date")).alias("_day")).distinct()
    return customer_history(targets, history).select(
        "customer_id", "_day", "hist_txn_count_30d", "hist_mean_usd_30d", "hist_std_usd_30d"
    )


_TODAY, _TAIL, _STUB, _HIST = "today", "tail", "stub", "hist"
_HIST_COLUMNS = ("hist_txn_count_30d", "hist_mean_usd_30d", "hist_std_usd_30d")


def with_sequence_features(
    tx: DataFrame,
    tail: DataFrame | None,
    history: DataFrame | None,
    card_history: DataFrame | None = None,
) -> DataFrame:
    """Every per-card feature in one shuffle by card.

    - velocity_1h: the card's transactions in [t - 3600 s, t], itself counted; `tail` (the
      last hour before the first day) lets the count cross midnight.
    - prev_*: the card's previous transaction in (transaction_date, transaction_id) order,
      across days; the last transaction of the latest `history` day stands in for
      everything before the first day (it may repeat a tail row: identical, so harmless).
    - with `card_history` (customer_history's rows): the hist_* statistics and the
      calendar-window counts, means and distinct countries/merchants, today's part running
      up to this transaction.

    One union, one shuffle by card, sorted windows; the day's rows carry all their columns
    through, so nothing is joined back.
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
    if card_history is not None:
        # One row per (card, day) at the day's first instant with the empty id: it sorts
        # before every transaction of its day, counts for nothing, and hands its values to
        # the day's rows through a running window.
        rows = rows.unionByName(
            card_history.withColumn("transaction_date", F.to_timestamp("_day"))
            .withColumn("transaction_id", F.lit(""))
            .withColumn("_kind", F.lit(_HIST))
            .drop("_day"),
            allowMissingColumns=True,
        )
    rows = rows.withColumn("_day", utc_day(F.col("transaction_date")))
    today = F.col("_kind") == _TODAY
    micros = F.unix_micros("transaction_date")
    recent = (
        Window.partitionBy("customer_id")
        .orderBy(micros)
        .rangeBetween(-VELOCITY_WINDOW_SECONDS * _MICROS, 0)
    )
    # (card) ordered by (_day, time, id) and (card, _day) ordered by (time, id) need the same
    # sort, so the per-day running window costs no extra sort.
    ordered = Window.partitionBy("customer_id").orderBy(
        "_day", "transaction_date", "transaction_id"
    )
    before = ordered.rowsBetween(Window.unboundedPreceding, -1)
    so_far = (
        Window.partitionBy("customer_id", "_day")
        .orderBy("transaction_date", "transaction_id")
        .rowsBetween(Window.unboundedPreceding, Window.currentRow)
    )
    previous = F.last(
        F.when(F.col("_kind") != _HIST, F.struct("location_country", micros.alias("us"))),
        ignorenulls=True,
    ).over(before)
    out = (
        rows.withColumn(
            "velocity_1h",
            F.sum(F.when(F.col("_kind").isin(_TODAY, _TAIL), 1).otherwise(0))
            .over(recent)
            .cast("long"),
        )
        .withColumn("_prev", previous)
        .withColumn("prev_country", F.col("_prev.location_country"))
        .withColumn("prev_gap_seconds", (micros - F.col("_prev.us")) / _MICROS)
    )
    if card_history is not None:
        windowed = [w for w in CUSTOMER_WINDOWS if w > 1]
        carried = [
            *_HIST_COLUMNS,
            *[f"_h_{k}{w}" for w in windowed for k in ("n", "s", "countries", "merchants")],
        ]
        out = out.select(
            *[c for c in out.columns if c not in carried],
            *[F.first(c, ignorenulls=True).over(so_far).alias(c) for c in carried],
            F.sum(F.when(today, 1).otherwise(0)).over(so_far).alias("_r_n"),
            F.sum(F.when(today, F.col("amount_usd"))).over(so_far).cast("double").alias("_r_s"),
            F.collect_set(F.when(today, F.col("location_country"))).over(so_far).alias("_r_c"),
            F.collect_set(F.when(today, F.col("merchant_name"))).over(so_far).alias("_r_m"),
        )
    return out.where(today).drop("_kind", "_prev")


def with_customer_windows(df: DataFrame) -> DataFrame:
    """The calendar-window columns from with_sequence_features' running and history parts."""
    empty = F.array().cast("array<string>")
    cols = {
        "cust_txn_count_1d": F.col("_r_n").cast("long"),
        "cust_mean_usd_1d": F.col("_r_s") / F.col("_r_n"),
    }
    for w in (w for w in CUSTOMER_WINDOWS if w > 1):
        n = F.coalesce(F.col(f"_h_n{w}"), F.lit(0)) + F.col("_r_n")
        s = F.coalesce(F.col(f"_h_s{w}"), F.lit(0.0)) + F.col("_r_s")
        cols[f"cust_txn_count_{w}d"] = n.cast("long")
        cols[f"cust_mean_usd_{w}d"] = s / n
        for kind, running in (("countries", "_r_c"), ("merchants", "_r_m")):
            history = F.coalesce(F.col(f"_h_{kind}{w}"), empty)
            cols[f"cust_{kind}_{w}d"] = F.size(F.array_union(history, F.col(running))).cast("long")
    return df.withColumns(cols)


def with_calendar(df: DataFrame) -> DataFrame:
    local = F.coalesce(
        local_time(F.col("transaction_date"), F.col("location_country")), F.col("transaction_date")
    )
    hour = F.hour(local)
    return df.withColumns(
        {
            "is_weekend": F.dayofweek(local).isin(1, 7).cast("int"),
            "is_night": ((hour >= 22) | (hour < 6)).cast("int"),
        }
    )


def with_model_columns(df: DataFrame) -> DataFrame:
    z = F.col("amount_zscore_30d")
    mean = F.col("hist_mean_usd_30d")
    return df.withColumns(
        {
            "amount_usd_f": F.col("amount_usd").cast("double"),
            "velocity_1h_f": F.col("velocity_1h").cast("double"),
            "hist_txn_count_30d_f": F.col("hist_txn_count_30d").cast("double"),
            "is_online_f": F.coalesce(F.col("is_online").cast("int"), F.lit(0)).cast("double"),
            "amount_to_mean_30d": F.when(
                mean > 0, F.col("amount_usd").cast("double") / mean
            ).otherwise(1.0),
            # least() skips NULLs, so the "not evaluable" case is decided first.
            "amount_z_30d": F.when(z.isNull(), F.lit(0.0)).otherwise(F.least(z, F.lit(Z_CAP))),
            # least() skips NULLs: no previous transaction gives the 30-day cap.
            "secs_since_prev_txn": F.least(
                F.col("prev_gap_seconds"), F.lit(float(NO_PREVIOUS_SECONDS))
            ),
            "country_differs_from_prev": F.coalesce(
                (F.col("prev_country") != F.col("location_country")).cast("int"), F.lit(0)
            ),
        }
    )


def build_features(
    tx: DataFrame,
    rates: DataFrame,
    tail: DataFrame | None = None,
    history: DataFrame | None = None,
    own_stats: DataFrame | None = None,
    *,
    merchant_history: DataFrame | None = None,
    own_merchant_stats: DataFrame | None = None,
    feedback: DataFrame | None = None,
    expectations: DataFrame | None = None,
    merchant_delay_days: int = DEFAULT_MERCHANT_DELAY_DAYS,
) -> DataFrame:
    """Features for every transaction of `tx` (one or more consecutive UTC days).

    `tail`: the last hour before the first day (velocity crosses midnight).
    `history`: `customer_daily_stats` rows of the HISTORY_DAYS days before the first day;
    the days of `tx` itself are added (`own_stats` when the caller already has them), so a
    range is computed in one pass.
    `merchant_history`: `merchant_daily_stats` rows of the days before the first day that
    the merchant windows reach (`own_merchant_stats`: the range's own, as above).
    `feedback`: fraud_feedback rows (labels); each day uses only those reported before it.
    `expectations`: (customer_id, expected_max_amount) from customer_profiles.
    """
    tx = with_amount_usd(tx, rates).withColumn(
        "local_hour", local_hour(F.col("transaction_date"), F.col("location_country"))
    )
    own = own_stats if own_stats is not None else customer_daily_stats(tx)
    stats_rows = own if history is None else history.unionByName(own)
    # The cards of each day come from the day's own daily rows: no extra pass over tx.
    targets = own.select("customer_id", F.col("stats_day").alias("_day"))
    tx = with_sequence_features(tx, tail, history, customer_history(targets, stats_rows))
    tx = with_customer_windows(tx).withColumn(
        "hist_txn_count_30d", F.coalesce("hist_txn_count_30d", F.lit(0).cast("long"))
    )
    zscore = F.when(
        F.col("hist_std_usd_30d") > 0,
        F.abs(F.col("amount_usd").cast("double") - F.col("hist_mean_usd_30d"))
        / F.col("hist_std_usd_30d"),
    )
    tx = tx.withColumn("amount_zscore_30d", zscore)

    own_merchant = (
        own_merchant_stats if own_merchant_stats is not None else merchant_daily_stats(tx)
    )
    merchant_rows = (
        own_merchant if merchant_history is None else merchant_history.unionByName(own_merchant)
    )
    merchants = merchant_window_stats(
        own_merchant.select("merchant_name", F.col("stats_day").alias("_day")),
        merchant_rows,
        feedback,
        merchant_delay_days,
    )
    # Small tables (merchants of the days, KYC expectations): broadcast, no shuffle of tx.
    tx = tx.join(F.broadcast(merchants), ["merchant_name", "_day"], "left")
    tx = tx.withColumns(
        {
            c: F.coalesce(F.col(c), F.lit(0).cast(merchants.schema[c].dataType))
            for c in MERCHANT_FEATURE_COLUMNS
        }
    )
    if expectations is not None:
        tx = tx.join(
            F.broadcast(expectations.select("customer_id", "expected_max_amount")),
            "customer_id",
            "left",
        )
    else:
        tx = tx.withColumn("expected_max_amount", F.lit(None).cast(T.DecimalType(12, 2)))
    tx = with_calendar(with_model_columns(tx.withColumn("day", F.col("_day"))))
    return tx.select(*FEATURE_COLUMNS)


def history_days(first_day: dt.date) -> list[dt.date]:
    """The HISTORY_DAYS days before `first_day`, oldest first."""
    return [first_day - dt.timedelta(days=i) for i in range(HISTORY_DAYS, 0, -1)]
