"""Faults in the middle of a run, against the real PostgreSQL, real files and real
processes: a load killed mid-way, a lake export killed mid-way, a server restarted
mid-load. The run under attack is a child process (`fault_runner`); every wait polls an
observable condition (a table in pg_class, a statement in pg_stat_activity, a folder on
disk, the child's exit) with a deadline."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import psycopg
import pyarrow.parquet as pq
import pytest

from fraud_assets.db.local_cluster import ensure_local_cluster, stop_local_cluster
from fraud_assets.db.transaction_store import day_table
from fraud_assets.defs.ingest.assets import postgres_transactions
from fraud_assets.defs.lake.assets import s3_partitioned_parquet
from fraud_assets_tests.defs.fault_runner import start_run, wait_for, write_big_feed
from fraud_assets_tests.defs.pipeline import run_day, use_folders
from fraud_assets_tests.feeds import good_record, write_feed

KILLED_LOAD_DAY = dt.date(2026, 11, 10)
KILLED_EXPORT_DAY = dt.date(2026, 11, 11)
RESTART_DAY = dt.date(2026, 11, 12)
BIG = 300_000  # a load of this many rows takes seconds: long enough to hit it mid-way
MORNING = 2_000  # rows of the first (00:00-12:00) slice: it commits long before the second
FEED = "card_processor.csv"
# Child start-up, reading and validating 300k records, on a machine shared with other work.
REACH_TIMEOUT_S = 240
RUN_TIMEOUT_S = 300


@pytest.fixture
def landing(tmp_path, clean_db):
    use_folders(tmp_path / "landing", tmp_path / "lake")
    yield tmp_path / "landing"
    # Leftovers of a failed test must not reach other tests (a passing one leaves none).
    with psycopg.connect(clean_db.conninfo, autocommit=True) as conn:
        for name in _stage_tables(conn, "transactions_p%"):
            conn.execute(f'DROP TABLE IF EXISTS "{name}"')


@pytest.fixture
def runs(tmp_path):
    """Start runs in child processes; whatever happens, none outlives the test."""
    started = []

    def start(asset: str, day: dt.date):
        child = start_run(asset, day, tmp_path / "logs")
        started.append(child)
        return child

    yield start
    for child in started:
        child.kill()


def _feed_path(landing, day):
    return landing / "transactions" / f"date={day.isoformat()}" / FEED


def _small_feed(landing, day, prefix="S"):
    records = [good_record(f"{prefix}{i}", f"{day.isoformat()}T1{i}:00:00Z") for i in range(3)]
    return write_feed(_feed_path(landing, day), records)


def _materialize(day, asset):
    result = run_day(day, dg.DagsterInstance.ephemeral(), [asset])
    assert result.success
    return result.asset_materializations_for_node(asset.key.to_user_string())[0].metadata


def _day_rows(conn, day):
    """Every stored row of the day as text: what a reader of `transactions` sees."""
    start = dt.datetime.combine(day, dt.time())
    return conn.execute(
        "SELECT t::text FROM transactions t WHERE transaction_date >= %s "
        "AND transaction_date < %s ORDER BY transaction_id",
        (start, start + dt.timedelta(days=1)),
    ).fetchall()


def _day_count(conn, day):
    start = dt.datetime.combine(day, dt.time())
    return conn.execute(
        "SELECT count(*) FROM transactions WHERE transaction_date >= %s AND transaction_date < %s",
        (start, start + dt.timedelta(days=1)),
    ).fetchone()[0]


def _stage_tables(conn, day_pattern):
    """Committed tables of a load that has not swapped (`<day>_l<token>...`), never attached."""
    return [
        name
        for (name,) in conn.execute(
            r"""SELECT relname FROM pg_class
                 WHERE relname LIKE %s AND relkind IN ('r', 'p') AND NOT relispartition
                 ORDER BY relname""",
            (day_pattern.replace("_", r"\_") + r"\_l%",),
        )
    ]


def _mid_load(conn, day):
    """A committed slice of an unfinished load while another slice of the same load is
    still being built (COPY, key or index build): the load is mid-way, before its swap."""
    for name in _stage_tables(conn, day_table(day)):
        slices = f'"{name.rsplit("_s", 1)[0]}_s'
        building = (f"COPY {slices}", f"CREATE INDEX ON {slices}", f"ALTER TABLE {slices}")
        for (query,) in conn.execute(
            "SELECT query FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND state = 'active'"
        ):
            if query.startswith(building) and " RENAME TO " not in query:
                return name
    return None


def _no_other_sessions(conn):
    """The killed run's server sessions are gone (its in-flight statements have ended)."""
    (n,) = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
        "AND pid <> pg_backend_pid() AND datname = current_database()"
    ).fetchone()
    return n == 0


def test_a_load_killed_mid_way_keeps_the_old_day_and_a_rerun_completes(landing, clean_db, runs):
    day = KILLED_LOAD_DAY
    _small_feed(landing, day)
    _materialize(day, postgres_transactions)
    with psycopg.connect(clean_db.conninfo, autocommit=True) as conn:
        version_1 = _day_rows(conn, day)
    assert len(version_1) == 3

    write_big_feed(_feed_path(landing, day), day, BIG, "V", MORNING)
    child = runs("postgres_transactions", day)
    seen = []  # what a reader of the day saw at every poll, until the kill
    with psycopg.connect(clean_db.conninfo, autocommit=True) as conn:

        def reached():
            seen.append(_day_rows(conn, day))
            return _mid_load(conn, day)

        committed_slice = wait_for(reached, "load mid-way", REACH_TIMEOUT_S, child)
        child.kill()
        assert child.proc.returncode == -9
        wait_for(lambda: _no_other_sessions(conn), "end of the killed run's sessions", 120)

        assert _day_rows(conn, day) == version_1
        assert seen and all(rows == version_1 for rows in seen), "a reader saw the new day"
        # The kill left the committed slice behind, outside `transactions`.
        orphans = _stage_tables(conn, day_table(day))
        assert committed_slice in orphans

    meta = _materialize(day, postgres_transactions)
    assert meta["replaced_rows"].value == 3
    with psycopg.connect(clean_db.conninfo, autocommit=True) as conn:
        assert _day_count(conn, day) == BIG
        assert _stage_tables(conn, day_table(day)) == []  # the re-run dropped the orphans


def test_an_export_killed_mid_way_keeps_the_old_partition_and_a_rerun_completes(
    landing, clean_db, runs
):
    day = KILLED_EXPORT_DAY
    lake = landing.parent / "lake"
    month = lake / "transactions" / f"year={day.year:04d}" / f"month={day.month:02d}"
    partition = month / f"day={day.day:02d}"
    _small_feed(landing, day)
    _materialize(day, postgres_transactions)
    _materialize(day, s3_partitioned_parquet)
    version_a = {p.name: p.read_bytes() for p in partition.iterdir()}
    assert "_manifest.json" in version_a and pq.read_table(partition).num_rows == 3

    write_big_feed(_feed_path(landing, day), day, BIG, "W", MORNING)
    _materialize(day, postgres_transactions)
    child = runs("s3_partitioned_parquet", day)
    staging = wait_for(
        lambda: next(month.glob(f".day={day.day:02d}.staging-*"), None),
        "staging folder",
        REACH_TIMEOUT_S,
        child,
        interval_s=0.005,
    )
    child.kill()
    assert child.proc.returncode == -9

    # The published partition is exactly version A, byte for byte, and readers see it.
    assert {p.name: p.read_bytes() for p in partition.iterdir()} == version_a
    assert pq.read_table(partition).num_rows == 3
    # The killed run's staging folder stays, hidden: a reader of the dataset skips it.
    assert staging.is_dir() and staging.name.startswith(".")
    assert pq.read_table(lake / "transactions").num_rows == 3

    meta = _materialize(day, s3_partitioned_parquet)
    assert meta["dagster/row_count"].value == BIG
    assert pq.read_table(partition).num_rows == BIG
    assert pq.read_table(lake / "transactions").num_rows == BIG


def test_a_server_restart_mid_load_is_recovered_by_the_retry_policy(
    landing, clean_db, runs, pg_root
):
    day = RESTART_DAY
    write_big_feed(_feed_path(landing, day), day, BIG, "R", MORNING)
    child = runs("postgres_transactions", day)
    with psycopg.connect(clean_db.conninfo, autocommit=True) as conn:
        wait_for(lambda: _mid_load(conn, day), "load mid-way", REACH_TIMEOUT_S, child)
    try:
        stop_local_cluster(pg_root)  # pg_ctl stop -m fast: the run's sessions are cut
        assert child.alive()
    finally:
        info = ensure_local_cluster(pg_root)  # same data, same port
    assert info.port == clean_db.port

    assert child.wait(RUN_TIMEOUT_S) == 0, child.output_tail()
    result = child.result()
    assert result["success"] and result["step_failures"] == 0
    assert result["up_for_retry"] >= 1 and result["restarted"] >= 1
    with psycopg.connect(clean_db.conninfo, autocommit=True) as conn:
        assert _day_count(conn, day) == BIG
        assert _stage_tables(conn, day_table(day)) == []
