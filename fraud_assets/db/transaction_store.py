"""Replace and export one UTC day of `transactions` in PostgreSQL.

Storage design (what makes a day's load fast and atomic):
- `transactions` is range-partitioned by day, and each day is itself split into N time
  slices (N = connections used side by side, one per core).
- A load builds the new slices as standalone tables, one connection each: create, COPY
  (binary, so the server parses no text), then build the primary key and the B-tree
  indexes in bulk (a sort per index instead of one insertion per row per index), all in
  the transaction that created the table, so with wal_level=minimal PostgreSQL skips the
  WAL for the data.
- One short transaction then swaps the day: detach and drop the old day, attach the new
  one. Each slice carries a CHECK constraint matching its range, so attaching scans
  nothing and re-uses the slices' indexes. Readers see the old day or the new day, never
  a mixture; a crash before the swap leaves the old day intact (and orphans that the next
  load drops).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from psycopg import sql

from fraud_assets.contract.schema import COLUMN_NAMES, TRANSACTION_COLUMNS
from fraud_assets.db.binary_copy import binary_copy_chunks

PARENT = "transactions"
# Every index of the parent, rebuilt per slice so ATTACH can adopt them.
_SLICE_INDEXES: tuple[str, ...] = (
    "customer_id",
    "transaction_date DESC",
    "amount",
    "source_system",
    "merchant_category",
    "created_at DESC",
)
_PG_TYPES = [c.pg_type for c in TRANSACTION_COLUMNS]


@dataclass(frozen=True)
class DayLoad:
    rows_loaded: int
    cross_day_duplicates: pa.Table  # the good rows rejected because their id exists on another day
    replaced_rows: int  # rows the day had before


def day_table(day: dt.date) -> str:
    return f"{PARENT}_p{day:%Y%m%d}"


def slice_bounds(
    day: dt.date, slices: int, timestamps: pa.ChunkedArray | pa.Array | None = None
) -> list[tuple[dt.datetime, dt.datetime]]:
    """`slices` consecutive [lo, hi) ranges covering the day. Given the day's timestamps,
    the cuts fall on their quantiles so every slice gets about the same number of rows
    (card traffic is not uniform over the day: an even split of the clock left 70% of
    the rows in one slice); otherwise the clock is split evenly."""
    start = dt.datetime.combine(day, dt.time())
    end = start + dt.timedelta(days=1)
    if timestamps is not None and len(timestamps) >= slices > 1:
        micros = pc.cast(pc.cast(timestamps, pa.timestamp("us")), pa.int64())
        quantiles = pc.quantile(
            micros, q=[i / slices for i in range(1, slices)], interpolation="lower"
        ).to_pylist()
        epoch = dt.datetime(1970, 1, 1)
        cuts = sorted({epoch + dt.timedelta(microseconds=int(q)) for q in quantiles} - {start})
        cuts = [c for c in cuts if start < c < end]
    else:
        step = dt.timedelta(days=1) / slices
        cuts = [start + i * step for i in range(1, slices)]
    edges = [start, *cuts, end]
    return list(zip(edges[:-1], edges[1:], strict=True))


def stored_slice_bounds(
    conn: psycopg.Connection, day: dt.date, slices: int
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The slices the day was loaded as (read from the catalog), else an even split."""
    bounds = []
    for (expr,) in conn.execute(
        """SELECT pg_get_expr(c.relpartbound, c.oid)
             FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = to_regclass(%s)""",
        (day_table(day),),
    ):
        lo, hi = re.findall(r"'([^']+)'", expr)
        bounds.append((dt.datetime.fromisoformat(lo), dt.datetime.fromisoformat(hi)))
    return sorted(bounds) or slice_bounds(day, slices)


def replace_day(
    connect: Callable[[], psycopg.Connection],
    day: dt.date,
    rows: pa.Table,
    slices: int,
    on_swap: Callable[[pa.Table, psycopg.Connection], None] | None = None,
) -> DayLoad:
    """Load `rows` (the 18 typed columns) as the new content of `day`, atomically.

    Rows whose transaction_id already exists on another day are not loaded; they are
    returned, and passed to `on_swap` with the connection inside the swap transaction so
    that what belongs with the day (its quarantine) changes in the same commit.
    """
    token = secrets.token_hex(4)
    stage = f"{day_table(day)}_l{token}"
    bounds = slice_bounds(day, slices, rows["transaction_date"])
    with connect() as lock_conn:
        # One loader per day at a time; other days load in parallel.
        lock_conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (day_table(day),))
        try:
            _drop_orphans(lock_conn, day)
            try:
                with ThreadPoolExecutor(max_workers=slices) as pool:
                    futures = [
                        pool.submit(
                            _load_slice,
                            connect,
                            f"{stage}_s{i}",
                            lo,
                            hi,
                            rows_between(rows, lo, hi),
                        )
                        for i, (lo, hi) in enumerate(bounds)
                    ]
                    for f in futures:
                        f.result()
                duplicates = _cross_day_duplicates(lock_conn, day, stage, slices, rows)
                replaced = _swap(lock_conn, day, stage, bounds, duplicates, on_swap)
            finally:
                _drop_orphans(lock_conn, day)
        finally:
            lock_conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (day_table(day),))
            lock_conn.commit()
    return DayLoad(rows.num_rows - duplicates.num_rows, duplicates, replaced)


def rows_between(rows: pa.Table, lo: dt.datetime, hi: dt.datetime) -> pa.Table:
    ts = rows["transaction_date"]
    lo_s = pa.scalar(lo, pa.timestamp("us"))
    hi_s = pa.scalar(hi, pa.timestamp("us"))
    return rows.filter(pc.and_(pc.greater_equal(ts, lo_s), pc.less(ts, hi_s)))


def _load_slice(
    connect: Callable[[], psycopg.Connection],
    name: str,
    lo: dt.datetime,
    hi: dt.datetime,
    rows: pa.Table,
) -> None:
    table = sql.Identifier(name)
    with connect() as conn:
        # The range CHECK is declared up front: COPY checks each row as it arrives, where
        # adding it afterwards would scan the slice again. ATTACH relies on it.
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS, CONSTRAINT {} "
                "CHECK (transaction_date >= {} AND transaction_date < {}))"
            ).format(
                table,
                sql.Identifier(PARENT),
                sql.Identifier(f"{name}_range"),
                sql.Literal(lo),
                sql.Literal(hi),
            )
        )
        columns = sql.SQL(", ").join(map(sql.Identifier, COLUMN_NAMES))
        with conn.cursor().copy(
            # FREEZE (the table is new in this transaction): rows are written already
            # frozen, so the export's first read does not rewrite every page's hint bits.
            # Binary: the server parses no text (db/binary_copy.py).
            sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary, FREEZE)").format(table, columns)
        ) as copy:
            for chunk in binary_copy_chunks(rows.select(list(COLUMN_NAMES)), _PG_TYPES):
                copy.write(chunk)
        build_slice_indexes(conn, table)
        conn.commit()


def build_slice_indexes(conn: psycopg.Connection, table: sql.Identifier) -> None:
    """The primary key and every B-tree index of the parent, built in bulk on a loaded
    slice (one sort each), so ATTACH adopts them."""
    conn.execute(
        sql.SQL("ALTER TABLE {} ADD PRIMARY KEY (transaction_id, transaction_date)").format(table)
    )
    for definition in _SLICE_INDEXES:
        conn.execute(sql.SQL("CREATE INDEX ON {} ({})").format(table, sql.SQL(definition)))


def _cross_day_duplicates(
    conn: psycopg.Connection, day: dt.date, stage: str, slices: int, rows: pa.Table
) -> pa.Table:
    """Rows whose transaction_id is already stored on another day.

    A global unique index is impossible on a partitioned table, so each other day is
    checked, but only where its id range overlaps ours (min/max come from its primary
    key index, so this is cheap); ids that sort by time never overlap other days.
    """
    if rows.num_rows == 0:
        return rows.slice(0, 0)
    bounds = pc.min_max(rows["transaction_id"])
    found: list[str] = []
    for leaf in other_day_leaves_overlapping(
        conn, day, bounds["min"].as_py(), bounds["max"].as_py()
    ):
        for i in range(slices):
            found += [
                r[0]
                for r in conn.execute(
                    sql.SQL(
                        "SELECT n.transaction_id FROM {} n JOIN {} o USING (transaction_id)"
                    ).format(sql.Identifier(f"{stage}_s{i}"), sql.Identifier(leaf))
                )
            ]
    conn.commit()
    return rows.filter(pc.is_in(rows["transaction_id"], pa.array(found, pa.string())))


def other_day_leaves_overlapping(
    conn: psycopg.Connection, day: dt.date, lo: str, hi: str
) -> list[str]:
    """Leaf tables of other days whose transaction_id range overlaps [lo, hi].

    min/max come from each leaf's primary-key index, so this costs two index probes per
    leaf; ids that sort by time (as most banks' do) never overlap another day's.
    """
    overlapping = []
    for leaf in _leaves(conn, exclude_day=day):
        leaf_lo, leaf_hi = conn.execute(
            sql.SQL("SELECT min(transaction_id), max(transaction_id) FROM {}").format(
                sql.Identifier(leaf)
            )
        ).fetchone()
        if leaf_lo is not None and not (leaf_hi < lo or leaf_lo > hi):
            overlapping.append(leaf)
    return overlapping


def _leaves(conn: psycopg.Connection, exclude_day: dt.date) -> list[str]:
    own = day_table(exclude_day)
    return [
        name
        for (name,) in conn.execute(
            """SELECT c.relname
                 FROM pg_partition_tree(%s::regclass) t
                 JOIN pg_class c ON c.oid = t.relid
                WHERE t.isleaf""",
            (PARENT,),
        )
        if not name.startswith(own + "_") and name != own
    ]


def _swap(
    conn: psycopg.Connection,
    day: dt.date,
    stage: str,
    bounds: list[tuple[dt.datetime, dt.datetime]],
    duplicates: pa.Table,
    on_swap: Callable[[pa.Table, psycopg.Connection], None] | None,
) -> int:
    target = day_table(day)
    with conn.transaction():
        conn.execute("SET LOCAL lock_timeout = '120s'")
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS) PARTITION BY RANGE (transaction_date)"
            ).format(sql.Identifier(stage), sql.Identifier(PARENT))
        )
        for i, (lo, hi) in enumerate(bounds):
            leaf = f"{stage}_s{i}"
            if duplicates.num_rows:
                conn.execute(
                    sql.SQL("DELETE FROM {} WHERE transaction_id = ANY(%s)").format(
                        sql.Identifier(leaf)
                    ),
                    (duplicates["transaction_id"].to_pylist(),),
                )
            conn.execute(
                sql.SQL("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES FROM ({}) TO ({})").format(
                    sql.Identifier(stage), sql.Identifier(leaf), sql.Literal(lo), sql.Literal(hi)
                )
            )
        replaced = 0
        if _exists(conn, target):
            replaced = conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(target))
            ).fetchone()[0]
            conn.execute(
                sql.SQL("ALTER TABLE {} DETACH PARTITION {}").format(
                    sql.Identifier(PARENT), sql.Identifier(target)
                )
            )
            conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(target)))
        conn.execute(
            sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                sql.Identifier(stage), sql.Identifier(target)
            )
        )
        for i in range(len(bounds)):
            conn.execute(
                sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                    sql.Identifier(f"{stage}_s{i}"), sql.Identifier(f"{target}_s{i}")
                )
            )
        start = dt.datetime.combine(day, dt.time())
        conn.execute(
            sql.SQL("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES FROM ({}) TO ({})").format(
                sql.Identifier(PARENT),
                sql.Identifier(target),
                sql.Literal(start),
                sql.Literal(start + dt.timedelta(days=1)),
            )
        )
        if on_swap is not None:
            on_swap(duplicates, conn)
    return replaced


def _exists(conn: psycopg.Connection, table: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()[0]


def _drop_orphans(conn: psycopg.Connection, day: dt.date) -> None:
    """Drop half-built tables a killed load left behind (never attached): this day's (we
    hold its lock), and any other day's whose lock is free, so no load is running there."""
    orphans = conn.execute(
        """SELECT c.relname FROM pg_class c
            WHERE c.relname LIKE 'transactions\\_p________\\_l%%'
              AND c.relkind IN ('r', 'p') AND NOT c.relispartition""",
    ).fetchall()
    by_day: dict[str, list[str]] = {}
    for (name,) in orphans:
        by_day.setdefault(name[: len(day_table(day))], []).append(name)
    for owner, names in by_day.items():
        mine = owner == day_table(day)
        if (
            not mine
            and not conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (owner,)).fetchone()[
                0
            ]
        ):
            continue  # another load of that day is running
        try:
            for name in names:
                conn.execute(
                    sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(sql.Identifier(name))
                )
        finally:
            if not mine:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (owner,))
    conn.commit()


# --- export ------------------------------------------------------------------------------

EXPORT_SCHEMA = pa.schema(
    [
        pa.field(c.name, c.arrow_type if c.pg_type not in ("INET", "JSONB") else pa.string())
        for c in TRANSACTION_COLUMNS
    ]
)


def export_day(connect: Callable[[], psycopg.Connection], day: dt.date, slices: int) -> pa.Table:
    """The day's 18 columns, ordered by (transaction_date, transaction_id), via parallel COPY
    (one per time slice; the slices are consecutive, so the sorted parts concatenate in
    order)."""
    with connect() as conn:
        bounds = stored_slice_bounds(conn, day, slices)
    with ThreadPoolExecutor(max_workers=slices) as pool:
        parts = list(pool.map(lambda b: _export_slice(connect, *b), bounds))
    return pa.concat_tables(parts)


def slice_copy_out(lo: dt.datetime, hi: dt.datetime, fmt: str = "csv") -> sql.Composed:
    """COPY TO STDOUT of the 18 columns of the rows in [lo, hi), in `fmt` (csv or binary)."""
    if fmt not in ("csv", "binary"):
        raise ValueError(f"COPY format must be csv or binary, got {fmt!r}")
    columns = sql.SQL(", ").join(map(sql.Identifier, COLUMN_NAMES))
    return sql.SQL(
        "COPY (SELECT {} FROM {} WHERE transaction_date >= {} AND transaction_date < {}) "
        "TO STDOUT (FORMAT {})"
    ).format(columns, sql.Identifier(PARENT), sql.Literal(lo), sql.Literal(hi), sql.SQL(fmt))


def _export_slice(
    connect: Callable[[], psycopg.Connection], lo: dt.datetime, hi: dt.datetime
) -> pa.Table:
    # Sorted here, not by ORDER BY: Arrow's sort of the parsed slice is faster than the
    # server's (4.9 s -> 2.8 s for the COPY of half a 1M-row day), and the byte order of
    # the ids does not depend on the database's collation.
    query = slice_copy_out(lo, hi)
    buffer = io.BytesIO()
    with connect() as conn, conn.cursor().copy(query) as copy:
        for data in copy:
            buffer.write(data)
    if buffer.tell() == 0:
        return EXPORT_SCHEMA.empty_table()
    buffer.seek(0)
    table = pacsv.read_csv(
        buffer,
        read_options=pacsv.ReadOptions(column_names=list(COLUMN_NAMES), block_size=16 << 20),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={f.name: f.type for f in EXPORT_SCHEMA},
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,  # "" is an empty string, a bare empty field NULL
            true_values=["t"],
            false_values=["f"],
        ),
    )
    return table.sort_by([("transaction_date", "ascending"), ("transaction_id", "ascending")])


def count_day(conn: psycopg.Connection, day: dt.date) -> tuple[int, float]:
    start = dt.datetime.combine(day, dt.time())
    n, total = conn.execute(
        "SELECT count(*), coalesce(sum(amount), 0) FROM transactions WHERE transaction_date >= %s AND transaction_date < %s",
        (start, start + dt.timedelta(days=1)),
    ).fetchone()
    return n, total
