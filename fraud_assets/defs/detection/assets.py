"""fraud_features and fraud_alerts: PySpark over the lake, alerts to PostgreSQL."""

from typing import Any

import dagster as dg
from dagster_pyspark import LazyPySparkResource
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fraud_assets.db.alert_store import sync_day_alerts
from fraud_assets.defs.detection.checks import (
    ALERTS_CHECK,
    FEATURES_CHECK,
    alerts_consistency_result,
    features_cover_day_result,
)
from fraud_assets.defs.detection.lake_inputs import DAILY_STATS, day_rates, load_day_inputs
from fraud_assets.defs.metadata import OWNERS, column_schema
from fraud_assets.logic.features import (
    FEATURE_COLUMNS,
    HISTORY_DAYS,
    build_features,
    customer_daily_stats,
    with_amount_usd,
)
from fraud_assets.logic.rules import RULES, RULES_VERSION
from fraud_assets.logic.scoring import levels_at_or_above, score_transactions
from fraud_assets.partitions import daily_partitions, partition_day
from fraud_assets.resources.lake import LakeResource
from fraud_assets.resources.postgres import PostgresResource

# fraud_features for day D reads the lake's days D-30..D (D-1's last hour for velocity,
# the 30 days before D for the customer's statistics): the UI shows this window.
LOOKBACK = dg.TimeWindowPartitionMapping(
    start_offset=-HISTORY_DAYS, end_offset=0, allow_nonexistent_upstream_partitions=True
)


def write_sorted(df: DataFrame, folder, key: str = "transaction_id") -> None:
    """Deterministic files: same rows give the same row order, files and bytes."""
    df.orderBy(key).write.mode("overwrite").option("compression", "zstd").parquet(str(folder))


@dg.asset(
    partitions_def=daily_partitions,
    ins={"s3_partitioned_parquet": dg.AssetIn(partition_mapping=LOOKBACK, dagster_type=dg.Nothing)},
    group_name="detection",
    kinds={"pyspark", "parquet"},
    owners=OWNERS,
    description=(
        "One row per transaction of the UTC day with what the five rules need: USD amount, "
        "local hour, 60-minute velocity across midnight, the card's 30-day mean and sample "
        "stddev before the day, and its previous transaction's country and gap. Also leaves "
        "one `customer_daily` row per card for later days, so history stays cheap."
    ),
    metadata={"dagster/column_schema": column_schema(FEATURE_COLUMNS)},
    check_specs=[FEATURES_CHECK],
)
def fraud_features(
    context: dg.AssetExecutionContext,
    pyspark: LazyPySparkResource,
    pyspark_step_launcher: dg.ResourceParam[Any],
    lake: LakeResource,
) -> dg.MaterializeResult:
    day = partition_day(context)
    spark = pyspark.spark_session
    inputs = load_day_inputs(spark, lake, day)
    rates = day_rates(spark, day)
    features = build_features(inputs.day_tx, rates, inputs.tail, inputs.history)
    with lake.replace_partition(
        "fraud_features", day, extra={"source_version": inputs.source_version}
    ) as folder:
        write_sorted(features, folder)
    daily = customer_daily_stats(with_amount_usd(inputs.day_tx, rates))
    with lake.replace_partition(
        DAILY_STATS, day, extra={"source_version": inputs.source_version}
    ) as folder:
        write_sorted(daily, folder, key="customer_id")

    written = spark.read.parquet(lake.spark_path("fraud_features", day))
    manifest = lake.manifest("fraud_features", day)
    day_rows = lake.manifest("transactions", day).rows
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": manifest.rows,
            "path": dg.MetadataValue.path(lake.partition_uri("fraud_features", day)),
            "bytes": manifest.bytes,
            **{
                k: dg.MetadataValue.json(v) if isinstance(v, list) else v
                for k, v in inputs.notes.items()
            },
        },
        check_results=[features_cover_day_result(written, day_rows)],
    )


class AlertsConfig(dg.Config):
    # Scored transactions at or above this level become rows in PostgreSQL fraud_alerts.
    min_risk_level: str = "MEDIUM"


@dg.asset(
    partitions_def=daily_partitions,
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
    },
    check_specs=[ALERTS_CHECK],
)
def fraud_alerts(
    context: dg.AssetExecutionContext,
    config: AlertsConfig,
    pyspark: LazyPySparkResource,
    pyspark_step_launcher: dg.ResourceParam[Any],
    lake: LakeResource,
    postgres: PostgresResource,
) -> dg.MaterializeResult:
    day = partition_day(context)
    spark = pyspark.spark_session
    path = lake.spark_path("fraud_features", day)
    if path is None:
        raise dg.Failure(f"no fraud_features partition for {day}: materialize fraud_features first")
    scored = score_transactions(spark.read.parquet(path))
    with lake.replace_partition("scored_transactions", day) as folder:
        write_sorted(scored, folder)
    scored = spark.read.parquet(lake.spark_path("scored_transactions", day))

    levels = levels_at_or_above(config.min_risk_level)
    alerts = scored.where(F.col("risk_level").isin(levels)).toArrow()
    with postgres.connect() as conn:
        sync = sync_day_alerts(conn, day, alerts, context.run_id)

    by_level = {r["risk_level"]: r["count"] for r in scored.groupBy("risk_level").count().collect()}
    rule_counts = (
        scored.select(F.explode("rules_triggered").alias("rule"))
        .groupBy("rule")
        .count()
        .orderBy(F.desc("count"))
        .collect()
    )
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
            "alerts_inserted": sync.inserted,
            "alerts_updated": sync.updated,
            "alerts_unchanged": sync.unchanged,
            "alerts_removed_unreviewed": sync.removed,
            "alerts_kept_reviewed_no_longer_produced": sync.retired,
            "scored_path": dg.MetadataValue.path(lake.partition_uri("scored_transactions", day)),
        },
        check_results=[alerts_consistency_result(alerts)],
    )
