"""What fraud_feedback reads from PostgreSQL: analysts' reviews and transaction facts."""

from __future__ import annotations

import datetime as dt

import psycopg
import pyarrow as pa

FACTS_SCHEMA = pa.schema(
    [
        ("transaction_id", pa.string()),
        ("transaction_date", pa.timestamp("us")),
        ("customer_id", pa.string()),
        ("merchant_name", pa.string()),
    ]
)
REVIEW_SCHEMA = pa.schema(
    [
        ("transaction_id", pa.string()),
        ("is_fraud", pa.bool_()),
        ("reported_at", pa.timestamp("us")),
        ("transaction_date", pa.timestamp("us")),
        ("customer_id", pa.string()),
        ("merchant_name", pa.string()),
    ]
)
# Review statuses that are labels; PENDING and UNDER_REVIEW are not decisions yet.
LABEL_STATUSES = ("CONFIRMED", "FALSE_POSITIVE")


def read_reviews(conn: psycopg.Connection, start: dt.datetime, end: dt.datetime) -> pa.Table:
    """Decided reviews with reviewed_at in [start, end): CONFIRMED is fraud, FALSE_POSITIVE
    is not. A review is observed in its current state: a changed decision moves to the day
    of its new reviewed_at (fraud_alerts keeps no review history)."""
    rows = conn.execute(
        """SELECT transaction_id, status = 'CONFIRMED', reviewed_at, transaction_date,
                  customer_id, merchant_name
             FROM fraud_alerts
            WHERE status = ANY(%(statuses)s) AND reviewed_at >= %(s)s AND reviewed_at < %(e)s
            ORDER BY transaction_id""",
        {"statuses": list(LABEL_STATUSES), "s": start, "e": end},
    ).fetchall()
    return pa.Table.from_pylist(
        [dict(zip(REVIEW_SCHEMA.names, r, strict=True)) for r in rows], REVIEW_SCHEMA
    )


def transaction_facts(conn: psycopg.Connection, ids: list[str]) -> pa.Table:
    """(transaction_id, transaction_date, customer_id, merchant_name) of the ids still stored
    in PostgreSQL; an id absent from the result is unknown (or past retention)."""
    rows = conn.execute(
        """SELECT transaction_id, transaction_date, customer_id, merchant_name
             FROM transactions WHERE transaction_id = ANY(%s)""",
        (sorted(set(ids)),),
    ).fetchall()
    return pa.Table.from_pylist(
        [dict(zip(FACTS_SCHEMA.names, r, strict=True)) for r in rows], FACTS_SCHEMA
    )


def review_state(conn: psycopg.Connection) -> tuple[int, dt.datetime | None]:
    """How many decided reviews exist and the latest reviewed_at: the observed version."""
    count, latest = conn.execute(
        "SELECT count(*), max(reviewed_at) FROM fraud_alerts WHERE status = ANY(%s)",
        (list(LABEL_STATUSES),),
    ).fetchone()
    return count, latest
