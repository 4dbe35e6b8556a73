"""s3_partitioned_parquet: the day's transactions in the Parquet lake."""

import datetime as dt
import os
import time
from concurrent.futures import ThreadPoolExecutor

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fraud_assets.db.transaction_store import EXPORT_SCHEMA, count_day, export_day
from fraud_assets.defs.lake.checks import (
    LOCATION_CHECK,
    RECONCILE_CHECK,
    location_result,
    reconcile_result,
)
from fraud_assets.defs.metadata import OWNERS, TRANSACTIONS_COLUMN_SCHEMA, per_day_table
from fraud_assets.logic.minimise import minimise_identifiers
from fraud_assets.partitions import daily_partitions, partition_days
from fraud_assets.resources.lake import LakeResource
from fraud_assets.resources.postgres import PostgresResource

# The lake stores instants: UTC-adjusted timestamps read by Spark as TimestampType.
_UTC_COLUMNS = ("transaction_date", "normalized_at", "created_at")
# Files of half a million rows (~40 MB): a 1M-row day is two files, compressed side by
# side (Arrow releases the GIL), and read by Spark as two tasks.
ROWS_PER_FILE = 500_000
ROW_GROUP_ROWS = 128 * 1024


LAKE_SCHEMA = pa.schema(
    [
        pa.field(f.name, pa.timestamp("us", "UTC") if f.name in _UTC_COLUMNS else f.type)
        for f in EXPORT_SCHEMA
    ]
)


def to_lake_schema(table: pa.Table) -> pa.Table:
    for name in _UTC_COLUMNS:
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, pc.assume_timezone(table[name], "UTC"))
    return table


def export_one_day(day: dt.date, postgres: PostgresResource, lake: LakeResource) -> dict:
    started = time.perf_counter()
    # PostgreSQL COPY -> Arrow -> Parquet, one connection per core: no JVM, no JDBC
    # row-by-row conversion (see README, benchmark, for the figures behind the choice).
    table = to_lake_schema(export_day(postgres.connect, day, postgres.parallelism))
    # The lake keeps what analytics needs: IP and device as a keyed hash (or as configured).
    table = minimise_identifiers(
        table,
        lake.ip_address_mode,
        lake.device_fingerprint_mode,
        lake.identifier_hash_key(),
    )
    with lake.replace_partition("transactions", day, lake.minimisation_note()) as folder:

        def write(i: int) -> None:
            pq.write_table(
                table.slice(i * ROWS_PER_FILE, ROWS_PER_FILE),
                folder / f"part-{i:05d}.parquet",
                compression="zstd",
                row_group_size=ROW_GROUP_ROWS,
            )

        files = max(1, -(-table.num_rows // ROWS_PER_FILE))
        with ThreadPoolExecutor(max_workers=min(files, os.cpu_count() or 1)) as pool:
            list(pool.map(write, range(files)))
    manifest = lake.manifest("transactions", day)
    with postgres.connect() as conn:
        pg_rows, pg_amount = count_day(conn, day)
    written = (
        pq.read_schema(lake.local_partition("transactions", day) / manifest.files[0]["name"])
        if manifest.files
        else LAKE_SCHEMA
    )
    dates = pc.min_max(table["transaction_date"])
    return {
        "manifest": manifest,
        "schema": pa.schema([pa.field(f.name, f.type) for f in written]),
        "uri": lake.partition_uri("transactions", day),
        "date_range": (dates["min"].as_py(), dates["max"].as_py()),
        "arrow_bytes": table.nbytes,
        "lake_amount": pc.sum(table["amount"]).as_py() or 0,
        "pg_rows": pg_rows,
        "pg_amount": pg_amount,
        "seconds": time.perf_counter() - started,
    }


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=["postgres_transactions"],
    group_name="lake",
    kinds={"parquet", "s3"},
    owners=OWNERS,
    description=(
        "The UTC day exported from PostgreSQL to the lake at "
        "`<lake>/transactions/year=YYYY/month=MM/day=DD/` (Parquet, zstd), sorted by "
        "(transaction_date, transaction_id) and replaced atomically."
    ),
    metadata={"dagster/column_schema": TRANSACTIONS_COLUMN_SCHEMA},
    check_specs=[RECONCILE_CHECK, LOCATION_CHECK],
    retry_policy=dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL),
)
def s3_partitioned_parquet(
    context: dg.AssetExecutionContext, postgres: PostgresResource, lake: LakeResource
) -> dg.MaterializeResult:
    exports = {day: export_one_day(day, postgres, lake) for day in partition_days(context)}
    files = sum(len(x["manifest"].files) for x in exports.values())
    lake_bytes = sum(x["manifest"].bytes for x in exports.values())
    arrow_bytes = sum(x["arrow_bytes"] for x in exports.values())
    first = min(exports)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(x["manifest"].rows for x in exports.values()),
            "path": dg.MetadataValue.path(lake.partition_uri("transactions", first)),
            "files": files,
            "bytes": lake_bytes,
            "arrow_bytes": arrow_bytes,
            "compression_ratio": round(arrow_bytes / lake_bytes, 2) if lake_bytes else 0,
            "export_seconds": round(sum(x["seconds"] for x in exports.values()), 2),
            "per_day": per_day_table(
                {
                    d: {
                        "rows": x["manifest"].rows,
                        "bytes": x["manifest"].bytes,
                        "version": x["manifest"].version,
                    }
                    for d, x in exports.items()
                }
            ),
        },
        check_results=[reconcile_result(exports), location_result(exports, LAKE_SCHEMA)],
    )
