"""postgres_transactions: the day's transactions in PostgreSQL."""

import datetime as dt
import time
from typing import Literal

import dagster as dg
import pyarrow as pa

from fraud_assets.contract.schema import FEED_COLUMNS
from fraud_assets.db.quarantine import replace_quarantine
from fraud_assets.db.transaction_store import count_day, replace_day
from fraud_assets.defs.ingest.checks import (
    CONTRACT_CHECK,
    QUARANTINE_CHECK,
    contract_result,
    quarantine_rate_result,
    quarantine_samples,
    upstream_validation,
)
from fraud_assets.defs.metadata import OWNERS, TRANSACTIONS_COLUMN_SCHEMA, per_day_table
from fraud_assets.logic.pan import mask_pans
from fraud_assets.logic.validation import validate_transactions
from fraud_assets.partitions import daily_partitions, partition_days
from fraud_assets.resources.landing import LandingResource
from fraud_assets.resources.postgres import PostgresResource


class TransactionsSourceConfig(dg.Config):
    """Where the day's rows come from (CONTRACT.md): chosen, never guessed."""

    source_mode: Literal["landing", "upstream"] = "landing"
    # Share of a day's records that may be quarantined before the load is blocked.
    max_quarantine_rate: float = 0.01


def load_day(
    day: dt.date, postgres: PostgresResource, landing: LandingResource, run_id: str
) -> dict:
    """Validate the day's feed and replace the day (and its quarantine) atomically."""
    started = time.perf_counter()
    phases: dict[str, float] = {}

    def phase(name: str) -> None:
        # Where a slow load spends its time, in the metadata (cumulative clock split).
        phases[name] = round(time.perf_counter() - started - sum(phases.values()), 2)

    feed = landing.read_day("transactions", day, FEED_COLUMNS)
    phase("read")
    # Card numbers are masked before anything (good rows or quarantine) reaches PostgreSQL.
    masked = mask_pans(feed.table, FEED_COLUMNS, json_columns=["raw_data"])
    phase("mask_pans")
    result = validate_transactions(masked.table, day)
    phase("validate")

    def quarantine_in_swap(duplicates: pa.Table, conn) -> None:
        replace_quarantine(conn, day, result.quarantine, duplicates, run_id)

    load = replace_day(
        postgres.connect, day, result.good, postgres.parallelism, on_swap=quarantine_in_swap
    )
    phase("store")
    seconds = time.perf_counter() - started
    with postgres.connect() as conn:
        rows, amount = count_day(conn, day)
    reasons = result.reason_counts()
    if load.cross_day_duplicates.num_rows:
        reasons["duplicate_transaction_id"] = (
            reasons.get("duplicate_transaction_id", 0) + load.cross_day_duplicates.num_rows
        )
    return {
        "rows": rows,
        "amount": amount,
        "records": feed.table.num_rows,
        "quarantined": sum(reasons.values()),
        "reasons": reasons,
        "samples": quarantine_samples(result.quarantine),
        "files": [f.rsplit("/", 1)[-1] for f in feed.files],
        "bytes": feed.bytes_read,
        "replaced_rows": load.replaced_rows,
        "pan_masked": masked.counts,
        "seconds": seconds,
        "phases": phases,
    }


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="ingest",
    kinds={"postgres"},
    owners=OWNERS,
    description=(
        "The UTC day's card transactions in PostgreSQL `transactions` (18 columns). In "
        "`landing` mode the day's feed files are validated, bad records quarantined with "
        "their reason, and the day replaced atomically; in `upstream` mode rows written by "
        "another system are validated read-only."
    ),
    metadata={
        "dagster/column_schema": TRANSACTIONS_COLUMN_SCHEMA,
        "dagster/table_name": "frauddb.public.transactions",
    },
    check_specs=[QUARANTINE_CHECK, CONTRACT_CHECK],
    # A dropped connection or a restarting server is worth another try: each day's load
    # is atomic, so a retry starts from a clean state.
    retry_policy=dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL),
)
def postgres_transactions(
    context: dg.AssetExecutionContext,
    config: TransactionsSourceConfig,
    postgres: PostgresResource,
    landing: LandingResource,
) -> dg.MaterializeResult:
    days = partition_days(context)
    if config.source_mode == "upstream":
        with postgres.connect() as conn:
            return upstream_validation(conn, days)

    loads = {}
    for day in days:
        loads[day] = load_day(day, postgres, landing, context.run_id)  # FeedError: no retry
        context.log.info(
            f"{day}: loaded {loads[day]['rows']} rows, quarantined {loads[day]['quarantined']} "
            f"in {loads[day]['seconds']:.1f}s"
        )
    with postgres.connect() as conn:
        contract = contract_result(conn, days)
    records = sum(x["records"] for x in loads.values())
    seconds = sum(x["seconds"] for x in loads.values())
    reasons: dict[str, int] = {}
    pan_masked: dict[str, int] = {}
    for x in loads.values():
        for reason, n in x["reasons"].items():
            reasons[reason] = reasons.get(reason, 0) + n
        for field, n in x["pan_masked"].items():
            pan_masked[field] = pan_masked.get(field, 0) + n
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(x["rows"] for x in loads.values()),
            "amount_sum": float(sum(x["amount"] for x in loads.values())),
            "feed_files": dg.MetadataValue.json(
                sorted({f for x in loads.values() for f in x["files"]})
            ),
            "feed_bytes": sum(x["bytes"] for x in loads.values()),
            "records_read": records,
            "quarantined": sum(reasons.values()),
            "quarantine_reasons": dg.MetadataValue.json(reasons),
            "replaced_rows": sum(x["replaced_rows"] for x in loads.values()),
            "pan_masked": sum(pan_masked.values()),
            "pan_masked_by_field": dg.MetadataValue.json(pan_masked),
            "load_seconds": round(seconds, 2),
            "load_phases_seconds": dg.MetadataValue.json(
                {
                    name: round(sum(x["phases"][name] for x in loads.values()), 2)
                    for name in next(iter(loads.values()))["phases"]
                }
                if loads
                else {}
            ),
            "rows_per_second": round(records / seconds) if seconds else 0,
            "source_mode": config.source_mode,
            "per_day": per_day_table(
                {
                    d: {
                        "rows": x["rows"],
                        "quarantined": x["quarantined"],
                        "seconds": round(x["seconds"], 1),
                    }
                    for d, x in loads.items()
                }
            ),
        },
        check_results=[quarantine_rate_result(loads, config.max_quarantine_rate), contract],
    )
