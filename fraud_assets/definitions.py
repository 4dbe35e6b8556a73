"""The fraud_assets code location."""

from __future__ import annotations

import dagster as dg

from fraud_assets.defs.detection.assets import fraud_alerts, fraud_features
from fraud_assets.defs.feedback.assets import chargeback_feed, fraud_alert_reviews, fraud_feedback
from fraud_assets.defs.ingest.assets import postgres_transactions
from fraud_assets.defs.ingest.customers import postgres_customers
from fraud_assets.defs.jobs import daily_fraud_detection, daily_fraud_detection_schedule
from fraud_assets.defs.lake.assets import s3_partitioned_parquet
from fraud_assets.defs.model.assets import fraud_model
from fraud_assets.defs.model.jobs import fraud_model_training
from fraud_assets.defs.ops.freshness import ALERTS_FRESHNESS_CHECKS, fraud_alerts_freshness_sensor
from fraud_assets.defs.ops.sensors import report_failed_checks, report_run_failures
from fraud_assets.defs.profiles.assets import customer_profiles_asset
from fraud_assets.defs.retention.jobs import postgres_retention, postgres_retention_daily
from fraud_assets.environments import current_environment, resources_for

ASSETS = [
    postgres_transactions,
    postgres_customers,
    s3_partitioned_parquet,
    fraud_feedback,
    fraud_features,
    fraud_alerts,
    customer_profiles_asset,
]
MODEL_ASSETS = [fraud_model]
# Written by people and other systems, only read by the pipeline.
EXTERNAL_SOURCES = [fraud_alert_reviews, chargeback_feed]

defs = dg.Definitions(
    assets=[*ASSETS, *MODEL_ASSETS, *EXTERNAL_SOURCES],
    asset_checks=ALERTS_FRESHNESS_CHECKS,
    jobs=[daily_fraud_detection, postgres_retention, fraud_model_training],
    schedules=[daily_fraud_detection_schedule, postgres_retention_daily],
    sensors=[report_run_failures, report_failed_checks, fraud_alerts_freshness_sensor],
    resources=resources_for(current_environment()),
    # Runs launched from the asset graph execute like the daily job: in one process, so the
    # two Spark steps share one Spark session and no step pays a process start-up.
    executor=dg.in_process_executor,
)
