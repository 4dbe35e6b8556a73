"""Training runs on its own job: a model per day is optional (scoring uses the newest
promoted one), and training costs far more than scoring."""

from __future__ import annotations

import dagster as dg

from fraud_assets.partitions import daily_partitions

fraud_model_training = dg.define_asset_job(
    name="fraud_model_training",
    description="Train the day's fraud model on labels reported before the day; promote it if not worse.",
    selection=dg.AssetSelection.groups("model"),
    partitions_def=daily_partitions,
    executor_def=dg.in_process_executor,
    tags={"fraud_assets/spark": "true"},
)
