"""fraud_features and fraud_alerts: PySpark over the lake, alerts to PostgreSQL.

Both handle a range of days in one run (a single-run backfill): one Spark session, one
read of the lake, one write, and then each day is published as its own partition.
"""

from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
from dagster_pyspark import LazyPySparkResource
from pyspark.sql import functions as F

from fraud_assets.db.alert_store import sync_day_alerts
from fraud_assets.defs.detection.checks import (
    ALERTS_CHECK,
    FEATURES_CHECK,
    RATE_CHECK,
    REFERENCES_CHECK,
    alerts_consistency_result,
    features_cover_days_result,
    rate_result,
    references_result,
)
from fraud_assets.defs.detection.feature_build import (
    FEATURES_LOOKBACK_DAYS,
    FeaturesConfig,
    model_feature_nulls,
    write_feature_days,
)
from fraud_assets.defs.detection.lake_inputs import load_range_inputs, write_days
from fraud_assets.defs.detection.model_scoring import models_for_days, score_days
from fraud_assets.defs.metadata import (
    ALERTS_COLUMN_SCHEMA,
    FEATURE_TYPES,
    OWNERS,
    alert_volume_table,
    column_schema,
    per_day_table,
)
from fraud_assets.logic.features import FEATURE_COLUMNS, utc_day
from fraud_assets.logic.rules import RULES, RULES_VERSION
from fraud_assets.logic.scoring import levels_at_or_above
from fraud_assets.partitions import daily_partitions, partition_days
from fraud_assets.resources.lake import LakeResource
from fraud_assets.resources.postgres import PostgresResource

# fraud_features for day D reads the lake's days D-37..D (D-1's last hour for velocity,
# the 30 days before D for the card's statistics, D-37..D-8 for the merchant windows with
# the default 7-day delay): the UI shows this window.
LOOKBACK = dg.TimeWindowPartitionMapping(
    start_offset=-FEATURES_LOOKBACK_DAYS, end_offset=0, allow_nonexistent_upstream_partitions=True
)
# Labels reported before D (the merchant windows' fraud counts): fraud_feedback D-37..D-1.
FEEDBACK_LOOKBACK = dg.TimeWindowPartitionMapping(
    start_offset=-FEATURES_LOOKBACK_DAYS, end_offset=-1, allow_nonexistent_upstream_partitions=True
)


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    ins={
        "s3_partitioned_parquet": dg.AssetIn(partition_mapping=LOOKBACK, dagster_type=dg.Nothing),
        "fraud_feedback": dg.AssetIn(partition_mapping=FEEDBACK_LOOKBACK, dagster_type=dg.Nothing),
    },
    group_name="detection",
    kinds={"pyspark", "parquet"},
    owners=OWNERS,
    description=(
        "One row per transaction of the UTC day with what the rules need (USD amount, "
        "local hour, 60-minute velocity across midnight, the card's 30-day mean and sample "
        "stddev before the day, its previous transaction's country and gap, KYC expected "
        "maximum) and the model's features (card windows of 1/7/30 days, merchant fraud "
        "share over windows ending 7 days before the day from labels reported before it, "
        "calendar); docs/features.md. Also leaves one `customer_daily` row per card and one "
        "`merchant_daily` row per merchant for later days, so history stays cheap."
    ),
    metadata={"dagster/column_schema": column_schema(FEATURE_COLUMNS, FEATURE_TYPES)},
    check_specs=[FEATURES_CHECK],
    # The run queue holds a run while another holds the Spark pool (dagster.yaml).
    pool="spark",
)
def fraud_features(
    context: dg.AssetExecutionContext,
    config: FeaturesConfig,
    pyspark: LazyPySparkResource,
    pyspark_step_launcher: dg.ResourceParam[Any],
    lake: LakeResource,
    postgres: PostgresResource,
) -> dg.MaterializeResult:
    days = partition_days(context)
    spark = pyspark.spark_session
    inputs = load_range_inputs(spark, lake, days, config.merchant_delay_days)
    write_feature_days(spark, lake, postgres, days, inputs, config.merchant_delay_days)

    manifests = {d: lake.manifest("fraud_features", d) for d in days}
    expected = {d: lake.manifest("transactions", d).rows for d in days}
    written = spark.read.parquet(*[lake.spark_path("fraud_features", d) for d in days])
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
        check_results=[
            features_cover_days_result(written, expected, model_feature_nulls(lake, days))
        ],
    )


class AlertsConfig(dg.Config):
    # Scored transactions at or above this level become rows in PostgreSQL fraud_alerts.
    min_risk_level: str = "MEDIUM"
    # Expected share of a day's transactions that become alerts (outside: WARN).
    min_alert_rate: float = 0.0
    max_alert_rate: float = 0.05


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=["fraud_features"],
    group_name="detection",
    kinds={"pyspark", "postgres"},
    owners=OWNERS,
    description=(
        "The five rules of CONTRACT.md applied to the day's features: every transaction's "
        "scores in the lake (`scored_transactions`), and those at or above the configured "
        "risk level as PostgreSQL `fraud_alerts` rows. A re-run rewrites the day's machine "
        "columns and never touches an analyst's review."
    ),
    metadata={
        "rules_version": RULES_VERSION,
        "rules": dg.MetadataValue.json(list(RULES)),
        "dagster/table_name": "frauddb.public.fraud_alerts",
        "dagster/column_schema": ALERTS_COLUMN_SCHEMA,
    },
    check_specs=[ALERTS_CHECK, REFERENCES_CHECK, RATE_CHECK],
    pool="spark",
    retry_policy=dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL),
)
def fraud_alerts(
    context: dg.AssetExecutionContext,
    config: AlertsConfig,
    pyspark: LazyPySparkResource,
    pyspark_step_launcher: dg.ResourceParam[Any],
    lake: LakeResource,
    postgres: PostgresResource,
) -> dg.MaterializeResult:
    days = partition_days(context)
    spark = pyspark.spark_session
    missing = [d for d in days if lake.manifest("fraud_features", d) is None]
    if missing:
        raise dg.Failure(
            f"no fraud_features partition for {', '.join(map(str, missing))}: materialize it first"
        )
    models = models_for_days(lake, days)
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
    alerts = scored.where(F.col("risk_level").isin(levels)).toArrow()
    syncs = {}
    with postgres.connect() as conn:
        for day in days:
            day_alerts = alerts.filter(pc.equal(alerts["_day"], pa.scalar(day, pa.date32())))
            syncs[day] = sync_day_alerts(
                conn, day, day_alerts.drop_columns(["_day"]), context.run_id
            )
        references = references_result(conn, days)
    # One pass over the scored rows for both tallies (per day, per level).
    scored_by_day: dict = {}
    by_level: dict = {}
    for r in scored.groupBy("_day", "risk_level").count().collect():
        scored_by_day[r["_day"]] = scored_by_day.get(r["_day"], 0) + r["count"]
        by_level[r["risk_level"]] = by_level.get(r["risk_level"], 0) + r["count"]
    alerts_by_day = {d: syncs[d].inserted + syncs[d].updated + syncs[d].unchanged for d in days}

    rule_counts = (
        scored.select(F.explode("rules_triggered").alias("rule"))
        .groupBy("rule")
        .count()
        .orderBy(F.desc("count"), "rule")
        .collect()
    )
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
