"""Alert volume per UTC day over a recent window, read from PostgreSQL `fraud_alerts`
(the analysts' table): what the materialization metadata charts for the last days."""

from __future__ import annotations

import datetime as dt

import psycopg

LEVELS = ("CRITICAL", "HIGH", "MEDIUM", "LOW")


def alert_volume(conn: psycopg.Connection, last_day: dt.date, days: int = 14) -> dict:
    """{day: {"alerts", <level>..., "reviewed"}} for the `days` days ending `last_day`,
    every day present (zeros where nothing was alerted). Alerts no longer produced by the
    rules but kept for their review are not counted."""
    first_day = last_day - dt.timedelta(days=days - 1)
    rows = conn.execute(
        """
        SELECT transaction_date::date AS day, risk_level, count(*),
               count(*) FILTER (WHERE status <> 'PENDING')
        FROM fraud_alerts
        WHERE transaction_date >= %s AND transaction_date < %s AND is_produced
        GROUP BY 1, 2
        """,
        (first_day, last_day + dt.timedelta(days=1)),
    ).fetchall()
    volume = {
        first_day + dt.timedelta(days=i): {"alerts": 0, **dict.fromkeys(LEVELS, 0), "reviewed": 0}
        for i in range(days)
    }
    for day, level, count, reviewed in rows:
        entry = volume[day]
        entry["alerts"] += count
        entry[level] = entry.get(level, 0) + count
        entry["reviewed"] += reviewed
    return volume
