"""Sensors that tell operators about trouble, through `notify.report` (ops_events + webhook).

- `report_run_failures`: every failed run of this code location → RUN_FAILURE, with the job,
  the partition and each failed step's error (the feed path, the bad header, ...).
- `report_failed_checks`: reads the instance's asset check evaluations after its cursor; a
  failed check of severity ERROR → BLOCKING_CHECK_FAILED with the check's metadata (counts,
  reasons, sample keys), a failed freshness check → FRESHNESS_LATE for the overdue partition.

Both are cheap and on by default; a report already made is not repeated (see notify.py).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from typing import Any

import dagster as dg

from fraud_assets.defs.ops.freshness import DEADLINE_KEY, is_freshness_result, partition_due_at
from fraud_assets.defs.ops.notify import (
    BLOCKING_CHECK_FAILED,
    FRESHNESS_LATE,
    RUN_FAILURE,
    OpsEvent,
    jsonable,
    report,
)
from fraud_assets.resources.postgres import PostgresResource

PARTITION_TAG = "dagster/partition"
RANGE_TAGS = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")
SENSOR_INTERVAL_SECONDS = 60
# Check evaluations read per tick; more wait for the next tick (the cursor keeps the place).
BATCH = 500
# On its very first tick the check sensor looks this far back, not at the whole history.
FIRST_LOOKBACK = dt.timedelta(hours=24)
_ERROR_CHARS = 2000


def _error_text(error: Any) -> str:
    """An error and its causes, one message each, without stack traces; Dagster's
    "Error occurred while executing op" wrapper is left out when it has a cause."""
    messages: list[str] = []
    while error is not None:
        cause = error.cause or error.context
        text = (error.message or "").strip()
        wrapper = error.cls_name == "DagsterExecutionStepExecutionError" and cause is not None
        if text and not wrapper and text not in messages:
            messages.append(text)
        error = cause
    return " <- ".join(messages)[:_ERROR_CHARS]


def _utc(timestamp: float | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC) if timestamp is not None else None


def run_failure_event(context: dg.RunFailureSensorContext) -> OpsEvent:
    run = context.dagster_run
    partition = run.tags.get(PARTITION_TAG)
    if partition is None and all(t in run.tags for t in RANGE_TAGS):
        partition = "...".join(run.tags[t] for t in RANGE_TAGS)
    steps = []
    for failure in context.get_step_failure_events():
        data = failure.step_failure_data
        steps.append({"step": failure.step_key, "error": _error_text(data.error)})
    record = context.instance.get_run_record_by_id(run.run_id)
    reason = "; ".join(f"{s['step']}: {s['error']}" for s in steps) or (
        context.failure_event.message or "no step failed (see the run's events)"
    )
    where = f" for partition {partition}" if partition else ""
    return OpsEvent(
        kind=RUN_FAILURE,
        run_id=run.run_id,
        job_name=run.job_name,
        partition_key=partition,
        message=f"run of {run.job_name}{where} failed: {reason}",
        details={
            "failed_steps": steps,
            "run_failure": context.failure_event.message,
            "tags": dict(run.tags),
        },
        occurred_at=_utc(record.end_time if record else None),
    )


@dg.run_failure_sensor(
    name="report_run_failures",
    description="Reports every failed run of this code location to ops_events (and the webhook).",
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def report_run_failures(context: dg.RunFailureSensorContext, postgres: PostgresResource) -> None:
    with postgres.connect() as conn:
        report(conn, run_failure_event(context), context.log)


def _summary(metadata: Mapping[str, Any]) -> str:
    scalars = {
        k: v
        for k, v in jsonable(metadata).items()
        if not k.startswith("dagster/") and isinstance(v, int | float | str)
    }
    return ", ".join(f"{k}={v}" for k, v in scalars.items())


def failed_check_event(instance: dg.DagsterInstance, record: dg.EventLogRecord) -> OpsEvent | None:
    """The ops event for a check evaluation, or None when there is nothing to report."""
    entry = record.event_log_entry
    evaluation = entry.dagster_event.asset_check_evaluation_data
    if evaluation.passed:
        return None
    freshness = is_freshness_result(evaluation.metadata)
    if not freshness and evaluation.severity != dg.AssetCheckSeverity.ERROR:
        return None
    asset = evaluation.asset_key.to_user_string()
    details = {
        "severity": evaluation.severity.value,
        "blocking": evaluation.blocking,
        "description": evaluation.description,
        "metadata": jsonable(evaluation.metadata),
        "check_run_id": entry.run_id or None,
        "storage_id": record.storage_id,
    }
    if freshness:
        # About a day that is missing, not about the run that looked: one report per day.
        deadline = evaluation.metadata[DEADLINE_KEY].value
        partition = partition_due_at(dt.datetime.fromtimestamp(deadline, dt.UTC))
        due = dt.datetime.fromtimestamp(deadline, dt.UTC)
        return OpsEvent(
            kind=FRESHNESS_LATE,
            asset_key=asset,
            check_name=evaluation.check_name,
            partition_key=partition,
            message=(
                f"{asset} for {partition} was due by {due:%Y-%m-%d %H:%M} UTC and is missing: "
                f"{evaluation.description or 'freshness check failed'}"
            ),
            details=details,
            occurred_at=_utc(entry.timestamp),
        )
    run = instance.get_run_by_id(entry.run_id) if entry.run_id else None
    partition = evaluation.partition or (run.tags.get(PARTITION_TAG) if run else None)
    where = f" for {partition}" if partition else ""
    return OpsEvent(
        kind=BLOCKING_CHECK_FAILED,
        run_id=entry.run_id or None,
        job_name=entry.job_name or (run.job_name if run else None),
        asset_key=asset,
        check_name=evaluation.check_name,
        partition_key=partition,
        message=(
            f"check {evaluation.check_name} on {asset}{where} failed: "
            f"{evaluation.description or _summary(evaluation.metadata)}"
        ),
        details=details,
        occurred_at=_utc(entry.timestamp),
    )


@dg.sensor(
    name="report_failed_checks",
    description=(
        "Reports failed asset checks to ops_events (and the webhook): ERROR checks as "
        "BLOCKING_CHECK_FAILED, freshness checks as FRESHNESS_LATE."
    ),
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def report_failed_checks(
    context: dg.SensorEvaluationContext, postgres: PostgresResource
) -> dg.SensorResult:
    storage = context.instance.event_log_storage
    if context.cursor:
        after = dg.EventRecordsFilter(
            event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, after_cursor=int(context.cursor)
        )
        newest_seen = int(context.cursor)
    else:
        newest_seen = storage.get_maximum_record_id() or 0
        after = dg.EventRecordsFilter(
            event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION,
            after_timestamp=time.time() - FIRST_LOOKBACK.total_seconds(),
        )
    # The storage call behind DagsterInstance.get_event_records (deprecated for 2.0 there).
    records = storage.get_event_records(after, limit=BATCH, ascending=True)
    events = [e for e in (failed_check_event(context.instance, r) for r in records) if e]
    new = 0
    if events:
        with postgres.connect() as conn:
            new = sum(report(conn, event, context.log) for event in events)
    if len(records) == BATCH:  # more to read: continue right after the last one
        newest_seen = records[-1].storage_id
    elif records:
        newest_seen = max(newest_seen, records[-1].storage_id)
    cursor = str(newest_seen)
    if new:
        return dg.SensorResult(cursor=cursor)
    return dg.SensorResult(
        cursor=cursor,
        skip_reason=f"{len(records)} check evaluations read, no new failure to report",
    )
