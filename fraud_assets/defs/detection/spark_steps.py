"""The Spark work of fraud_features and fraud_alerts as plain step functions.

An asset body only calls `run_spark_step`: where the step runs is the resources' choice
(environments.py), never the asset's. With no `spark_pipes` resource the step runs right
here, on the `pyspark` session (locally, or on an EMR cluster when the step launcher has
shipped the whole asset there); with one, the asset submits the step through Dagster Pipes
(fraud_assets/emr/pipes_client.py) and the cluster runs the very same function
(fraud_assets/emr/pipes_step.py). Either way a step reads the days it is given and
replaces exactly those partitions, so a re-run is idempotent on either runner.

No `from __future__ import annotations` here: the Config classes are read by Dagster.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from fraud_assets.db.alert_store import sync_day_alerts
from fraud_assets.defs.detection.checks import (
    alerts_consistency_result,
    features_cover_days_result,
    rate_result,
    references_result,
)
from fraud_assets.defs.detection.feature_build import (
    FeaturesConfig,
    model_feature_nulls,
    write_feature_days,
)
from fraud_assets.defs.detection.lake_inputs import load_range_inputs, write_days
from fraud_assets.defs.detection.model_scoring import models_for_days, score_days
from fraud_assets.defs.detection.spark_jobs import spark_job
from fraud_assets.defs.metadata import alert_volume_table, per_day_table
from fraud_assets.errors import InputError
from fraud_assets.logic.features import utc_day
from fraud_assets.logic.rules import RULES_VERSION
from fraud_assets.logic.scoring import levels_at_or_above
from fraud_assets.partitions import partition_days
from fraud_assets.resources.lake import LakeResource
from fraud_assets.resources.postgres import PostgresResource


@dataclass(frozen=True)
class SparkStepRun:
    """What a step needs of its Dagster run: the UTC days to replace and the run id."""

    days: list[dt.date]
    run_id: str


class AlertsConfig(dg.Config):
    # Scored transactions at or above this level become rows in PostgreSQL fraud_alerts.
    min_risk_level: str = "MEDIUM"
    # Expected share of a day's transactions that become alerts (outside: WARN).
    min_alert_rate: float = 0.0
    max_alert_rate: float = 0.05


def features_step(
    run: SparkStepRun,
    config: FeaturesConfig,
    spark: SparkSession,
    lake: LakeResource,
    postgres: PostgresResource,
) -> dg.MaterializeResult:
    days = run.days
    with spark_job(spark, "fraud_features: read inputs (transactions, history, labels)"):
        inputs = load_range_inputs(spark, lake, days, config.merchant_delay_days)
    write_feature_days(spark, lake, postgres, days, inputs, config.merchant_delay_days)

    manifests = {d: lake.manifest("fraud_features", d) for d in days}
    expected = {d: lake.manifest("transactions", d).rows for d in days}
    with spark_job(spark, "fraud_features: check one_row_per_transaction"):
        written = spark.read.parquet(*[lake.spark_path("fraud_features", d) for d in days])
        check = features_cover_days_result(written, expected, model_feature_nulls(lake, days))
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(m.rows for m in manifests.values()),
            "path": dg.MetadataValue.path(lake.dataset_uri("fraud_features")),
            "bytes": sum(m.bytes for m in manifests.values()),
            "per_day": per_day_table(
                {d: {"rows": m.rows, "bytes": m.bytes} for d, m in manifests.items()}
            ),
            **{
                k: dg.MetadataValue.json(v) if isinstance(v, list) else v
                for k, v in inputs.notes.items()
            },
        },
        check_results=[check],
    )


def alerts_step(
    run: SparkStepRun,
    config: AlertsConfig,
    spark: SparkSession,
    lake: LakeResource,
    postgres: PostgresResource,
) -> dg.MaterializeResult:
    days = run.days
    missing = [d for d in days if lake.manifest("fraud_features", d) is None]
    if missing:
        raise InputError(
            f"no fraud_features partition for {', '.join(map(str, missing))}: materialize it first"
        )
    models = models_for_days(lake, days)
    with spark_job(spark, "fraud_alerts: score, write scored_transactions"):
        write_days(
            score_days(spark, lake, models),
            lake,
            "scored_transactions",
            days,
            utc_day(F.col("transaction_date")),
            "transaction_id",
        )
    scored = spark.read.parquet(
        *[lake.spark_path("scored_transactions", d) for d in days]
    ).withColumn("_day", utc_day(F.col("transaction_date")))

    levels = levels_at_or_above(config.min_risk_level)
    with spark_job(spark, "fraud_alerts: read the alert rows"):
        alerts = scored.where(F.col("risk_level").isin(levels)).toArrow()
    syncs = {}
    with postgres.connect() as conn:
        for day in days:
            day_alerts = alerts.filter(pc.equal(alerts["_day"], pa.scalar(day, pa.date32())))
            syncs[day] = sync_day_alerts(conn, day, day_alerts.drop_columns(["_day"]), run.run_id)
        references = references_result(conn, days)
    # One pass over the scored rows for both tallies (per day, per level).
    scored_by_day: dict = {}
    by_level: dict = {}
    with spark_job(spark, "fraud_alerts: tallies by day, level and rule"):
        tallies = scored.groupBy("_day", "risk_level").count().collect()
        rule_counts = (
            scored.select(F.explode("rules_triggered").alias("rule"))
            .groupBy("rule")
            .count()
            .orderBy(F.desc("count"), "rule")
            .collect()
        )
    for r in tallies:
        scored_by_day[r["_day"]] = scored_by_day.get(r["_day"], 0) + r["count"]
        by_level[r["risk_level"]] = by_level.get(r["risk_level"], 0) + r["count"]
    alerts_by_day = {d: syncs[d].inserted + syncs[d].updated + syncs[d].unchanged for d in days}

    total = lambda field: sum(getattr(s, field) for s in syncs.values())  # noqa: E731
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": alerts.num_rows,
            "scored_transactions": sum(by_level.values()),
            "alerts_by_risk_level": dg.MetadataValue.json(
                {lvl: by_level.get(lvl, 0) for lvl in ("CRITICAL", "HIGH", "MEDIUM", "LOW")}
            ),
            "rules_fired": dg.MetadataValue.json({r["rule"]: r["count"] for r in rule_counts}),
            "min_risk_level": config.min_risk_level,
            "rules_version": RULES_VERSION,
            "model_version_by_day": dg.MetadataValue.json(
                {d.isoformat(): m.version if m else "none: rules only" for d, m in models.items()}
            ),
            "alerts_inserted": total("inserted"),
            "alerts_updated": total("updated"),
            "alerts_unchanged": total("unchanged"),
            "alerts_removed_unreviewed": total("removed"),
            "alerts_kept_reviewed_no_longer_produced": total("retired"),
            "per_day": per_day_table({d: vars(s) for d, s in syncs.items()}),
            "scored_path": dg.MetadataValue.path(lake.dataset_uri("scored_transactions")),
            "alerts_table": "frauddb.public.fraud_alerts",
            "alert_volume_recent_days": alert_volume_table(postgres, days[-1]),
        },
        check_results=[
            alerts_consistency_result(alerts),
            references,
            rate_result(
                alerts_by_day,
                {d: scored_by_day.get(d, 0) for d in days},
                config.min_alert_rate,
                config.max_alert_rate,
            ),
        ],
    )


SparkStep = Callable[..., dg.MaterializeResult]

# The steps a Pipes runner can run, by asset name, with the Config class of their params.
STEPS: dict[str, tuple[SparkStep, type[dg.Config]]] = {
    "fraud_features": (features_step, FeaturesConfig),
    "fraud_alerts": (alerts_step, AlertsConfig),
}


def run_spark_step(
    context: dg.AssetExecutionContext,
    name: str,
    config: dg.Config,
    *,
    spark_pipes: Any,
    pyspark: Any,
    lake: LakeResource,
    postgres: PostgresResource,
) -> dg.MaterializeResult:
    """Run the asset's step here, or submit it through `spark_pipes` when there is one."""
    run = SparkStepRun(days=partition_days(context), run_id=context.run_id)
    if spark_pipes is None:
        step, _ = STEPS[name]
        return step(run, config, pyspark.spark_session, lake, postgres)
    return spark_pipes.run_step(context, name, run, config.model_dump())
