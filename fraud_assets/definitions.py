"""The fraud_assets code location."""

from __future__ import annotations

import dagster as dg

from fraud_assets.defs.detection.assets import fraud_alerts, fraud_features
from fraud_assets.defs.ingest.assets import postgres_transactions
from fraud_assets.defs.jobs import daily_fraud_detection, daily_fraud_detection_schedule
from fraud_assets.defs.lake.assets import s3_partitioned_parquet
from fraud_assets.environments import current_environment, resources_for

ASSETS = [postgres_transactions, s3_partitioned_parquet, fraud_features, fraud_alerts]

defs = dg.Definitions(
    assets=ASSETS,
    jobs=[daily_fraud_detection],
    schedules=[daily_fraud_detection_schedule],
    resources=resources_for(current_environment()),
)
