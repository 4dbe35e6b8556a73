"""customer_profiles: each card's behavioural profile, upserted daily in PostgreSQL beside
the bank's KYC expectations (which the pipeline reads for PROFILE_DEVIATION, never writes)."""

from typing import Any

import dagster as dg
from dagster_pyspark import LazyPySparkResource

from fraud_assets.db.profile_store import BEHAVIOUR_COLUMNS, upsert_profiles
from fraud_assets.defs.detection.lake_inputs import DAILY_STATS
from fraud_assets.defs.metadata import OWNERS
from fraud_assets.errors import InputError
from fraud_assets.logic.profiles import PROFILE_DAYS, SIGNALS, customer_profiles, profile_days
from fraud_assets.partitions import daily_partitions, partition_days
from fraud_assets.resources.lake import LakeResource
from fraud_assets.resources.postgres import PostgresResource


@dg.asset(
    name="customer_profiles",
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=["fraud_features"],
    group_name="profiles",
    kinds={"pyspark", "postgres"},
    owners=OWNERS,
    description=(
        f"Each card's behaviour over the {PROFILE_DAYS} days ending the day (count, sum, mean, "
        "sample stddev, min, max, distinct countries and merchants, first/last transaction) "
        "and the seed's risk signals ("
        + "; ".join(f"+{p} {name}: {text}" for name, p, text in SIGNALS)
        + "), from the lake's customer_daily rows, upserted in PostgreSQL customer_profiles. "
        "KYC columns (expected_*, business_type, ...) are never written; a profile only "
        "replaces one of the same or an earlier day. A range run profiles its last day."
    ),
    metadata={"dagster/table_name": "frauddb.public.customer_profiles"},
    retry_policy=dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL),
)
def customer_profiles_asset(
    context: dg.AssetExecutionContext,
    pyspark: LazyPySparkResource,
    pyspark_step_launcher: dg.ResourceParam[Any],
    lake: LakeResource,
    postgres: PostgresResource,
) -> dg.MaterializeResult:
    day = partition_days(context)[-1]
    paths = [p for p in (lake.spark_path(DAILY_STATS, d) for d in profile_days(day)) if p]
    if lake.manifest(DAILY_STATS, day) is None:
        raise InputError(f"no {DAILY_STATS} partition for {day}: materialize fraud_features first")
    daily = pyspark.spark_session.read.parquet(*paths)
    profiles = customer_profiles(daily, day).orderBy("customer_id").toArrow()
    with postgres.connect() as conn:
        sync = upsert_profiles(conn, profiles.select(["customer_id", *BEHAVIOUR_COLUMNS]))
        conn.commit()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": profiles.num_rows,
            "profile_day": day.isoformat(),
            "days_read": len(paths),
            "inserted": sync.inserted,
            "updated": sync.updated,
            "unchanged_or_newer_kept": sync.unchanged,
        }
    )
