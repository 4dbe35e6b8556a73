"""Feedback: what the bank learns after a transaction, as labels with the day they arrived.

Two external sources, written by people and other systems, only read here (so the asset
graph has no cycle): analysts' reviews in PostgreSQL `fraud_alerts`, and the chargeback
feed in the landing area. `fraud_feedback` combines them per UTC report day.
"""

import datetime as dt
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from dagster_pyspark import LazyPySparkResource
from pyspark.sql import functions as F

from fraud_assets.db.feedback_store import read_reviews, review_state, transaction_facts
from fraud_assets.defs.detection.lake_inputs import FEEDBACK, write_days
from fraud_assets.defs.metadata import OWNERS, column_schema, per_day_table
from fraud_assets.errors import InputError
from fraud_assets.logic.chargebacks import CHARGEBACK_COLUMNS, REJECT_SCHEMA, parse_chargebacks
from fraud_assets.logic.labels import FEEDBACK_COLUMNS, FEEDBACK_SCHEMA, latest_reports
from fraud_assets.partitions import daily_partitions, partition_days
from fraud_assets.resources.lake import LakeResource
from fraud_assets.resources.landing import LandingResource
from fraud_assets.resources.postgres import PostgresResource

REJECTS = "fraud_feedback_rejects"


@dg.observable_source_asset(
    group_name="feedback",
    owners=OWNERS,
    description=(
        "Analysts' decisions in PostgreSQL fraud_alerts (status CONFIRMED or FALSE_POSITIVE, "
        "reviewed_at): written by people, read by fraud_feedback. Observing it records how "
        "many decisions exist and the latest one."
    ),
    metadata={"dagster/table_name": "frauddb.public.fraud_alerts"},
)
def fraud_alert_reviews(postgres: PostgresResource) -> dg.DataVersion:
    with postgres.connect() as conn:
        count, latest = review_state(conn)
    return dg.DataVersion(f"{count}@{latest.isoformat() if latest else '-'}")


chargeback_feed = dg.AssetSpec(
    "chargeback_feed",
    group_name="feedback",
    owners=OWNERS,
    kinds={"csv"},
    description=(
        "The bank's chargeback and confirmed-fraud feed (CONTRACT.md): "
        "<landing>/chargebacks/date=YYYY-MM-DD/*.csv with transaction_id,is_fraud,reported_at, "
        "one folder per UTC day the reports arrived; a later report supersedes an earlier one "
        "(a reversal is is_fraud=false)."
    ),
)


class FeedbackConfig(dg.Config):
    # A day without chargeback files normally means "no reports that day"; a bank whose
    # feed always delivers (even empty files) can make a missing folder fail the run.
    require_chargeback_feed: bool = False


FEEDBACK_CHECK = dg.AssetCheckSpec(
    "labels_reference_known_transactions",
    asset="fraud_feedback",
    description=(
        "WARN when a chargeback record was rejected (bad field, wrong day) or names a "
        "transaction that PostgreSQL does not hold."
    ),
)


def _day_chargebacks(
    landing: LandingResource, day: dt.date, required: bool
) -> tuple[pa.Table, pa.Table, int]:
    files = landing.list_day_files("chargebacks", day)
    if not files:
        if required:
            raise InputError(
                f"no chargeback feed for {day} in {landing.day_folder('chargebacks', day)}"
            )
        return (
            pa.table(
                {
                    "transaction_id": pa.array([], pa.string()),
                    "is_fraud": pa.array([], pa.bool_()),
                    "reported_at": pa.array([], pa.timestamp("us")),
                }
            ),
            REJECT_SCHEMA.empty_table(),
            0,
        )
    parsed = parse_chargebacks(landing.read_day("chargebacks", day, CHARGEBACK_COLUMNS).table, day)
    return parsed.reports, parsed.rejects, len(files)


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    # The day's chargebacks are completed with their transaction's card, merchant and time
    # from PostgreSQL: in a range run the days must be loaded first, or every fact is NULL
    # (found by the 30-day backfill test: merchant fraud counts were 0 in the range run).
    deps=[fraud_alert_reviews, chargeback_feed, "postgres_transactions"],
    group_name="feedback",
    kinds={"pyspark", "parquet"},
    owners=OWNERS,
    description=(
        "Labels learned on the UTC day: chargebacks and reversals from the feed, analysts' "
        "CONFIRMED / FALSE_POSITIVE decisions from fraud_alerts, one row per transaction per "
        "report day (the latest report of the day wins), with the transaction's card, "
        "merchant and time. Consumers use a label for day D only if reported before D "
        "(logic/labels.py). Rejected feed records go to fraud_feedback_rejects."
    ),
    metadata={"dagster/column_schema": column_schema(FEEDBACK_COLUMNS)},
    check_specs=[FEEDBACK_CHECK],
    retry_policy=dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL),
)
def fraud_feedback(
    context: dg.AssetExecutionContext,
    config: FeedbackConfig,
    pyspark: LazyPySparkResource,
    pyspark_step_launcher: dg.ResourceParam[Any],
    lake: LakeResource,
    landing: LandingResource,
    postgres: PostgresResource,
) -> dg.MaterializeResult:
    days = partition_days(context)
    reports, per_day = [], {}
    for day in days:
        good, rejects, files = _day_chargebacks(landing, day, config.require_chargeback_feed)
        with lake.replace_partition(REJECTS, day) as folder:
            pq.write_table(rejects, folder / "part-00000.parquet", compression="zstd")
        reports.append(good)
        per_day[day] = {"files": files, "chargebacks": good.num_rows, "rejected": rejects.num_rows}
    chargebacks = pa.concat_tables(reports)
    start = dt.datetime.combine(days[0], dt.time())
    end = dt.datetime.combine(days[-1] + dt.timedelta(days=1), dt.time())
    with postgres.connect() as conn:
        reviews = read_reviews(conn, start, end)
        facts = transaction_facts(conn, chargebacks["transaction_id"].to_pylist())
    chargebacks = chargebacks.join(facts, "transaction_id", join_type="left outer")
    unknown = pc.sum(pc.is_null(chargebacks["transaction_date"])).as_py() or 0
    rows = pa.concat_tables(
        [
            chargebacks.append_column(
                "source", pa.array(["chargeback"] * chargebacks.num_rows, pa.string())
            ).select(FEEDBACK_SCHEMA.names),
            reviews.append_column(
                "source", pa.array(["review"] * reviews.num_rows, pa.string())
            ).select(FEEDBACK_SCHEMA.names),
        ]
    )
    spark = pyspark.spark_session
    labels = latest_reports(
        spark.createDataFrame(rows, FEEDBACK_SCHEMA).withColumn("_rday", F.to_date("reported_at")),
        ("_rday", "transaction_id"),
    ).drop("_rday")
    write_days(
        labels.select(*FEEDBACK_SCHEMA.names),
        lake,
        FEEDBACK,
        days,
        F.to_date("reported_at"),
        "transaction_id",
    )
    manifests = {d: lake.manifest(FEEDBACK, d) for d in days}
    for d, m in manifests.items():
        per_day[d]["labels"] = m.rows
    rejected = sum(v["rejected"] for v in per_day.values())
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(m.rows for m in manifests.values()),
            "chargeback_reports": chargebacks.num_rows,
            "reviews": reviews.num_rows,
            "fraud_labels": int(pc.sum(rows["is_fraud"]).as_py() or 0),
            "per_day": per_day_table(per_day),
            "path": dg.MetadataValue.path(lake.dataset_uri(FEEDBACK)),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=FEEDBACK_CHECK.name,
                passed=rejected == 0 and unknown == 0,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "rejected_records": rejected,
                    "unknown_transactions": unknown,
                    "rejects_path": dg.MetadataValue.path(lake.dataset_uri(REJECTS)),
                },
            )
        ],
    )
