"""The 18-column `transactions` contract, shared by the loader, the lake and Spark.

One list drives the PostgreSQL DDL check, the landing-feed header, the Arrow schema of the
lake and the Spark schema, so "the same 18 columns" stays true everywhere (the seed's Spark
schema silently carried 11 of them).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class Column:
    name: str
    pg_type: str
    arrow_type: pa.DataType
    required: bool = False
    max_length: int | None = None
    description: str = ""


AMOUNT_TYPE = pa.decimal128(12, 2)

TRANSACTION_COLUMNS: tuple[Column, ...] = (
    Column("transaction_id", "VARCHAR(50)", pa.string(), True, 50, "Unique across all days."),
    Column(
        "customer_id", "VARCHAR(50)", pa.string(), True, 50, "The card (one card per customer)."
    ),
    Column("transaction_date", "TIMESTAMP", pa.timestamp("us"), True, None, "Event time, UTC."),
    Column("amount", "DECIMAL(12,2)", AMOUNT_TYPE, True, None, "Original amount, in `currency`."),
    Column("currency", "VARCHAR(3)", pa.string(), False, 3, "ISO 4217; NULL means USD."),
    Column(
        "merchant_name", "VARCHAR(255)", pa.string(), False, 255, "The terminal (merchant key)."
    ),
    Column("merchant_category", "VARCHAR(50)", pa.string(), False, 50, "Merchant category."),
    Column("transaction_type", "VARCHAR(20)", pa.string(), False, 20, "PURCHASE, WITHDRAWAL, ..."),
    Column("card_last_four", "VARCHAR(4)", pa.string(), False, 4, "For display only."),
    Column("location_country", "VARCHAR(2)", pa.string(), False, 2, "ISO 3166 alpha-2."),
    Column("location_city", "VARCHAR(100)", pa.string(), False, 100, "City name."),
    Column("ip_address", "INET", pa.string(), False, None, "Client IP (online transactions)."),
    Column("device_fingerprint", "VARCHAR(255)", pa.string(), False, 255, "Device id."),
    Column("is_online", "BOOLEAN", pa.bool_(), False, None, "Card not present."),
    Column("source_system", "VARCHAR(50)", pa.string(), True, 50, "Upstream feed."),
    Column("raw_data", "JSONB", pa.string(), False, None, "Original record, JSON text."),
    Column("normalized_at", "TIMESTAMP", pa.timestamp("us"), False, None, "Set by the loader."),
    Column("created_at", "TIMESTAMP", pa.timestamp("us"), False, None, "Row creation time."),
)

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in TRANSACTION_COLUMNS)
# The landing feed carries the 16 business columns; the loader sets the last two.
FEED_COLUMNS: tuple[str, ...] = COLUMN_NAMES[:16]
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c.name for c in TRANSACTION_COLUMNS if c.required)
# Largest absolute value DECIMAL(12,2) holds.
MAX_AMOUNT = 9_999_999_999.99

RISK_LEVELS: tuple[str, ...] = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
