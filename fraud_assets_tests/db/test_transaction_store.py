"""The day's storage layout: slices balanced by rows, export in order (real PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pyarrow.compute as pc
from psycopg import sql

from fraud_assets.db.transaction_store import day_table, export_day, replace_day
from fraud_assets.logic.validation import validate_transactions
from fraud_assets_tests.feeds import feed_table, good_record

DAY = dt.date(2026, 11, 20)


def _afternoon_heavy_day():
    # Like real card traffic: few rows at night, most in the afternoon and evening.
    records = [good_record(f"T{i:05d}", f"2026-11-20T0{i % 6}:{i % 60:02d}:00Z") for i in range(30)]
    records += [
        good_record(f"T{i:05d}", f"2026-11-20T{12 + i % 12}:{i % 60:02d}:{i % 59:02d}Z")
        for i in range(30, 400)
    ]
    result = validate_transactions(feed_table(records), DAY)
    assert result.quarantine.num_rows == 0
    return result.good


def test_slices_get_about_the_same_number_of_rows_and_export_keeps_the_order(clean_db):
    rows = _afternoon_heavy_day()
    replace_day(clean_db.connect, DAY, rows, slices=2)

    with clean_db.connect() as conn:
        leaves = conn.execute(
            """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = to_regclass(%s) ORDER BY c.relname""",
            (day_table(DAY),),
        ).fetchall()
        counts = [
            conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name))
            ).fetchone()[0]
            for (name,) in leaves
        ]
    # An even split of the clock would put 30 rows in one slice and 370 in the other.
    assert len(counts) == 2 and sum(counts) == 400
    assert abs(counts[0] - counts[1]) <= 2, counts

    exported = export_day(clean_db.connect, DAY, 2)
    assert exported.num_rows == 400
    keys = list(
        zip(
            exported["transaction_date"].to_pylist(),
            exported["transaction_id"].to_pylist(),
            strict=True,
        )
    )
    assert keys == sorted(keys)
    assert pc.sum(exported["amount"]).as_py() == pc.sum(rows["amount"]).as_py()


def test_a_day_whose_rows_share_one_instant_still_loads(clean_db):
    records = [good_record(f"S{i:03d}", "2026-11-20T05:00:00Z") for i in range(10)]
    rows = validate_transactions(feed_table(records), DAY).good
    replace_day(clean_db.connect, DAY, rows, slices=2)
    assert export_day(clean_db.connect, DAY, 2).num_rows == 10
