"""Who may change what, enforced by PostgreSQL: each group role through a login member,
and the review history written by the database and closed to every client."""

from __future__ import annotations

import datetime as dt

import psycopg
import pyarrow as pa
import pytest

from fraud_assets import cli
from fraud_assets.db.alert_store import sync_day_alerts
from fraud_assets.resources.postgres import PostgresResource
from fraud_assets_tests.roles import login_user

DAY = dt.date(2026, 2, 10)
Refused = psycopg.errors.InsufficientPrivilege


@pytest.fixture
def users(clean_db: PostgresResource) -> dict[str, PostgresResource]:
    return {
        "pipeline": login_user(clean_db, "fraud_pipeline", act_as_group=True),
        "analyst": login_user(clean_db, "fraud_analyst"),
        "reporting": login_user(clean_db, "fraud_reporting"),
        "admin": clean_db,
    }


def _alerts(*ids: str, score: int = 45) -> pa.Table:
    n = len(ids)
    when = dt.datetime(2026, 2, 10, 3, 0, tzinfo=dt.UTC)
    return pa.table(
        {
            "transaction_id": list(ids),
            "customer_id": ["C1"] * n,
            "transaction_date": pa.array([when] * n, pa.timestamp("us", "UTC")),
            "amount": pa.array(["9000.00"] * n, pa.string()),
            "currency": ["EUR"] * n,
            "amount_usd": pa.array(["9900.00"] * n, pa.string()),
            "merchant_name": ["Shop"] * n,
            "location_country": ["DE"] * n,
            "rules_triggered": [["HIGH_VALUE", "UNUSUAL_TIME"]] * n,
            "rule_score": [score] * n,
            "fraud_score": [float(score)] * n,
            "risk_level": ["MEDIUM"] * n,
            "description": ["test alert"] * n,
            "rules_version": ["rules-test"] * n,
            "model_version": pa.array([None] * n, pa.string()),
        }
    )


def _sync(pg: PostgresResource, alerts: pa.Table, run_id: str):
    with pg.connect() as conn:
        return sync_day_alerts(conn, DAY, alerts, run_id)


def _refused(pg: PostgresResource, statement: str, params=()) -> None:
    with pg.connect() as conn, pytest.raises(Refused):
        conn.execute(statement, params)


def _run(pg: PostgresResource, statement: str, params=()) -> list[tuple]:
    with pg.connect() as conn:
        cur = conn.execute(statement, params)
        return cur.fetchall() if cur.description else []


def _history(admin: PostgresResource, transaction_id: str) -> list[tuple]:
    return _run(
        admin,
        """SELECT from_status, to_status, changed_by, db_user, note
             FROM fraud_alert_review_history WHERE transaction_id = %s ORDER BY history_id""",
        (transaction_id,),
    )


def test_pipeline_writes_machine_columns_and_nothing_of_a_review(users):
    pipeline, admin = users["pipeline"], users["admin"]
    assert _sync(pipeline, _alerts("RA1", "RA2"), "run-1").inserted == 2
    alert_id = _run(admin, "SELECT alert_id FROM fraud_alerts WHERE transaction_id = 'RA1'")[0][0]
    _refused(
        pipeline,
        "UPDATE fraud_alerts SET status = 'FALSE_POSITIVE' WHERE alert_id = %s",
        (alert_id,),
    )
    _refused(pipeline, "UPDATE fraud_alerts SET review_note = 'x' WHERE alert_id = %s", (alert_id,))
    _refused(
        pipeline,
        """INSERT INTO fraud_alerts (transaction_id, customer_id, transaction_date, amount,
               rules_triggered, rule_score, fraud_score, risk_level, description,
               rules_version, dagster_run_id, status, reviewed_by, reviewed_at)
           VALUES ('RA9', 'C1', '2026-02-10', 1, '{}', 0, 0, 'LOW', 'd', 'v', 'r',
                   'CONFIRMED', 'me', '2026-02-10')""",
    )
    _refused(pipeline, "SELECT * FROM fraud_alert_review_history")
    for statement in (
        "UPDATE fraud_alert_review_history SET note = 'rewritten'",
        "DELETE FROM fraud_alert_review_history",
        "TRUNCATE fraud_alert_review_history",
        "INSERT INTO fraud_alert_review_history (alert_id, transaction_id, db_user, to_status) "
        "VALUES (1, 'x', 'x', 'CONFIRMED')",
    ):
        _refused(pipeline, statement)


def test_analyst_reviews_and_history_records_each_change(users, monkeypatch, capsys):
    pipeline, analyst, admin = users["pipeline"], users["analyst"], users["admin"]
    _sync(pipeline, _alerts("RB1", "RB2"), "run-1")
    alert_id = _run(admin, "SELECT alert_id FROM fraud_alerts WHERE transaction_id = 'RB1'")[0][0]

    # The CLI, as the analyst's login.
    monkeypatch.setenv("FRAUD_ANALYST_DB_USER", analyst.user)
    monkeypatch.setenv("FRAUD_ANALYST_DB_PASSWORD", analyst.password)
    review = ["alerts", "review", str(alert_id), "--by", "analyst.jane"]
    assert cli.main([*review, "--status", "UNDER_REVIEW"]) == 0
    assert cli.main([*review, "--status", "CONFIRMED", "--note", "customer denied it"]) == 0
    assert "CONFIRMED by analyst.jane" in capsys.readouterr().out
    assert cli.main(["alerts", "review", "999999", "--status", "CONFIRMED", "--by", "x"]) == 1

    assert _history(admin, "RB1") == [
        ("PENDING", "UNDER_REVIEW", "analyst.jane", analyst.user, None),
        ("UNDER_REVIEW", "CONFIRMED", "analyst.jane", analyst.user, "customer denied it"),
    ]
    assert cli.main(["alerts", "history", str(alert_id)]) == 0
    out = capsys.readouterr().out
    assert "UNDER_REVIEW -> CONFIRMED" in out and "customer denied it" in out

    # What the analyst may not do.
    _refused(analyst, "UPDATE fraud_alerts SET rule_score = 0 WHERE alert_id = %s", (alert_id,))
    _refused(analyst, "UPDATE fraud_alerts SET is_produced = FALSE")
    _refused(analyst, "DELETE FROM fraud_alerts WHERE transaction_id = 'RB2'")
    _refused(analyst, "INSERT INTO fraud_alerts (transaction_id) VALUES ('x')")
    _refused(analyst, "SELECT * FROM customers")
    _refused(analyst, "SELECT * FROM customers_quarantine")
    _refused(analyst, "DELETE FROM transactions")
    for statement in (
        "UPDATE fraud_alert_review_history SET note = 'rewritten'",
        "DELETE FROM fraud_alert_review_history",
        "TRUNCATE fraud_alert_review_history",
        "INSERT INTO fraud_alert_review_history (alert_id, transaction_id, db_user, to_status) "
        "VALUES (1, 'x', 'x', 'CONFIRMED')",
    ):
        _refused(analyst, statement)
    assert _run(analyst, "SELECT count(*) FROM transactions") == [(0,)]
    assert len(_run(analyst, "SELECT * FROM fraud_alert_review_history")) >= 2

    # The pipeline's rewrite of the day (RB1 no longer produced, RB2 rescored) keeps the
    # review, retires the reviewed alert, and adds no history.
    result = _sync(pipeline, _alerts("RB2", score=60), "run-2")
    assert (result.updated, result.retired, result.removed) == (1, 1, 0)
    assert _run(
        admin,
        "SELECT status, reviewed_by, review_note, is_produced FROM fraud_alerts WHERE transaction_id = 'RB1'",
    ) == [("CONFIRMED", "analyst.jane", "customer denied it", False)]
    assert len(_history(admin, "RB1")) == 2 and _history(admin, "RB2") == []
    # A reviewed alert is never deleted, even by a role holding DELETE.
    _refused(pipeline, "DELETE FROM fraud_alerts WHERE transaction_id = 'RB1'")
    # Even the history's owner cannot rewrite it while its triggers stand.
    with admin.connect() as conn, pytest.raises(Refused, match="append-only"):
        conn.execute("UPDATE fraud_alert_review_history SET note = 'x'")


def test_reporting_reads_and_changes_nothing(users):
    reporting = users["reporting"]
    _sync(users["pipeline"], _alerts("RC1"), "run-1")
    assert _run(reporting, "SELECT transaction_id FROM fraud_alerts") == [("RC1",)]
    for table in (
        "transactions",
        "fraud_alert_review_history",
        "transactions_quarantine",
        "ops_events",
    ):
        _run(reporting, f"SELECT count(*) FROM {table}")
    _refused(reporting, "SELECT * FROM customers")
    _refused(reporting, "SELECT * FROM customers_quarantine")
    _refused(
        reporting,
        "UPDATE fraud_alerts SET status = 'CONFIRMED', reviewed_by = 'r', reviewed_at = now()",
    )
    _refused(reporting, "DELETE FROM fraud_alerts")
    _refused(reporting, "DELETE FROM transactions")
    _refused(reporting, "INSERT INTO ops_events (kind, message) VALUES ('x', 'y')")


def test_group_roles_cannot_log_in(users):
    assert _run(
        users["admin"],
        "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = ANY(%s) ORDER BY 1",
        (["fraud_analyst", "fraud_pipeline", "fraud_reporting"],),
    ) == [("fraud_analyst", False), ("fraud_pipeline", False), ("fraud_reporting", False)]
