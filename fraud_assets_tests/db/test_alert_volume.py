"""The alert-volume table of fraud_alerts' metadata: real PostgreSQL rows, per day."""

from __future__ import annotations

import datetime as dt

import psycopg

from fraud_assets.db.alert_volume import alert_volume
from fraud_assets.defs.metadata import alert_volume_table

LAST = dt.date(2026, 11, 20)


def _alert(conn, tid: str, when: dt.datetime, level: str, status: str = "PENDING", produced=True):
    reviewed = ("analyst", when) if status != "PENDING" else (None, None)
    conn.execute(
        """INSERT INTO fraud_alerts (transaction_id, customer_id, transaction_date, amount,
               rules_triggered, rule_score, fraud_score, risk_level, description,
               rules_version, dagster_run_id, is_produced, status, reviewed_by, reviewed_at)
           VALUES (%s, 'C1', %s, 10, ARRAY['HIGH_VALUE'], 50, 50, %s, 'd', 'v', 'r', %s, %s,
                   %s, %s)""",
        (tid, when, level, produced, status, *reviewed),
    )


def test_alert_volume_counts_each_day_of_the_window(clean_db):
    with psycopg.connect(clean_db.conninfo) as conn:
        _alert(conn, "A1", dt.datetime(2026, 11, 20, 23, 59, 59), "CRITICAL")
        _alert(conn, "A2", dt.datetime(2026, 11, 20, 0, 0), "MEDIUM", status="CONFIRMED")
        _alert(conn, "A3", dt.datetime(2026, 11, 7, 0, 0), "HIGH")  # first day of 14
        _alert(conn, "A4", dt.datetime(2026, 11, 6, 23, 59), "HIGH")  # before the window
        _alert(conn, "A5", dt.datetime(2026, 11, 21, 0, 0), "HIGH")  # after it
        _alert(conn, "A6", dt.datetime(2026, 11, 19, 12, 0), "HIGH", "FALSE_POSITIVE", False)
        conn.commit()
        volume = alert_volume(conn, LAST, 14)
    assert list(volume) == [dt.date(2026, 11, 7) + dt.timedelta(days=i) for i in range(14)]
    assert volume[LAST] == {
        "alerts": 2,
        "CRITICAL": 1,
        "HIGH": 0,
        "MEDIUM": 1,
        "LOW": 0,
        "reviewed": 1,
    }
    assert volume[dt.date(2026, 11, 7)]["HIGH"] == 1
    # Kept only for its review: not produced by the rules any more, not counted.
    assert volume[dt.date(2026, 11, 19)]["alerts"] == 0
    assert sum(v["alerts"] for v in volume.values()) == 3

    table = alert_volume_table(clean_db, LAST).value
    assert table.splitlines()[2].startswith("| 2026-11-20 | 2 | 1 | 0 | 1 | 0 | 1 |")
    assert len(table.splitlines()) == 2 + 14
