"""Contract checks on the rows PostgreSQL holds for a day, as read-only SQL.

The table itself enforces part of the contract: required columns are NOT NULL, amounts fit
DECIMAL(12,2), the day's partition bounds keep transaction_date inside the day, and the
primary key keeps an id unique within the day. What remains is checked here.
"""

from __future__ import annotations

import datetime as dt

import psycopg
from psycopg import sql

from fraud_assets.contract.currency import supported_currencies
from fraud_assets.contract.geography import SUPPORTED_COUNTRIES
from fraud_assets.db.transaction_store import day_table, other_day_leaves_overlapping

# rule -> SQL condition a violating row satisfies (constants, never user input)
VIOLATIONS: dict[str, str] = {
    "amount_not_positive": "amount <= 0",
    "unknown_currency": "currency IS NOT NULL AND NOT currency = ANY(%(currencies)s)",
    "unknown_country": "location_country IS NOT NULL AND NOT location_country = ANY(%(countries)s)",
}
SAMPLE = 5


def day_violations(conn: psycopg.Connection, day: dt.date) -> dict[str, dict]:
    """{rule: {"count": n, "sample": [transaction_id, ...]}} for each rule the day breaks."""
    start = dt.datetime.combine(day, dt.time())
    params = {
        "start": start,
        "end": start + dt.timedelta(days=1),
        "currencies": sorted(supported_currencies()),
        "countries": sorted(SUPPORTED_COUNTRIES),
    }
    found: dict[str, dict] = {}
    for rule, condition in VIOLATIONS.items():
        query = sql.SQL(
            "SELECT count(*) OVER (), transaction_id FROM transactions "
            "WHERE transaction_date >= %(start)s AND transaction_date < %(end)s AND ({}) "
            "ORDER BY transaction_id LIMIT {}"
        ).format(sql.SQL(condition), sql.Literal(SAMPLE))
        rows = conn.execute(query, params).fetchall()
        if rows:
            found[rule] = {"count": rows[0][0], "sample": [r[1] for r in rows]}
    shared = ids_on_other_days(conn, day)
    if shared:
        found["transaction_id_on_another_day"] = {"count": len(shared), "sample": shared[:SAMPLE]}
    return found


def ids_on_other_days(conn: psycopg.Connection, day: dt.date) -> list[str]:
    """The day's ids that another day also holds (only days whose id range overlaps)."""
    if conn.execute("SELECT to_regclass(%s) IS NULL", (day_table(day),)).fetchone()[0]:
        return []
    lo, hi = conn.execute(
        sql.SQL("SELECT min(transaction_id), max(transaction_id) FROM {}").format(
            sql.Identifier(day_table(day))
        )
    ).fetchone()
    if lo is None:
        return []
    shared: list[str] = []
    for leaf in other_day_leaves_overlapping(conn, day, lo, hi):
        shared += [
            r[0]
            for r in conn.execute(
                sql.SQL(
                    "SELECT d.transaction_id FROM {} d JOIN {} o USING (transaction_id) ORDER BY 1"
                ).format(sql.Identifier(day_table(day)), sql.Identifier(leaf))
            )
        ]
    return sorted(shared)
