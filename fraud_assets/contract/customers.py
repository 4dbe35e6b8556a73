"""The customers feed (CONTRACT.md: `<landing>/customers/date=YYYY-MM-DD/*.csv`, upserted
by customer_id): its columns, their PostgreSQL limits, and what the loader accepts."""

from __future__ import annotations

import pyarrow as pa

from fraud_assets.contract.schema import RISK_LEVELS, Column

CUSTOMER_COLUMNS: tuple[Column, ...] = (
    Column("customer_id", "VARCHAR(50)", pa.string(), True, 50, "The card's owner (key)."),
    Column("first_name", "VARCHAR(100)", pa.string(), False, 100, "Personal data."),
    Column("last_name", "VARCHAR(100)", pa.string(), False, 100, "Personal data."),
    Column("email", "VARCHAR(255)", pa.string(), False, 255, "Contact data."),
    Column("phone", "VARCHAR(50)", pa.string(), False, 50, "Contact data."),
    Column("account_created_date", "DATE", pa.date32(), False, None, "ISO date."),
    Column("risk_level", "VARCHAR(10)", pa.string(), False, 10, "KYC risk level; empty: LOW."),
    Column("home_country", "VARCHAR(2)", pa.string(), False, 2, "ISO 3166 alpha-2."),
    Column("home_city", "VARCHAR(100)", pa.string(), False, 100, "City name."),
)
CUSTOMER_FEED_COLUMNS: tuple[str, ...] = tuple(c.name for c in CUSTOMER_COLUMNS)
# customers.risk_level is NOT NULL DEFAULT 'LOW': an empty field takes the default.
DEFAULT_RISK_LEVEL = "LOW"
CUSTOMER_RISK_LEVELS = RISK_LEVELS
