"""The least the benchmark day can cost on this machine, with none of the project's logic.

    .venv/bin/python benchmarks/floors.py --home /work/bench-1m-h7 [--runs 2]

Issue 2 sets two targets for the 1M-row day: the load into PostgreSQL at >= 100K rows/s
(primary key and B-tree indexes in place), and lake export + Spark start + features +
alerts in <= 30 s. This script measures the parts every implementation of those stages
has to pay, over day D of a home `bench_day.py run` filled (D in PostgreSQL and in the
lake, with its fraud_features and scored_transactions):

- load: the day's validated rows, already encoded in memory (not timed), as CSV and as
  PostgreSQL's binary export of the day; timed is only COPY into fresh tables, one
  connection per core side by side (FREEZE, in the creating transaction,
  wal_level=minimal), then the primary key and the 6 B-tree indexes. No reading or
  validating of the feed, no swap.
- export: COPY TO STDOUT of the day's slices side by side, bytes discarded (no parsing);
  and writing the day's Parquet files from Arrow already in memory.
- Spark: a fresh local session with the project's settings; decoding the day; one
  exchange of the day by card and a sort by (card, time), which per-card sequence
  features need; writing the day's fraud_features rows and its scored_transactions rows
  as Parquet from memory (cached and counted first, not timed): the write alone.

Each part runs `--runs` times; the fastest is the floor, the first is what a one-shot
daily run pays (cold JVM code, cold caches). The
sums say whether any design that keeps these tables (transactions with its indexes,
fraud_features and scored_transactions in the lake) and this engine (PostgreSQL, local
Spark) can meet the targets here.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_day  # noqa: E402 - beside this script


def _best(runs: int, fn) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times), times


def load_floor(
    connect,
    chunks_per_slice: list[list[bytes]],
    expected: list[int],
    with_indexes: bool,
    fmt: str = "csv",
) -> dict:
    from psycopg import sql

    from fraud_assets.contract.schema import COLUMN_NAMES
    from fraud_assets.db.transaction_store import build_slice_indexes

    columns = sql.SQL(", ").join(map(sql.Identifier, COLUMN_NAMES))
    phases: dict[str, list[float]] = {"copy": [], "indexes": []}

    def one(i: int, chunks: list[bytes]) -> tuple[float, float]:
        table = sql.Identifier(f"floor_slice_{i}")
        with connect() as conn:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
            conn.commit()
            started = time.perf_counter()
            conn.execute(
                sql.SQL("CREATE TABLE {} (LIKE transactions INCLUDING DEFAULTS)").format(table)
            )
            copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT {}, FREEZE)")
            with conn.cursor().copy(copy_sql.format(table, columns, sql.SQL(fmt))) as copy:
                for chunk in chunks:
                    copy.write(chunk)
            copied = time.perf_counter()
            if with_indexes:
                build_slice_indexes(conn, table)
            conn.commit()
            done = time.perf_counter()
            loaded = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()[0]
            if loaded != expected[i]:
                raise RuntimeError(f"{table}: {loaded} rows loaded, {expected[i]} sent")
            conn.execute(sql.SQL("DROP TABLE {}").format(table))
            conn.commit()
            return copied - started, done - copied

    def both() -> None:
        with ThreadPoolExecutor(max_workers=len(chunks_per_slice)) as pool:
            parts = list(pool.map(one, range(len(chunks_per_slice)), chunks_per_slice))
        phases["copy"].append(max(p[0] for p in parts))
        phases["indexes"].append(max(p[1] for p in parts))

    return phases | {"total": _best(RUNS, both)}


def binary_copy_of_day(connect, day: dt.date, slices: int) -> tuple[list[list[bytes]], list[int]]:
    """The stored day in PostgreSQL's own binary COPY format, per slice: the cheapest input
    COPY FROM has (no text parsing of numbers, timestamps, booleans, addresses)."""
    from psycopg import sql

    from fraud_assets.db.transaction_store import PARENT, slice_copy_out, stored_slice_bounds

    with connect() as conn:
        bounds = stored_slice_bounds(conn, day, slices)
        out, counts = [], []
        for lo, hi in bounds:
            counts.append(
                conn.execute(
                    sql.SQL(
                        "SELECT count(*) FROM {} WHERE transaction_date >= {} "
                        "AND transaction_date < {}"
                    ).format(sql.Identifier(PARENT), sql.Literal(lo), sql.Literal(hi))
                ).fetchone()[0]
            )
            query = slice_copy_out(lo, hi, "binary")
            with conn.cursor().copy(query) as copy:
                data = b"".join(bytes(d) for d in copy)
            out.append([data[i : i + (8 << 20)] for i in range(0, len(data), 8 << 20)])
    return out, counts


def export_floor(connect, day: dt.date, slices: int) -> tuple[float, list[float]]:
    from fraud_assets.db.transaction_store import slice_copy_out, stored_slice_bounds

    with connect() as conn:
        bounds = stored_slice_bounds(conn, day, slices)

    def one(bound: tuple[dt.datetime, dt.datetime]) -> int:
        query = slice_copy_out(*bound)
        n = 0
        with connect() as conn, conn.cursor().copy(query) as copy:
            for data in copy:
                n += len(data)
        return n

    def both() -> None:
        with ThreadPoolExecutor(max_workers=len(bounds)) as pool:
            list(pool.map(one, bounds))

    return _best(RUNS, both)


def parquet_floor(rows, home: Path) -> tuple[float, list[float]]:
    """Writing the day's rows as the lake's Parquet files, already in memory as Arrow: what
    any export ends with, however it gets the rows out of PostgreSQL."""
    import pyarrow.parquet as pq

    halves = [rows.slice(0, rows.num_rows // 2), rows.slice(rows.num_rows // 2)]
    scratch = Path(tempfile.mkdtemp(prefix="floors-pq-", dir=home))

    def both() -> None:
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(
                pool.map(
                    lambda i: pq.write_table(
                        halves[i], scratch / f"part-{i}.parquet", compression="zstd"
                    ),
                    range(2),
                )
            )

    try:
        return _best(RUNS, both)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def spark_floors(lake, day: dt.date, scratch: Path) -> dict:
    from fraud_assets.defs.detection.lake_inputs import FILES_PER_DAY
    from fraud_assets.resources.spark import local_spark_session

    started = time.perf_counter()
    spark = local_spark_session()
    out = {"session start (getOrCreate)": (time.perf_counter() - started, [])}
    started = time.perf_counter()
    spark.range(1).count()
    out["first tiny query"] = (time.perf_counter() - started, [])
    # Decoding the day's transactions: the least fraud_features reads (noop sink: every
    # column materialized, nothing written).
    tx = spark.read.parquet(lake.spark_path("transactions", day))
    out["read the day's transactions (all columns, noop sink)"] = _best(
        RUNS, lambda: tx.write.format("noop").mode("overwrite").save()
    )
    # Per-card sequence features (velocity over 60 minutes, the previous transaction) need
    # each card's rows together and in time order; the lake keeps the day by time. The
    # least any such plan pays: one exchange of the day by card, then a sort.
    by_card = tx.repartition(int(spark.conf.get("spark.sql.shuffle.partitions")), "customer_id")
    out["shuffle the day by card (noop sink)"] = _best(
        RUNS, lambda: by_card.write.format("noop").mode("overwrite").save()
    )
    sorted_by_card = by_card.sortWithinPartitions("customer_id", "transaction_date")
    out["shuffle the day by card + sort by (card, time) (noop sink)"] = _best(
        RUNS, lambda: sorted_by_card.write.format("noop").mode("overwrite").save()
    )
    for dataset in ("fraud_features", "scored_transactions"):
        df = spark.read.parquet(lake.spark_path(dataset, day)).repartition(FILES_PER_DAY).cache()
        rows = df.count()
        target = scratch / dataset
        n = iter(range(RUNS * len(CODECS)))

        for codec in CODECS:

            def write(df=df, target=target, n=n, codec=codec) -> None:
                df.write.option("compression", codec).parquet(str(target / str(next(n))))

            best, times = _best(RUNS, write)
            name = f"write {dataset} ({rows:,} rows x {len(df.columns)} columns), {codec}"
            out[name] = (best, times)
        df.unpersist()
    spark.stop()
    return out


RUNS = 2
# The project writes zstd; the others show what the codec costs.
CODECS = ("zstd", "snappy", "none")


def main() -> None:
    global RUNS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--day", type=dt.date.fromisoformat, default=bench_day.BENCH_DAY)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    RUNS = args.runs

    bench_day.setup_environment(args.home)
    import psycopg
    import pyarrow.csv as pacsv

    from fraud_assets.contract.schema import COLUMN_NAMES, FEED_COLUMNS
    from fraud_assets.db.transaction_store import rows_between, slice_bounds
    from fraud_assets.environments import resources_for
    from fraud_assets.logic.pan import mask_pans
    from fraud_assets.logic.validation import validate_transactions

    resources = resources_for("local")
    slices = 2

    def connect():
        return psycopg.connect(bench_day.conninfo())

    # Not timed: the feed read, masked, validated and CSV-encoded as the loader sends it.
    feed = resources["landing"].read_day("transactions", args.day, FEED_COLUMNS)
    good = validate_transactions(
        mask_pans(feed.table, FEED_COLUMNS, json_columns=["raw_data"]).table, args.day
    ).good.select(list(COLUMN_NAMES))

    chunks_per_slice, counts = [], []
    for lo, hi in slice_bounds(args.day, slices, good["transaction_date"]):
        part = rows_between(good, lo, hi)
        counts.append(part.num_rows)
        chunks = []
        for batch in part.to_batches(max_chunksize=100_000):
            buffer = io.BytesIO()
            pacsv.write_csv(batch, buffer, pacsv.WriteOptions(include_header=False))
            chunks.append(buffer.getvalue())
        chunks_per_slice.append(chunks)
    rows = good.num_rows
    parquet_write = parquet_floor(good, args.home)
    csv_mb = sum(len(c) for cs in chunks_per_slice for c in cs) / 1e6
    del feed, good

    results: list[tuple[str, float, list[float], str]] = []

    def load_row(name: str, measured: dict, note: str = "") -> float:
        best, times = measured["total"]
        i = times.index(best)
        phases = (
            f"; COPY {measured['copy'][i]:.1f} s, indexes + commit {measured['indexes'][i]:.1f} s"
        )
        results.append((name, best, times, f"{rows / best:,.0f} rows/s{note}{phases}"))
        return best

    load_row("load: COPY only, no index", load_floor(connect, chunks_per_slice, counts, False))
    load_row(
        "load: COPY + primary key + 6 B-tree indexes",
        load_floor(connect, chunks_per_slice, counts, True),
    )
    binary, binary_counts = binary_copy_of_day(connect, args.day, slices)
    note = f" ({sum(len(c) for cs in binary for c in cs) / 1e6:.0f} MB, as PostgreSQL exports it)"
    load_row(
        "load: binary COPY only, no index",
        load_floor(connect, binary, binary_counts, False, fmt="binary"),
        note,
    )
    best = load_row(
        "load: binary COPY + primary key + 6 B-tree indexes",
        load_floor(connect, binary, binary_counts, True, fmt="binary"),
        note,
    )
    del binary
    export = export_floor(connect, args.day, slices)
    results.append(("export: COPY TO STDOUT, bytes discarded", *export, ""))
    results.append(
        (
            "export: write the day as Parquet from Arrow in memory (pyarrow, zstd, 2 files "
            "side by side)",
            *parquet_write,
            "",
        )
    )
    scratch = Path(tempfile.mkdtemp(prefix="floors-", dir=args.home))
    try:
        for name, (best_s, times) in spark_floors(resources["lake"], args.day, scratch).items():
            results.append((f"Spark: {name}", best_s, times, ""))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    print(
        f"\nfloors for {args.day} ({rows:,} rows, {csv_mb:.0f} MB of COPY CSV), "
        f"{os.cpu_count()} cores, best of {RUNS}:\n"
    )
    print("| part | best s | runs s | notes |\n| --- | ---: | --- | --- |")
    for name, best_s, times, note in results:
        runs = ", ".join(f"{t:.1f}" for t in times)
        print(f"| {name} | {best_s:.1f} | {runs} | {note} |")
    # The shuffle rows include reading the day, so the plain read is not added again.
    chain_parts = [
        r
        for r in results
        if r[0].startswith(("export", "Spark"))
        and not r[0].endswith(CODECS[1:])
        and "noop sink" not in r[0]
    ]
    chain = sum(r[1] for r in chain_parts)
    shuffle = next(r[1] for r in results if "sort by (card, time)" in r[0])
    shuffle_cold = next(r[2][0] for r in results if "sort by (card, time)" in r[0])
    cold = sum(r[2][0] if r[2] else r[1] for r in chain_parts) + shuffle_cold
    print(
        f"\nchain floor, best runs (export COPY + its Parquet write + Spark start + first "
        f"query + the two zstd writes): {chain:.1f} s; + the day shuffled and sorted by card: "
        f"{chain + shuffle:.1f} s; the same parts' first (cold) runs, as a daily run pays "
        f"them: {cold:.1f} s (target 30 s)\nload floor (binary COPY + indexes): "
        f"{rows / best:,.0f} rows/s (target 100,000)"
    )


if __name__ == "__main__":
    main()
