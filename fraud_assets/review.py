"""`fraud-assets alerts review|history`: an analyst's decision on an alert, and its trail.

The command connects as the analyst's database login (FRAUD_ANALYST_DB_USER /
FRAUD_ANALYST_DB_PASSWORD, a member of the `fraud_analyst` role), so the database itself
limits it to the review columns; the review history row is written by a trigger, not by
this code. Without those variables it falls back to FRAUD_DB_USER / FRAUD_DB_PASSWORD
(the local demo's superuser) and says so: fine on a laptop, wrong in a bank.
"""

from __future__ import annotations

import argparse
import os
import sys

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

STATUSES = ("PENDING", "UNDER_REVIEW", "CONFIRMED", "FALSE_POSITIVE")


def analyst_conninfo() -> str:
    user = os.environ.get("FRAUD_ANALYST_DB_USER")
    password = os.environ.get("FRAUD_ANALYST_DB_PASSWORD")
    if not user:
        print(
            "warning: FRAUD_ANALYST_DB_USER is not set; reviewing as FRAUD_DB_USER, not as "
            "an fraud_analyst login (see docs/security.md)",
            file=sys.stderr,
        )
        user, password = os.environ["FRAUD_DB_USER"], os.environ.get("FRAUD_DB_PASSWORD")
    extra = {}
    if os.environ.get("FRAUD_DB_SSLROOTCERT"):
        extra["sslrootcert"] = os.environ["FRAUD_DB_SSLROOTCERT"]
    return make_conninfo(
        host=os.environ["FRAUD_DB_HOST"],
        port=os.environ.get("FRAUD_DB_PORT", "5432"),
        dbname=os.environ.get("FRAUD_DB_NAME", "frauddb"),
        user=user,
        password=password,
        sslmode=os.environ.get("FRAUD_DB_SSLMODE", "prefer"),
        application_name="fraud-assets alerts review",
        **extra,
    )


def review_alert(
    conn: psycopg.Connection, alert_id: int, status: str, by: str, note: str | None = None
) -> dict | None:
    """Record a decision (the note belongs to this decision; none clears the old one).
    Returns the alert's review columns after the change, or None if there is no such alert."""
    if status not in STATUSES:
        raise ValueError(f"status {status!r}: expected one of {', '.join(STATUSES)}")
    if not by.strip():
        raise ValueError("a review is signed: --by names the analyst")
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """UPDATE fraud_alerts
                  SET status = %s, reviewed_by = %s, review_note = %s,
                      reviewed_at = now() AT TIME ZONE 'UTC'
                WHERE alert_id = %s
            RETURNING alert_id, transaction_id, status, reviewed_by, reviewed_at, review_note""",
            (status, by.strip(), note, alert_id),
        )
        row = cur.fetchone()
    conn.commit()
    return row


def alert_history(conn: psycopg.Connection, alert_id: int) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """SELECT history_id, changed_at, changed_by, db_user, from_status, to_status, note
                 FROM fraud_alert_review_history WHERE alert_id = %s ORDER BY history_id""",
            (alert_id,),
        )
        return cur.fetchall()


def _connect() -> psycopg.Connection:
    if not os.environ.get("FRAUD_DB_HOST"):
        from fraud_assets.local import prepare_local_environment

        prepare_local_environment()
    return psycopg.connect(analyst_conninfo())


def cmd_review(args: argparse.Namespace) -> int:
    try:
        with _connect() as conn:
            row = review_alert(conn, args.alert_id, args.status, args.by, args.note)
    except psycopg.errors.InsufficientPrivilege as e:
        print(f"refused by the database: {e}", file=sys.stderr)
        return 2
    if row is None:
        print(f"no alert {args.alert_id}", file=sys.stderr)
        return 1
    print(
        f"alert {row['alert_id']} (transaction {row['transaction_id']}): {row['status']} "
        f"by {row['reviewed_by']} at {row['reviewed_at']:%Y-%m-%d %H:%M:%S} UTC"
    )
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    with _connect() as conn:
        rows = alert_history(conn, args.alert_id)
    if not rows:
        print(f"no review history for alert {args.alert_id}")
    for r in rows:
        note = f"  note: {r['note']}" if r["note"] else ""
        print(
            f"{r['changed_at']:%Y-%m-%d %H:%M:%S}  {r['from_status'] or '-'} -> {r['to_status']}"
            f"  by {r['changed_by']} (db user {r['db_user']}){note}"
        )
    return 0


def add_alerts_parser(sub) -> None:
    """`alerts review` and `alerts history` under the CLI's subcommands."""
    alerts = sub.add_parser("alerts", help="review an alert, show its review history")
    actions = alerts.add_subparsers(dest="action", required=True)
    review = actions.add_parser("review", help="record an analyst's decision on an alert")
    review.add_argument("alert_id", type=int)
    review.add_argument("--status", choices=STATUSES, required=True)
    review.add_argument("--by", required=True, help="the analyst's name, as signed")
    review.add_argument("--note", help="why (kept in the review history)")
    review.set_defaults(func=cmd_review)
    history = actions.add_parser("history", help="every review change of an alert")
    history.add_argument("alert_id", type=int)
    history.set_defaults(func=cmd_history)
