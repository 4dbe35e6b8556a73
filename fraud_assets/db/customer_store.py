"""Upsert a day's customers feed into PostgreSQL `customers`, with its quarantine.

One transaction per day: the upsert and the day's quarantine rows commit together. The
feed day is kept per customer, so re-running an older day never undoes a newer one, and
re-running the same day changes nothing (rows whose values are unchanged are not touched).
The pipeline's own columns (total_transactions, lifetime_value, ...) are not in the feed
and are never overwritten by it.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql

from fraud_assets.contract.customers import CUSTOMER_FEED_COLUMNS
from fraud_assets.db.quarantine import QUARANTINE_COLUMNS


@dataclass(frozen=True)
class CustomerUpsert:
    inserted: int
    updated: int
    unchanged: int  # same values already stored, or stored from a newer feed day


def replace_customers_day(
    conn: psycopg.Connection,
    day: dt.date,
    good: pa.Table,
    quarantine: pa.Table,
    run_id: str,
) -> CustomerUpsert:
    with conn.transaction():
        conn.execute(
            "CREATE TEMP TABLE customers_feed (LIKE customers INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        _copy(conn, "customers_feed", good, CUSTOMER_FEED_COLUMNS)
        columns = [sql.Identifier(c) for c in CUSTOMER_FEED_COLUMNS]
        changed = sql.SQL(" OR ").join(
            sql.SQL("c.{0} IS DISTINCT FROM EXCLUDED.{0}").format(c) for c in columns[1:]
        )
        rows = conn.execute(
            sql.SQL(
                """INSERT INTO customers AS c ({cols}, feed_date, updated_at)
                   SELECT {cols}, %(day)s, now() AT TIME ZONE 'UTC' FROM customers_feed
                   ON CONFLICT (customer_id) DO UPDATE
                      SET {sets}, feed_date = EXCLUDED.feed_date, updated_at = EXCLUDED.updated_at
                    WHERE (c.feed_date IS NULL OR c.feed_date <= EXCLUDED.feed_date)
                      AND ({changed})
                RETURNING (xmax = 0) AS inserted"""
            ).format(
                cols=sql.SQL(", ").join(columns),
                sets=sql.SQL(", ").join(
                    sql.SQL("{0} = EXCLUDED.{0}").format(c) for c in columns[1:]
                ),
                changed=changed,
            ),
            {"day": day},
        ).fetchall()
        inserted = sum(1 for (new,) in rows if new)
        conn.execute("DELETE FROM customers_quarantine WHERE partition_date = %s", (day,))
        if quarantine.num_rows:
            n = quarantine.num_rows
            table = quarantine.add_column(
                0, "partition_date", pa.array([day] * n, pa.date32())
            ).append_column("dagster_run_id", pa.array([run_id] * n, pa.string()))
            _copy(conn, "customers_quarantine", table, QUARANTINE_COLUMNS)
    return CustomerUpsert(inserted, len(rows) - inserted, good.num_rows - len(rows))


def _copy(conn: psycopg.Connection, table: str, rows: pa.Table, columns: tuple[str, ...]) -> None:
    if rows.num_rows == 0:
        return
    buffer = io.BytesIO()
    pacsv.write_csv(rows.select(list(columns)), buffer, pacsv.WriteOptions(include_header=False))
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.cursor().copy(statement) as copy:
        copy.write(buffer.getvalue())


def count_customers(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) FROM customers").fetchone()[0]
