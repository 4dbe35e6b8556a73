"""Daily partitions: UTC days (CONTRACT.md). The first day is configurable."""

from __future__ import annotations

import datetime as dt
import os

import dagster as dg

# FRAUD_PARTITIONS_START=YYYY-MM-DD moves the first partition (read at definition load).
START_DATE = os.environ.get("FRAUD_PARTITIONS_START", "2025-01-01")

daily_partitions = dg.DailyPartitionsDefinition(start_date=START_DATE, timezone="UTC")


def days_before(first: int, last: int) -> dg.TimeWindowPartitionMapping:
    """A dependency on the upstream days D+first .. D+last (negative: before D); days
    before the first partition are simply absent, not an error."""
    return dg.TimeWindowPartitionMapping(
        start_offset=first, end_offset=last, allow_nonexistent_upstream_partitions=True
    )


def partition_days(context: dg.AssetExecutionContext) -> list[dt.date]:
    """The UTC days this run materializes: one, or a range in a single-run backfill."""
    window = context.partition_time_window
    first, end = window.start.date(), window.end.date()
    return [first + dt.timedelta(days=i) for i in range((end - first).days)]
