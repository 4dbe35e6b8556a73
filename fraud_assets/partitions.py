"""Daily partitions: UTC days (CONTRACT.md). The first day is configurable."""

from __future__ import annotations

import datetime as dt
import os

import dagster as dg

# FRAUD_PARTITIONS_START=YYYY-MM-DD moves the first partition (read at definition load).
START_DATE = os.environ.get("FRAUD_PARTITIONS_START", "2025-01-01")

daily_partitions = dg.DailyPartitionsDefinition(start_date=START_DATE, timezone="UTC")


def partition_day(context: dg.AssetExecutionContext) -> dt.date:
    """The single UTC day this run materializes."""
    return dt.date.fromisoformat(context.partition_key)
