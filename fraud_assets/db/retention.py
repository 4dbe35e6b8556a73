"""Retention of `transactions` in PostgreSQL: which days are live, which are past the
window, and removing one day. Pure database logic; the decision to remove a day (its lake
copy reconciles) is taken by the caller (`fraud_assets/defs/retention/jobs.py`).

What a removal touches, and what it does not:
- The day table `transactions_pYYYYMMDD` (and its time slices) is detached and dropped in
  one transaction. No CASCADE: if anything depends on the table, the drop fails loudly.
- `fraud_alerts` is never touched: it has no foreign key to `transactions` and carries the
  transaction facts an analyst needs, so reviewed and unreviewed alerts outlive their day.
- `transactions_quarantine` rows of the day are kept: they are the evidence of what a feed
  delivered and why it was refused, and exist nowhere else (the lake holds only good rows).
  They are few; a reload of the day still replaces them as before.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import psycopg
from psycopg import sql

from fraud_assets.db.transaction_store import PARENT, count_day, day_table

# pg_get_expr() of a day partition's bound: FOR VALUES FROM ('2026-01-01 00:00:00') TO (...)
_BOUND = re.compile(r"^FOR VALUES FROM \('([^']+)'\) TO \('([^']+)'\)$")


class RetentionRefused(Exception):
    """The day was not removed; `reason` is a short code for reports."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class DaySnapshot:
    """What a day held when it was reconciled: its table (a reload swaps in a new one),
    row count and amount sum."""

    table_oid: int
    rows: int
    amount: Decimal


@dataclass(frozen=True)
class RetentionPlan:
    cutoff: dt.date  # days before this one are past the window
    expired: list[dt.date]  # oldest first
    live: list[dt.date]


def live_days(conn: psycopg.Connection) -> list[dt.date]:
    """Days attached to `transactions`, oldest first.

    A partition counts as a day only if its bound is exactly one UTC day and its name is
    the loader's name for that day; anything else attached by hand is not ours to manage.
    """
    days = []
    for name, bound in conn.execute(
        """SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
             FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = %s::regclass""",
        (PARENT,),
    ):
        match = _BOUND.match(bound or "")
        if match is None:
            continue
        lo, hi = (dt.datetime.fromisoformat(v) for v in match.groups())
        if lo.time() != dt.time() or hi - lo != dt.timedelta(days=1):
            continue
        if name == day_table(lo.date()):
            days.append(lo.date())
    return sorted(days)


def plan_retention(days: Iterable[dt.date], today: dt.date, keep_days: int) -> RetentionPlan:
    """PostgreSQL keeps `today` and the `keep_days` days before it; older days are expired."""
    if keep_days < 1:
        raise ValueError(f"keep_days must be at least 1, got {keep_days}")
    cutoff = today - dt.timedelta(days=keep_days)
    ordered = sorted(set(days))
    return RetentionPlan(
        cutoff=cutoff,
        expired=[d for d in ordered if d < cutoff],
        live=[d for d in ordered if d >= cutoff],
    )


def snapshot_day(conn: psycopg.Connection, day: dt.date) -> DaySnapshot | None:
    """The day's table, rows and amount sum (`count_day`), or None if the day is not live."""
    oid = _attached_oid(conn, day)
    if oid is None:
        return None
    rows, amount = count_day(conn, day)
    return DaySnapshot(oid, rows, Decimal(amount))


def drop_day(conn: psycopg.Connection, day: dt.date, expected: DaySnapshot | None = None) -> int:
    """Detach and drop the day's table in one transaction; return the rows it held.

    With `expected`, the day is dropped only if it is still the same table with the same
    rows and amount sum, checked under a lock that keeps writers out until the commit, so
    nothing written after the caller reconciled the day is lost. A load of the day in
    progress (the loader's advisory lock) makes it refuse rather than wait. Raises
    `RetentionRefused`; then nothing changed.
    """
    table = day_table(day)
    with conn.transaction():
        conn.execute("SET LOCAL lock_timeout = '60s'")
        # The loader holds this lock (session level) for a whole load of the day.
        (locked,) = conn.execute(
            "SELECT pg_try_advisory_xact_lock(hashtext(%s))", (table,)
        ).fetchone()
        if not locked:
            raise RetentionRefused("day_busy", f"{table} is being loaded")
        oid = _attached_oid(conn, day)
        if oid is None:
            raise RetentionRefused("not_live", f"{table} is not a partition of {PARENT}")
        if expected is not None and oid != expected.table_oid:
            raise RetentionRefused("day_changed", f"{table} was reloaded after reconciliation")
        # SHARE: readers go on, writers wait until the drop commits.
        conn.execute(sql.SQL("LOCK TABLE {} IN SHARE MODE").format(sql.Identifier(table)))
        rows, amount = conn.execute(
            sql.SQL("SELECT count(*), coalesce(sum(amount), 0) FROM {}").format(
                sql.Identifier(table)
            )
        ).fetchone()
        if expected is not None and (rows, Decimal(amount)) != (expected.rows, expected.amount):
            raise RetentionRefused(
                "day_changed",
                f"{table} holds {rows} rows / {amount} after reconciliation found "
                f"{expected.rows} rows / {expected.amount}",
            )
        conn.execute(
            sql.SQL("ALTER TABLE {} DETACH PARTITION {}").format(
                sql.Identifier(PARENT), sql.Identifier(table)
            )
        )
        # Its time slices are its partitions and go with it; no CASCADE to anything else.
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))
    return rows


def _attached_oid(conn: psycopg.Connection, day: dt.date) -> int | None:
    row = conn.execute(
        """SELECT i.inhrelid FROM pg_inherits i
            WHERE i.inhrelid = to_regclass(%s) AND i.inhparent = %s::regclass""",
        (day_table(day), PARENT),
    ).fetchone()
    return None if row is None else int(row[0])
