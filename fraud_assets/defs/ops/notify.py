"""The operator channel: every trouble becomes one `ops_events` row, a log line and, when
`FRAUD_OPS_WEBHOOK_URL` is set, one JSON POST to that URL.

Reporting is idempotent: the table's unique index on (kind, run, asset, check, partition)
turns a second report of the same trouble into nothing (no row, no log line, no POST).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import psycopg
from psycopg.types.json import Jsonb

WEBHOOK_ENV = "FRAUD_OPS_WEBHOOK_URL"
WEBHOOK_TIMEOUT_SECONDS = 5

RUN_FAILURE = "RUN_FAILURE"
BLOCKING_CHECK_FAILED = "BLOCKING_CHECK_FAILED"
FRESHNESS_LATE = "FRESHNESS_LATE"

_logger = logging.getLogger("fraud_assets.ops")


@dataclass(frozen=True)
class OpsEvent:
    kind: str
    message: str
    run_id: str | None = None
    job_name: str | None = None
    asset_key: str | None = None
    partition_key: str | None = None
    check_name: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    # When it happened (UTC); None means now.
    occurred_at: dt.datetime | None = None


def jsonable(value: Any) -> Any:
    """Dagster metadata (or anything) as plain JSON values; unknown objects become text."""
    if isinstance(value, dg.MetadataValue):
        value = value.value
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _as_utc_naive(moment: dt.datetime | None) -> dt.datetime | None:
    # TIMESTAMP columns hold UTC without a zone (CONTRACT.md).
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def report(
    conn: psycopg.Connection,
    event: OpsEvent,
    log: logging.Logger | dg.DagsterLogManager | None = None,
) -> bool:
    """Record `event` once; return True when it is new (and was logged and sent)."""
    log = log or _logger
    with conn.transaction():
        row = conn.execute(
            """INSERT INTO ops_events (occurred_at, kind, run_id, job_name, asset_key,
                                       partition_key, check_name, message, details)
               VALUES (COALESCE(%s, now() AT TIME ZONE 'UTC'), %s, %s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT DO NOTHING
               RETURNING event_id, occurred_at""",
            (
                _as_utc_naive(event.occurred_at),
                event.kind,
                event.run_id,
                event.job_name,
                event.asset_key,
                event.partition_key,
                event.check_name,
                event.message,
                Jsonb(jsonable(event.details)),
            ),
        ).fetchone()
    if row is None:
        return False
    event_id, occurred_at = row
    where = " ".join(
        f"{name}={value}"
        for name, value in (
            ("job", event.job_name),
            ("run", event.run_id),
            ("asset", event.asset_key),
            ("check", event.check_name),
            ("partition", event.partition_key),
        )
        if value
    )
    log.error(f"[ops] {event.kind} {where}: {event.message}")

    url = os.environ.get(WEBHOOK_ENV)
    if url:
        payload = {
            "event_id": event_id,
            "occurred_at": occurred_at.isoformat() + "Z",
            "kind": event.kind,
            "run_id": event.run_id,
            "job_name": event.job_name,
            "asset_key": event.asset_key,
            "partition_key": event.partition_key,
            "check_name": event.check_name,
            "message": event.message,
            "details": jsonable(event.details),
        }
        if post_json(url, payload, log):
            with conn.transaction():
                conn.execute(
                    "UPDATE ops_events SET delivered_webhook = TRUE WHERE event_id = %s",
                    (event_id,),
                )
    return True


def post_json(url: str, payload: Mapping[str, Any], log: Any = None) -> bool:
    """POST `payload` as JSON; True on a 2xx answer. Never raises: a failure is logged."""
    log = log or _logger
    parts = urllib.parse.urlsplit(url)
    # The URL may carry a token (Slack, PagerDuty ...): only scheme and host are ever logged.
    shown = f"{parts.scheme}://{parts.hostname}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        log.warning(f"[ops] {WEBHOOK_ENV} is not an http(s) URL ({shown}); event not sent")
        return False
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        # Only http(s) reaches here (checked above), never file:// or the like.
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            delivered = 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log.warning(f"[ops] webhook {shown} failed: {exc}")
        return False
    if not delivered:
        log.warning(f"[ops] webhook {shown} answered {response.status}")
    return delivered
