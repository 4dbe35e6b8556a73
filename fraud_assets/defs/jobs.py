"""Jobs and schedules, named for what they do."""

from __future__ import annotations

import dagster as dg

from fraud_assets.partitions import daily_partitions

# One run per day, all four assets in one process: the two Spark steps share one Spark
# session instead of paying its ~10 s start twice. The tag lets the run queue cap
# concurrent Spark runs (dagster.yaml).
daily_fraud_detection = dg.define_asset_job(
    name="daily_fraud_detection",
    description="Load a UTC day from the landing feed, export it to the lake, compute features and alerts.",
    # The assets and the checks they return; the freshness check on fraud_alerts runs on
    # its own sensor, not at the end of every run (or a backfill would report itself late).
    selection=(
        dg.AssetSelection.groups("ingest", "lake", "detection")
        | dg.AssetSelection.assets("fraud_feedback", "customer_profiles")
    )
    - dg.AssetSelection.checks(dg.AssetCheckKey(dg.AssetKey("fraud_alerts"), "freshness_check")),
    partitions_def=daily_partitions,
    executor_def=dg.in_process_executor,
    tags={"fraud_assets/spark": "true"},
)

# Yesterday's partition, shortly after midnight UTC (late feeds: re-run that day alone).
daily_fraud_detection_schedule = dg.build_schedule_from_partitioned_job(
    daily_fraud_detection,
    name="daily_fraud_detection_after_midnight_utc",
    hour_of_day=0,
    minute_of_hour=30,
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
