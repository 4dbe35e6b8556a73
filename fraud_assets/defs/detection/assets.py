"""fraud_features and fraud_alerts: PySpark over the lake, alerts to PostgreSQL.

Both handle a range of days in one run (a single-run backfill): one Spark session, one
read of the lake, one write, and then each day is published as its own partition. Their
Spark work is a plain step function (spark_steps.py), run here or on EMR through Pipes.
"""

from typing import Any

import dagster as dg
from dagster_pyspark import LazyPySparkResource

from fraud_assets.defs.detection.checks import (
    ALERTS_CHECK,
    FEATURES_CHECK,
    RATE_CHECK,
    REFERENCES_CHECK,
)
from fraud_assets.defs.detection.feature_build import (
    FEATURES_LOOKBACK_DAYS,
    FeaturesConfig,
)
from fraud_assets.defs.detection.spark_steps import AlertsConfig, run_spark_step
from fraud_assets.defs.metadata import (
    ALERTS_COLUMN_SCHEMA,
    FEATURE_TYPES,
    OWNERS,
    column_schema,
)
from fraud_assets.logic.features import FEATURE_COLUMNS
from fraud_assets.logic.rules import RULES, RULES_VERSION
from fraud_assets.partitions import daily_partitions, days_before
from fraud_assets.resources.lake import LakeResource
from fraud_assets.resources.postgres import PostgresResource

# fraud_features for day D reads the lake's days D-37..D (D-1's last hour for velocity,
# the 30 days before D for the card's statistics, D-37..D-8 for the merchant windows with
# the default 7-day delay): the UI shows this window.
LOOKBACK = days_before(-FEATURES_LOOKBACK_DAYS, 0)
# Labels reported before D (the merchant windows' fraud counts): fraud_feedback D-37..D-1.
FEEDBACK_LOOKBACK = days_before(-FEATURES_LOOKBACK_DAYS, -1)


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
    spark_pipes: dg.ResourceParam[Any],
    lake: LakeResource,
    postgres: PostgresResource,
) -> dg.MaterializeResult:
    return run_spark_step(
        context,
        "fraud_features",
        config,
        spark_pipes=spark_pipes,
        pyspark=pyspark,
        lake=lake,
        postgres=postgres,
    )


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
    spark_pipes: dg.ResourceParam[Any],
    lake: LakeResource,
    postgres: PostgresResource,
) -> dg.MaterializeResult:
    return run_spark_step(
        context,
        "fraud_alerts",
        config,
        spark_pipes=spark_pipes,
        pyspark=pyspark,
        lake=lake,
        postgres=postgres,
    )
