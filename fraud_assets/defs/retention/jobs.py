"""postgres_retention: remove days past the live window from PostgreSQL, but only days
whose lake copy reconciles exactly.

For each expired day (oldest first) the PostgreSQL day (`count_day`: rows, amount sum) is
compared with the lake's `transactions` partition twice over: its manifest, and a real
read of the Parquet files readers see (row count and amount sum), since a manifest alone
could lie. Only when all agree exactly is the day detached and dropped (`drop_day`, which
re-checks the day under a lock). Otherwise it is kept and the reason reported. Alerts and
quarantine rows are never touched (see `fraud_assets/db/retention.py`).
"""

import datetime as dt
from decimal import Decimal

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fraud_assets.db.retention import (
    DaySnapshot,
    RetentionRefused,
    drop_day,
    live_days,
    plan_retention,
    snapshot_day,
)
from fraud_assets.partitions import daily_partitions
from fraud_assets.resources.lake import MANIFEST, LakeResource
from fraud_assets.resources.postgres import PostgresResource

DATASET = "transactions"
OP_NAME = "drop_reconciled_days"


class RetentionConfig(dg.Config):
    # PostgreSQL keeps `today` and the `keep_days` days before it.
    keep_days: int = 90
    # Report what would be dropped; drop nothing.
    dry_run: bool = False
    # YYYY-MM-DD; default: the current UTC date (the schedule passes its tick's date).
    today: str | None = None


def lake_mismatch(lake: LakeResource, day: dt.date, pg: DaySnapshot) -> tuple[str, str] | None:
    """Why the lake copy of `day` does not reconcile with PostgreSQL, or None if it does.

    Returns (reason code, detail). Errors reaching the lake (network, permissions) are
    raised, not reported: they say nothing about the day.
    """
    manifest = lake.manifest(DATASET, day)
    if manifest is None:
        return "lake_missing", f"no partition at {lake.partition_uri(DATASET, day)}"
    folder = lake.local_partition(DATASET, day)
    assert folder is not None
    # What readers (Spark) read: every visible Parquet file of the folder.
    visible = sorted(
        p.name
        for p in folder.iterdir()
        if p.is_file() and p.suffix == ".parquet" and not p.name.startswith(("_", "."))
    )
    listed = sorted(f["name"] for f in manifest.files)
    if visible != listed:
        return (
            "lake_files_disagree_with_manifest",
            f"{MANIFEST} lists {listed}, the folder holds {visible}",
        )
    rows, amount = 0, Decimal(0)
    try:
        for name in visible:
            table = pq.read_table(folder / name, columns=["amount"])
            rows += table.num_rows
            amount += Decimal(pc.sum(table["amount"]).as_py() or 0)
    except pa.ArrowInvalid as e:
        return "lake_unreadable", f"{folder}: {e}"
    if rows != manifest.rows:
        return (
            "lake_manifest_mismatch",
            f"{MANIFEST} says {manifest.rows} rows, the Parquet files hold {rows}",
        )
    if rows != pg.rows:
        return (
            "lake_short" if rows < pg.rows else "lake_extra_rows",
            f"lake {rows} rows, PostgreSQL {pg.rows} rows",
        )
    if amount != pg.amount:
        return "lake_amount_mismatch", f"lake amount sum {amount}, PostgreSQL {pg.amount}"
    return None


@dg.op(
    name=OP_NAME,
    description=(
        "Drop from PostgreSQL each `transactions` day past the window whose lake copy "
        "reconciles (rows and amount sum, manifest and Parquet); keep and report the others."
    ),
)
def drop_reconciled_days(
    context: dg.OpExecutionContext,
    config: RetentionConfig,
    postgres: PostgresResource,
    lake: LakeResource,
):
    if config.keep_days < 1:
        raise dg.Failure(f"keep_days must be at least 1, got {config.keep_days}")
    today = dt.date.fromisoformat(config.today) if config.today else dt.datetime.now(dt.UTC).date()
    dropped: dict[str, int] = {}
    would_drop: dict[str, int] = {}
    kept: dict[str, dict[str, str]] = {}
    # Autocommit: each drop_day is its own transaction, so every drop is final on its own.
    with postgres.connect(autocommit=True) as conn:
        plan = plan_retention(live_days(conn), today, config.keep_days)
        context.log.info(
            f"today {today}, keep_days {config.keep_days}: {len(plan.expired)} day(s) before "
            f"{plan.cutoff} to check, {len(plan.live)} in the window"
        )
        for day in plan.expired:  # oldest first
            key = day.isoformat()
            snapshot = snapshot_day(conn, day)
            if snapshot is None:  # dropped by someone else meanwhile
                continue
            mismatch = lake_mismatch(lake, day, snapshot)
            if mismatch is None and config.dry_run:
                would_drop[key] = snapshot.rows
                context.log.info(f"{key}: reconciles with the lake, would be dropped (dry run)")
                continue
            if mismatch is None:
                try:
                    dropped[key] = drop_day(conn, day, expected=snapshot)
                except RetentionRefused as e:
                    mismatch = (e.reason, e.detail)
            if mismatch is not None:
                reason, detail = mismatch
                kept[key] = {"reason": reason, "detail": detail}
                context.log.warning(f"{key}: kept in PostgreSQL, {reason}: {detail}")
                continue
            context.log.info(f"{key}: dropped from PostgreSQL ({dropped[key]} rows)")
            yield dg.AssetObservation(
                asset_key="postgres_transactions",
                partition=key if daily_partitions.has_partition_key(key) else None,
                description="Removed from PostgreSQL by retention; the lake keeps the day.",
                metadata={
                    "retention": "dropped",
                    "day": key,
                    "rows_dropped": dropped[key],
                    "amount_sum": str(snapshot.amount),
                    "lake_path": dg.MetadataValue.path(lake.partition_uri(DATASET, day)),
                },
            )
    report = {
        "today": today.isoformat(),
        "cutoff": plan.cutoff.isoformat(),
        "keep_days": config.keep_days,
        "dry_run": config.dry_run,
        "dropped": dropped,
        "would_drop": would_drop,
        "kept": kept,
    }
    yield dg.Output(
        report,
        metadata={
            "dropped_days": len(dropped),
            "kept_days": len(kept),
            "dropped": dg.MetadataValue.json(dropped),
            "would_drop": dg.MetadataValue.json(would_drop),
            "kept": dg.MetadataValue.json(kept),
            "cutoff": plan.cutoff.isoformat(),
            "dry_run": config.dry_run,
        },
    )


@dg.job(
    name="postgres_retention",
    description=(
        "PostgreSQL keeps the live window (default 90 days); older `transactions` days are "
        "dropped once their lake copy reconciles exactly. Alerts and quarantine are kept."
    ),
)
def postgres_retention():
    drop_reconciled_days()


@dg.schedule(
    job=postgres_retention,
    name="postgres_retention_daily",
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def postgres_retention_daily(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    # The tick's own date, so a re-executed run decides exactly as the original did.
    today = context.scheduled_execution_time.astimezone(dt.UTC).date()
    return dg.RunRequest(
        run_config={"ops": {OP_NAME: {"config": {"today": today.isoformat()}}}},
        tags={"fraud_assets/retention_today": today.isoformat()},
    )
