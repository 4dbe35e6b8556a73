"""Operators hear about trouble: the real sensors, a real Dagster instance, the real
PostgreSQL `ops_events` table and a real HTTP webhook receiver on loopback."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import psycopg
import pytest

from fraud_assets.defs.detection.assets import fraud_alerts
from fraud_assets.defs.ingest.assets import postgres_transactions
from fraud_assets.defs.ops.freshness import (
    DUE_HOUR_ENV,
    alerts_freshness_checks,
    due_hour_utc,
    partition_due_at,
)
from fraud_assets.defs.ops.notify import WEBHOOK_ENV, OpsEvent, report
from fraud_assets.defs.ops.sensors import report_failed_checks, report_run_failures
from fraud_assets.environments import resources_for
from fraud_assets_tests.defs.pipeline import run_day, use_folders
from fraud_assets_tests.feeds import good_record, write_feed

DAY = dt.date(2026, 11, 20)
NEXT = dt.date(2026, 11, 21)
EVENT_COLUMNS = "kind, run_id, job_name, asset_key, check_name, partition_key, message, details"


@pytest.fixture
def ops_db(clean_db, monkeypatch):
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    with psycopg.connect(clean_db.conninfo, autocommit=True) as conn:
        conn.execute("TRUNCATE ops_events RESTART IDENTITY")
    return clean_db


@pytest.fixture
def landing(tmp_path, ops_db):
    use_folders(tmp_path / "landing", tmp_path / "lake")
    return tmp_path / "landing"


def _events(pg) -> list[dict]:
    with psycopg.connect(pg.conninfo) as conn:
        cur = conn.execute(f"SELECT {EVENT_COLUMNS}, delivered_webhook FROM ops_events ORDER BY 1")
        names = [c.name for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _feed(landing, day, records):
    write_feed(landing / "transactions" / f"date={day.isoformat()}" / "a.csv", records)


def _ingest(day, instance):
    return run_day(day, instance, [postgres_transactions], raise_on_error=False)


# --- (a) a failed run ------------------------------------------------------------------


def test_a_failed_run_is_reported_once_with_its_partition_and_the_missing_path(landing, ops_db):
    instance = dg.DagsterInstance.ephemeral()
    result = _ingest(DAY, instance)  # no feed for the day: the asset fails naming the path
    assert not result.success
    context = dg.build_run_status_sensor_context(
        sensor_name="report_run_failures",
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        resources={"postgres": ops_db},
    )
    report_run_failures(context)
    report_run_failures(context)  # the same failure again (a retried tick): nothing new

    (event,) = _events(ops_db)
    assert event["kind"] == "RUN_FAILURE"
    assert event["run_id"] == result.run_id
    assert event["job_name"] == result.dagster_run.job_name
    assert event["partition_key"] == DAY.isoformat()
    assert f"transactions/date={DAY.isoformat()}" in event["message"]
    assert [s["step"] for s in event["details"]["failed_steps"]] == ["postgres_transactions"]
    assert event["details"]["tags"]["dagster/partition"] == DAY.isoformat()


# --- (b) a failed blocking check -------------------------------------------------------


def test_a_failed_blocking_check_is_reported_once_with_its_reasons(landing, ops_db):
    when = f"{DAY}T12:00:00Z"
    _feed(
        landing,
        DAY,
        [good_record("A1", when)] + [good_record(f"X{i}", when, currency="XYZ") for i in range(3)],
    )
    instance = dg.DagsterInstance.ephemeral()
    result = _ingest(DAY, instance)
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert not checks["quarantine_rate_within_threshold"].passed

    first = report_failed_checks(
        dg.build_sensor_context(instance=instance, resources={"postgres": ops_db})
    )
    assert first.cursor and first.skip_reason is None
    (event,) = _events(ops_db)
    assert event["kind"] == "BLOCKING_CHECK_FAILED"
    assert (event["asset_key"], event["check_name"]) == (
        "postgres_transactions",
        "quarantine_rate_within_threshold",
    )
    assert (event["partition_key"], event["run_id"]) == (DAY.isoformat(), result.run_id)
    assert event["details"]["metadata"]["reasons"] == {"unsupported_currency": 3}
    assert event["details"]["metadata"]["quarantined"] == 3
    assert event["details"]["severity"] == "ERROR" and event["details"]["blocking"] is True
    assert "quarantined=3" in event["message"] and DAY.isoformat() in event["message"]

    # From its cursor on, the sensor reads nothing already seen.
    again = report_failed_checks(
        dg.build_sensor_context(
            instance=instance, resources={"postgres": ops_db}, cursor=first.cursor
        )
    )
    assert again.cursor == first.cursor
    assert again.skip_reason.skip_message.startswith("0 check evaluations read")

    # A passing check later moves the cursor on and reports nothing.
    _feed(landing, NEXT, [good_record("B1", f"{NEXT}T12:00:00Z")])
    assert _ingest(NEXT, instance).success
    later = report_failed_checks(
        dg.build_sensor_context(
            instance=instance, resources={"postgres": ops_db}, cursor=first.cursor
        )
    )
    assert int(later.cursor) > int(first.cursor)
    # postgres_transactions returns two checks (quarantine rate, contract), both passing.
    assert later.skip_reason.skip_message.startswith("2 check evaluations read")
    # Even a sensor that lost its cursor does not report the same failure twice.
    report_failed_checks(dg.build_sensor_context(instance=instance, resources={"postgres": ops_db}))
    assert len(_events(ops_db)) == 1


# --- (c) the webhook -------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        # Recorded before answering: when report() has its answer, the body is here.
        self.server.received.append(
            {"path": self.path, "type": self.headers["Content-Type"], "body": json.loads(body)}
        )
        self.send_response(500 if "broken" in self.path else 204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def _event(**overrides) -> OpsEvent:
    fields = {
        "kind": "RUN_FAILURE",
        "run_id": "r-1",
        "job_name": "daily_fraud_detection",
        "partition_key": DAY.isoformat(),
        "message": "run failed: no feed",
        "details": {"failed_steps": [{"step": "postgres_transactions"}]},
    }
    return OpsEvent(**{**fields, **overrides})


def test_a_new_event_is_posted_to_the_webhook_once_and_marked_delivered(
    ops_db, receiver, monkeypatch, caplog
):
    monkeypatch.setenv(WEBHOOK_ENV, f"http://127.0.0.1:{receiver.server_port}/hooks/ops?t=s3cr3t")
    caplog.set_level(logging.INFO, logger="fraud_assets.ops")
    with ops_db.connect() as conn:
        assert report(conn, _event()) is True
        assert report(conn, _event()) is False  # already reported: no second POST

    (post,) = receiver.received
    assert post["path"] == "/hooks/ops?t=s3cr3t" and post["type"] == "application/json"
    (event,) = _events(ops_db)
    assert event["delivered_webhook"] is True
    body = post["body"]
    assert body["event_id"] == 1 and body["kind"] == "RUN_FAILURE"
    assert (body["run_id"], body["partition_key"]) == ("r-1", DAY.isoformat())
    assert body["details"] == {"failed_steps": [{"step": "postgres_transactions"}]}
    assert body["occurred_at"].endswith("Z")
    (line,) = [r.getMessage() for r in caplog.records if "RUN_FAILURE" in r.getMessage()]
    assert "run=r-1" in line and "no feed" in line
    assert all("s3cr3t" not in r.getMessage() for r in caplog.records)


def test_an_undeliverable_webhook_is_logged_not_raised(ops_db, receiver, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="fraud_assets.ops")
    monkeypatch.setenv(WEBHOOK_ENV, f"http://127.0.0.1:{receiver.server_port}/broken?t=s3cr3t")
    with ops_db.connect() as conn:
        assert report(conn, _event(run_id="r-500")) is True
    # Nothing listens on the receiver's port once it is closed.
    receiver.shutdown()
    receiver.server_close()
    with ops_db.connect() as conn:
        assert report(conn, _event(run_id="r-closed")) is True

    assert len(receiver.received) == 1  # the 500 answer reached the server
    assert [(e["run_id"], e["delivered_webhook"]) for e in _events(ops_db)] == [
        ("r-500", False),
        ("r-closed", False),
    ]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and all("webhook http://127.0.0.1" in w for w in warnings)
    assert all("s3cr3t" not in r.getMessage() for r in caplog.records)


# --- (d) freshness ---------------------------------------------------------------------


def _evaluate_freshness(checks, instance) -> dg.AssetCheckEvaluation:
    result = dg.materialize(
        [fraud_alerts, *checks],
        selection=dg.AssetSelection.checks(*checks),
        instance=instance,
        resources=resources_for("test"),
    )
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


def test_yesterdays_alerts_missing_after_the_deadline_fail_freshness_and_are_reported(ops_db):
    # The real clock: a due hour 12 hours away from now, so the latest deadline (and the day
    # it is about) cannot change while the test runs.
    now = dt.datetime.now(dt.UTC)
    due_hour = (now.hour + 12) % 24
    deadline = now.replace(hour=due_hour, minute=0, second=0, microsecond=0)
    if deadline > now:
        deadline -= dt.timedelta(days=1)
    due_day = partition_due_at(deadline)
    checks = alerts_freshness_checks(due_hour)
    instance = dg.DagsterInstance.ephemeral()

    # The day before is there, the due day is not: late.
    before = (dt.date.fromisoformat(due_day) - dt.timedelta(days=1)).isoformat()
    instance.report_runless_asset_event(dg.AssetMaterialization("fraud_alerts", partition=before))
    late = _evaluate_freshness(checks, instance)
    assert not late.passed and late.severity == dg.AssetCheckSeverity.WARN
    assert due_day in late.description

    sensor = report_failed_checks(
        dg.build_sensor_context(instance=instance, resources={"postgres": ops_db})
    )
    (event,) = _events(ops_db)
    assert (event["kind"], event["asset_key"], event["check_name"]) == (
        "FRESHNESS_LATE",
        "fraud_alerts",
        "freshness_check",
    )
    assert event["partition_key"] == due_day and event["run_id"] is None
    assert f"due by {deadline:%Y-%m-%d %H:00} UTC" in event["message"]

    # Evaluated again while still late: the same late day is not reported twice.
    assert not _evaluate_freshness(checks, instance).passed
    report_failed_checks(
        dg.build_sensor_context(
            instance=instance, resources={"postgres": ops_db}, cursor=sensor.cursor
        )
    )
    assert len(_events(ops_db)) == 1

    # Once the due day's alerts exist, the check passes.
    instance.report_runless_asset_event(dg.AssetMaterialization("fraud_alerts", partition=due_day))
    assert _evaluate_freshness(checks, instance).passed


def test_the_due_hour_comes_from_the_environment():
    assert due_hour_utc({}) == 6
    assert due_hour_utc({DUE_HOUR_ENV: "8"}) == 8
    for bad in ("24", "-1", "six", "6.5"):
        with pytest.raises(ValueError, match=DUE_HOUR_ENV):
            due_hour_utc({DUE_HOUR_ENV: bad})
    (spec,) = alerts_freshness_checks(8)[0].check_specs
    assert spec.metadata["dagster/freshness_params"].value["deadline_cron"] == "0 8 * * *"
    assert partition_due_at(dt.datetime(2026, 11, 21, 6, tzinfo=dt.UTC)) == "2026-11-20"


def test_the_code_location_runs_the_sensors_and_the_freshness_check():
    from fraud_assets.definitions import defs

    for name in ("report_run_failures", "report_failed_checks", "fraud_alerts_freshness_sensor"):
        sensor = defs.resolve_sensor_def(name)
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING, name
    checks = defs.resolve_asset_graph().asset_check_keys
    assert dg.AssetCheckKey(dg.AssetKey("fraud_alerts"), "freshness_check") in checks
    # A fresh instance: the freshness sensor asks for the check to be evaluated.
    sensor = defs.resolve_sensor_def("fraud_alerts_freshness_sensor")
    request = sensor(dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral()))
    assert request.asset_check_keys == [
        dg.AssetCheckKey(dg.AssetKey("fraud_alerts"), "freshness_check")
    ]
