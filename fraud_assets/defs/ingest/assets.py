"""postgres_transactions: the day's transactions in PostgreSQL."""

import time
from typing import Literal

import dagster as dg
import pyarrow as pa

from fraud_assets.contract.schema import FEED_COLUMNS
from fraud_assets.db.quarantine import replace_quarantine
from fraud_assets.db.transaction_store import count_day, replace_day
from fraud_assets.defs.ingest.checks import (
    QUARANTINE_CHECK,
    quarantine_rate_result,
    upstream_validation,
)
from fraud_assets.defs.metadata import OWNERS, TRANSACTIONS_COLUMN_SCHEMA
from fraud_assets.logic.validation import validate_transactions
from fraud_assets.partitions import daily_partitions, partition_day
from fraud_assets.resources.landing import LandingResource
from fraud_assets.resources.postgres import PostgresResource


class TransactionsSourceConfig(dg.Config):
    """Where the day's rows come from (CONTRACT.md): chosen, never guessed."""

    source_mode: Literal["landing", "upstream"] = "landing"
    # Share of a day's records that may be quarantined before the load is blocked.
    max_quarantine_rate: float = 0.01


@dg.asset(
    partitions_def=daily_partitions,
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
    check_specs=[QUARANTINE_CHECK],
)
def postgres_transactions(
    context: dg.AssetExecutionContext,
    config: TransactionsSourceConfig,
    postgres: PostgresResource,
    landing: LandingResource,
) -> dg.MaterializeResult:
    day = partition_day(context)
    if config.source_mode == "upstream":
        with postgres.connect() as conn:
            return upstream_validation(conn, day)

    started = time.perf_counter()
    feed = landing.read_day("transactions", day, FEED_COLUMNS)
    result = validate_transactions(feed.table, day)
    quarantine = result.quarantine

    def quarantine_in_swap(duplicates: pa.Table, conn) -> None:
        replace_quarantine(conn, day, quarantine, duplicates, context.run_id)

    load = replace_day(
        postgres.connect, day, result.good, postgres.parallelism, on_swap=quarantine_in_swap
    )
    seconds = time.perf_counter() - started
    with postgres.connect() as conn:
        rows, amount = count_day(conn, day)
    reasons = result.reason_counts()
    if load.cross_day_duplicates.num_rows:
        reasons["duplicate_transaction_id_other_day"] = load.cross_day_duplicates.num_rows
    quarantined = sum(reasons.values())
    context.log.info(f"{day}: loaded {rows} rows, quarantined {quarantined} in {seconds:.1f}s")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "amount_sum": float(amount),
            "feed_files": dg.MetadataValue.json([f.rsplit("/", 1)[-1] for f in feed.files]),
            "feed_bytes": feed.bytes_read,
            "records_read": feed.table.num_rows,
            "quarantined": quarantined,
            "quarantine_reasons": dg.MetadataValue.json(reasons),
            "replaced_rows": load.replaced_rows,
            "load_seconds": round(seconds, 2),
            "rows_per_second": round(feed.table.num_rows / seconds) if seconds else 0,
            "source_mode": config.source_mode,
        },
        check_results=[
            quarantine_rate_result(
                quarantined, feed.table.num_rows, config.max_quarantine_rate, reasons
            )
        ],
    )
