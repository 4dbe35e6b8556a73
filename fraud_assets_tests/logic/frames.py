"""Small helpers to build transaction DataFrames with the lake's explicit schema."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

TX_SCHEMA = T.StructType(
    [
        T.StructField("transaction_id", T.StringType(), False),
        T.StructField("customer_id", T.StringType(), False),
        T.StructField("transaction_date", T.TimestampType(), False),
        T.StructField("amount", T.DecimalType(12, 2), False),
        T.StructField("currency", T.StringType(), True),
        T.StructField("merchant_name", T.StringType(), True),
        T.StructField("merchant_category", T.StringType(), True),
        T.StructField("location_country", T.StringType(), True),
        T.StructField("is_online", T.BooleanType(), True),
    ]
)

UTC = dt.UTC


def ts(text: str) -> dt.datetime:
    """'2026-11-20 10:00:00' (UTC) as an aware datetime, so Spark stores that instant."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def tx(
    spark: SparkSession,
    rows: list[tuple],
) -> DataFrame:
    """rows: (transaction_id, customer_id, 'YYYY-MM-DD HH:MM:SS', amount, currency, country)."""
    data = [
        (tid, cid, ts(when), Decimal(str(amount)), currency, "Shop #1", "grocery", country, False)
        for tid, cid, when, amount, currency, country in rows
    ]
    return spark.createDataFrame(data, TX_SCHEMA)
