"""Checks on fraud_features and fraud_alerts, returned with their materializations."""

from __future__ import annotations

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fraud_assets.logic.scoring import RISK_THRESHOLDS

FEATURES_CHECK = dg.AssetCheckSpec(
    "one_row_per_transaction",
    asset="fraud_features",
    blocking=True,
    description="Exactly one feature row per transaction of the day, required features non-null.",
)

ALERTS_CHECK = dg.AssetCheckSpec(
    "scores_and_levels_consistent",
    asset="fraud_alerts",
    blocking=True,
    description="Scores within 0..100 and every alert's risk level follows from its score.",
)


def features_cover_day_result(features: DataFrame, day_rows: int) -> dg.AssetCheckResult:
    row = features.agg(
        F.count(F.lit(1)).alias("rows"),
        F.countDistinct("transaction_id").alias("ids"),
        F.sum(
            F.when(F.col("amount_usd").isNull() | F.col("velocity_1h").isNull(), 1).otherwise(0)
        ).alias("nulls"),
        F.sum(F.when(F.col("velocity_1h") < 1, 1).otherwise(0)).alias("bad_velocity"),
    ).first()
    nulls, bad_velocity = row["nulls"] or 0, row["bad_velocity"] or 0
    return dg.AssetCheckResult(
        check_name=FEATURES_CHECK.name,
        passed=row["rows"] == day_rows == row["ids"] and nulls == 0 and bad_velocity == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "feature_rows": row["rows"],
            "distinct_transactions": row["ids"],
            "day_transactions": day_rows,
            "rows_missing_required_features": nulls,
            "velocity_below_one": bad_velocity,
        },
    )


def expected_level(score: float) -> str:
    for name, threshold in RISK_THRESHOLDS:
        if score >= threshold:
            return name
    return "LOW"


def alerts_consistency_result(alerts: pa.Table) -> dg.AssetCheckResult:
    scores = alerts["fraud_score"].to_pylist()
    levels = alerts["risk_level"].to_pylist()
    ids = alerts["transaction_id"].to_pylist()
    bad = [
        i
        for i, s, lvl in zip(ids, scores, levels, strict=True)
        if not (0 <= s <= 100) or expected_level(float(s)) != lvl
    ]
    duplicated = (
        alerts.num_rows - len(pc.unique(alerts["transaction_id"])) if alerts.num_rows else 0
    )
    return dg.AssetCheckResult(
        check_name=ALERTS_CHECK.name,
        passed=not bad and duplicated == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "alerts": alerts.num_rows,
            "inconsistent": len(bad),
            "sample": dg.MetadataValue.json(bad[:10]),
            "duplicated_ids": duplicated,
        },
    )
