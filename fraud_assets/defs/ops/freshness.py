"""Yesterday's alerts are due by a fixed UTC hour: a freshness check on `fraud_alerts`.

Dagster's `build_time_partition_freshness_checks` says exactly this: once the day's deadline
(`0 <hour> * * *`, UTC) has passed, the daily partition that ended before it (yesterday) must
have been materialized, or the check fails. It is a standalone check (not returned by the
asset), evaluated by its own sensor, which launches a check-only run when the check could
have become overdue. A late day is a failed `freshness_check` on `fraud_alerts` in the UI,
and the failed-check sensor (`sensors.py`) reports it to `ops_events` as FRESHNESS_LATE.

The deadline hour comes from `FRAUD_ALERTS_DUE_HOUR_UTC` (default 6), read at definition load.

Dagster marks these two builders "superseded" by `FreshnessPolicy`; they are used on purpose:
a `FreshnessPolicy` judges the last materialization's time, whatever its partition (a
backfill of an old day would count as fresh), and produces no check result.
"""

from __future__ import annotations

import datetime as dt
import os
import warnings
from collections.abc import Mapping, Sequence

import dagster as dg

DUE_HOUR_ENV = "FRAUD_ALERTS_DUE_HOUR_UTC"
DEFAULT_DUE_HOUR_UTC = 6
ALERTS_ASSET = "fraud_alerts"

# Metadata keys the built-in freshness check writes on its result.
FRESHNESS_PARAMS_KEY = "dagster/freshness_params"
DEADLINE_KEY = "dagster/latest_cron_tick_timestamp"


def due_hour_utc(environ: Mapping[str, str] = os.environ) -> int:
    """The UTC hour by which yesterday's alerts must exist (FRAUD_ALERTS_DUE_HOUR_UTC)."""
    raw = environ.get(DUE_HOUR_ENV, "").strip()
    if not raw:
        return DEFAULT_DUE_HOUR_UTC
    try:
        hour = int(raw)
    except ValueError:
        hour = -1
    if not 0 <= hour <= 23:
        raise ValueError(f"{DUE_HOUR_ENV}={raw!r}: expected a whole hour from 0 to 23")
    return hour


def _without_supersession_warning(build, **kwargs):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*superseded.*")
        return build(**kwargs)


def alerts_freshness_checks(due_hour: int) -> Sequence[dg.AssetChecksDefinition]:
    """`freshness_check` on fraud_alerts: yesterday's partition exists once `due_hour` UTC passed."""
    return _without_supersession_warning(
        dg.build_time_partition_freshness_checks,
        assets=[ALERTS_ASSET],
        deadline_cron=f"0 {due_hour} * * *",
        timezone="UTC",
        severity=dg.AssetCheckSeverity.WARN,
    )


def alerts_freshness_sensor(checks: Sequence[dg.AssetChecksDefinition]) -> dg.SensorDefinition:
    """Launches a check-only run when the check has never run or may have become overdue."""
    return _without_supersession_warning(
        dg.build_sensor_for_freshness_checks,
        freshness_checks=checks,
        name="fraud_alerts_freshness_sensor",
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )


def partition_due_at(deadline: dt.datetime) -> str:
    """The daily (UTC) partition a deadline is about: the last day complete at that moment."""
    return (deadline.astimezone(dt.UTC).date() - dt.timedelta(days=1)).isoformat()


def is_freshness_result(metadata: Mapping[str, object]) -> bool:
    return FRESHNESS_PARAMS_KEY in metadata


ALERTS_FRESHNESS_CHECKS = alerts_freshness_checks(due_hour_utc())
fraud_alerts_freshness_sensor = alerts_freshness_sensor(ALERTS_FRESHNESS_CHECKS)
