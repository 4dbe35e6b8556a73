"""fraud_alerts in PostgreSQL: the alert lifecycle of CONTRACT.md for one day.

In one transaction: new alerts are inserted; existing ones get their machine columns
rewritten only when something changed (so an identical re-run touches nothing, not even
updated_at or the run id); unreviewed alerts no longer produced are deleted; reviewed
ones no longer produced are kept and marked `is_produced = FALSE`. The review columns
(status, reviewed_by, reviewed_at) are never written here.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql

MACHINE_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "transaction_date",
    "amount",
    "currency",
    "amount_usd",
    "merchant_name",
    "location_country",
    "alert_type",
    "rules_triggered",
    "rule_score",
    "model_score",
    "fraud_score",
    "risk_level",
    "description",
    "rules_version",
    "model_version",
)
_INCOMING = ("transaction_id", *MACHINE_COLUMNS, "dagster_run_id")
# Which machine columns decide "changed": the run id alone is not a change.
_COMPARED = MACHINE_COLUMNS


@dataclass(frozen=True)
class AlertSync:
    inserted: int
    updated: int
    unchanged: int
    removed: int
    retired: int


def _incoming_table(alerts: pa.Table, run_id: str) -> pa.Table:
    n = alerts.num_rows

    def col(name: str, default=None, type_: pa.DataType | None = None):
        return (
            alerts[name]
            if name in alerts.column_names
            else pa.array([default] * n, type_ or pa.string())
        )

    rules = ["{" + ",".join(r) + "}" for r in alerts["rules_triggered"].to_pylist()] if n else []
    return pa.table(
        {
            "transaction_id": col("transaction_id"),
            "customer_id": col("customer_id"),
            "transaction_date": pa.array(
                [
                    t.replace(tzinfo=None) if t else None
                    for t in col("transaction_date").to_pylist()
                ],
                pa.timestamp("us"),
            ),
            "amount": col("amount"),
            "currency": col("currency"),
            "amount_usd": col("amount_usd"),
            "merchant_name": col("merchant_name"),
            "location_country": col("location_country"),
            "alert_type": col("alert_type", "RULES"),
            "rules_triggered": pa.array(rules, pa.string()),
            "rule_score": col("rule_score"),
            "model_score": col("model_score", None, pa.float64()),
            "fraud_score": col("fraud_score"),
            "risk_level": col("risk_level"),
            "description": col("description"),
            "rules_version": col("rules_version"),
            "model_version": col("model_version"),
            "dagster_run_id": pa.array([run_id] * n, pa.string()),
        }
    )


def sync_day_alerts(
    conn: psycopg.Connection, day: dt.date, alerts: pa.Table, run_id: str
) -> AlertSync:
    start = dt.datetime.combine(day, dt.time())
    end = start + dt.timedelta(days=1)
    incoming = _incoming_table(alerts, run_id)
    with conn.transaction():
        conn.execute(
            "CREATE TEMP TABLE incoming_alerts (LIKE fraud_alerts INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        conn.execute("ALTER TABLE incoming_alerts DROP COLUMN alert_id")
        if incoming.num_rows:
            buffer = io.BytesIO()
            pacsv.write_csv(incoming, buffer, pacsv.WriteOptions(include_header=False))
            copy_sql = sql.SQL("COPY incoming_alerts ({}) FROM STDIN (FORMAT csv)").format(
                sql.SQL(", ").join(map(sql.Identifier, _INCOMING))
            )
            with conn.cursor().copy(copy_sql) as copy:
                copy.write(buffer.getvalue())
        outside = conn.execute(
            "SELECT count(*) FROM incoming_alerts WHERE transaction_date < %s OR transaction_date >= %s",
            (start, end),
        ).fetchone()[0]
        if outside:
            raise ValueError(
                f"{outside} alerts are not on {day}: refusing to sync them as that day's"
            )
        incoming_cols = sql.SQL(", ").join(map(sql.Identifier, _INCOMING))
        changed = sql.SQL(" OR ").join(
            sql.SQL("a.{c} IS DISTINCT FROM i.{c}").format(c=sql.Identifier(c)) for c in _COMPARED
        )
        assignments = sql.SQL(", ").join(
            sql.SQL("{c} = i.{c}").format(c=sql.Identifier(c)) for c in MACHINE_COLUMNS
        )
        updated = conn.execute(
            sql.SQL(
                """UPDATE fraud_alerts a
                      SET {assignments},
                          dagster_run_id = i.dagster_run_id,
                          is_produced = TRUE,
                          updated_at = now() AT TIME ZONE 'UTC'
                     FROM incoming_alerts i
                    WHERE a.transaction_id = i.transaction_id
                      AND ({changed} OR NOT a.is_produced)"""
            ).format(assignments=assignments, changed=changed)
        ).rowcount
        inserted = conn.execute(
            sql.SQL(
                """INSERT INTO fraud_alerts ({cols}) SELECT {cols} FROM incoming_alerts
                   ON CONFLICT (transaction_id) DO NOTHING"""
            ).format(cols=incoming_cols)
        ).rowcount
        window = {"start": start, "end": end}
        removed = conn.execute(
            """DELETE FROM fraud_alerts
                WHERE transaction_date >= %(start)s AND transaction_date < %(end)s
                  AND NOT EXISTS (SELECT 1 FROM incoming_alerts i WHERE i.transaction_id = fraud_alerts.transaction_id)
                  AND status = 'PENDING' AND reviewed_at IS NULL""",
            window,
        ).rowcount
        retired = conn.execute(
            """UPDATE fraud_alerts SET is_produced = FALSE, updated_at = now() AT TIME ZONE 'UTC'
                WHERE transaction_date >= %(start)s AND transaction_date < %(end)s
                  AND NOT EXISTS (SELECT 1 FROM incoming_alerts i WHERE i.transaction_id = fraud_alerts.transaction_id)
                  AND is_produced AND (status <> 'PENDING' OR reviewed_at IS NOT NULL)""",
            window,
        ).rowcount
    return AlertSync(inserted, updated, incoming.num_rows - inserted - updated, removed, retired)
