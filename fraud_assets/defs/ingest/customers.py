"""postgres_customers: the customers feed upserted into PostgreSQL `customers`."""

import dagster as dg

from fraud_assets.contract.customers import CUSTOMER_COLUMNS, CUSTOMER_FEED_COLUMNS
from fraud_assets.db.customer_store import count_customers, replace_customers_day
from fraud_assets.defs.metadata import (
    OWNERS,
    contract_column_schema,
    explanation,
    per_day_table,
)
from fraud_assets.logic.customer_validation import validate_customers
from fraud_assets.logic.pan import mask_pans
from fraud_assets.partitions import daily_partitions, partition_days
from fraud_assets.resources.landing import LandingResource
from fraud_assets.resources.postgres import PostgresResource

CUSTOMERS_QUARANTINE_CHECK = dg.AssetCheckSpec(
    "customers_quarantine_rate_within_threshold",
    asset="postgres_customers",
    blocking=True,
    description="Share of each day's customer records that broke the contract is at most the configured rate.",
)


class CustomersConfig(dg.Config):
    max_quarantine_rate: float = 0.01


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="ingest",
    kinds={"postgres"},
    owners=OWNERS,
    description=(
        "The day's customers feed (`<landing>/customers/date=D/`, CONTRACT.md) upserted by "
        "customer_id into PostgreSQL `customers`; bad records go to `customers_quarantine` "
        "with their reason. A day without a feed is normal (customers change rarely) and "
        "changes nothing. Names and contact data stay in PostgreSQL: nothing of this asset "
        "reaches the lake."
    ),
    metadata={
        "dagster/table_name": "frauddb.public.customers",
        "dagster/column_schema": contract_column_schema(CUSTOMER_COLUMNS),
    },
    check_specs=[CUSTOMERS_QUARANTINE_CHECK],
    retry_policy=dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL),
)
def postgres_customers(
    context: dg.AssetExecutionContext,
    config: CustomersConfig,
    postgres: PostgresResource,
    landing: LandingResource,
) -> dg.MaterializeResult:
    per_day = {}
    # One connection for the run: each day commits its own upsert and quarantine.
    with postgres.connect() as conn:
        for day in partition_days(context):
            per_day[day] = _load_customers_day(conn, landing, day, context.run_id)
        stored = count_customers(conn)
    over = {
        d.isoformat(): {
            "rate": round(x["quarantined"] / x["records"], 4),
            "reasons": x["reasons"],
            "samples": x["samples"][:5],
        }
        for d, x in per_day.items()
        if x["records"] and x["quarantined"] / x["records"] > config.max_quarantine_rate
    }
    total = lambda key: sum(x[key] for x in per_day.values())  # noqa: E731
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": stored,
            "records_read": total("records"),
            "inserted": total("inserted"),
            "updated": total("updated"),
            "unchanged": total("unchanged"),
            "quarantined": total("quarantined"),
            "days_without_feed": dg.MetadataValue.json(
                [d.isoformat() for d, x in per_day.items() if not x["feed"]]
            ),
            "per_day": per_day_table(
                {
                    d: {k: x[k] for k in ("records", "inserted", "updated", "quarantined")}
                    for d, x in per_day.items()
                }
            ),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=CUSTOMERS_QUARANTINE_CHECK.name,
                passed=not over,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={
                    "max_rate": config.max_quarantine_rate,
                    "explanation": explanation(
                        over,
                        f"every day quarantined at most {config.max_quarantine_rate:.2%} of its records",
                    ),
                },
            )
        ],
    )


def _load_customers_day(conn, landing: LandingResource, day, run_id: str) -> dict:
    if not landing.list_day_files("customers", day):
        return {
            "records": 0,
            "inserted": 0,
            "updated": 0,
            "unchanged": 0,
            "quarantined": 0,
            "reasons": {},
            "samples": [],
            "feed": False,
        }
    feed = landing.read_day("customers", day, CUSTOMER_FEED_COLUMNS)
    masked = mask_pans(feed.table, CUSTOMER_FEED_COLUMNS)
    result = validate_customers(masked.table)
    upsert = replace_customers_day(conn, day, result.good, result.quarantine, run_id)
    return {
        "records": feed.table.num_rows,
        **vars(upsert),
        "quarantined": result.quarantine.num_rows,
        "reasons": result.reason_counts(),
        "samples": result.quarantine.select(["source_file", "record_number", "reason"])
        .slice(0, 10)
        .to_pylist(),
        "feed": True,
    }
