"""postgres_retention against the real PostgreSQL and a real Parquet lake (no Spark).

Days are loaded with the real assets (landing feed -> PostgreSQL -> lake); the lake copy is
then damaged in the ways retention must notice before it drops anything.
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal

import dagster as dg
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fraud_assets.db.retention import (
    RetentionRefused,
    drop_day,
    live_days,
    plan_retention,
    snapshot_day,
)
from fraud_assets.db.transaction_store import count_day
from fraud_assets.defs.ingest.assets import postgres_transactions
from fraud_assets.defs.lake.assets import s3_partitioned_parquet
from fraud_assets.defs.retention.jobs import (
    OP_NAME,
    postgres_retention,
    postgres_retention_daily,
)
from fraud_assets.environments import resources_for
from fraud_assets_tests.defs.pipeline import run_day, use_folders
from fraud_assets_tests.feeds import good_record, write_feed

TODAY = dt.date(2026, 3, 1)
KEEP = 30  # cutoff 2026-01-30: January's first days are past the window
D1, D2, D3, D4, D5 = (dt.date(2026, 1, d) for d in range(1, 6))
RECENT = dt.date(2026, 2, 20)  # inside the window
PER_DAY = 4


@pytest.fixture
def folders(tmp_path, clean_db):
    use_folders(tmp_path / "landing", tmp_path / "lake")
    return tmp_path


def _ids(day: dt.date) -> list[str]:
    return [f"T{day:%m%d}-{i}" for i in range(PER_DAY)]


def _load(folders, day: dt.date, lake: bool = True, extra_records=()) -> None:
    records = [
        good_record(tid, f"{day:%Y-%m-%d}T{10 + i:02d}:00:00Z", amount=f"{10 + i}.25")
        for i, tid in enumerate(_ids(day))
    ]
    write_feed(
        folders / "landing" / "transactions" / f"date={day.isoformat()}" / "card_processor.csv",
        records + list(extra_records),
    )
    run_day(
        day,
        dg.DagsterInstance.ephemeral(),
        [postgres_transactions, s3_partitioned_parquet] if lake else [postgres_transactions],
        {"ops": {"postgres_transactions": {"config": {"max_quarantine_rate": 1.0}}}},
    )


def _lake():
    return resources_for("test")["lake"]


def _lake_table(day: dt.date) -> pa.Table:
    folder = _lake().local_partition("transactions", day)
    return pa.concat_tables(pq.read_table(p) for p in sorted(folder.glob("*.parquet")))


def _republish(day: dt.date, table: pa.Table) -> None:
    """Replace the lake partition the normal way: files and manifest agree with each other."""
    with _lake().replace_partition("transactions", day) as folder:
        pq.write_table(table, folder / "part-00000.parquet")


def _retention(**config) -> dict:
    result = postgres_retention.execute_in_process(
        run_config={"ops": {OP_NAME: {"config": {"today": TODAY.isoformat(), **config}}}},
        resources=resources_for("test"),
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    return result


def _rows(pg, query, params=()):
    with psycopg.connect(pg.conninfo) as conn:
        return conn.execute(query, params).fetchall()


def _insert_alert(pg, transaction_id, day, status, reviewed_by=None, reviewed_at=None):
    with psycopg.connect(pg.conninfo, autocommit=True) as conn:
        conn.execute(
            """INSERT INTO fraud_alerts (transaction_id, customer_id, transaction_date, amount,
                   currency, amount_usd, merchant_name, location_country, rules_triggered,
                   rule_score, fraud_score, risk_level, description, rules_version,
                   dagster_run_id, status, reviewed_by, reviewed_at)
               VALUES (%s, 'C00000001', %s, 10.25, 'EUR', 11.07, 'Fresh Grocer #0001', 'DE',
                   '{HIGH_VALUE}', 50, 50, 'MEDIUM', 'd', 'rules-v1', 'run', %s, %s, %s)""",
            (
                transaction_id,
                dt.datetime.combine(day, dt.time(10)),
                status,
                reviewed_by,
                reviewed_at,
            ),
        )


def _alerts(pg):
    return _rows(
        pg,
        """SELECT transaction_id, customer_id, transaction_date, amount, status, reviewed_by
             FROM fraud_alerts ORDER BY transaction_id""",
    )


def _tables_of(pg, day: dt.date):
    return _rows(
        pg, "SELECT relname FROM pg_class WHERE relname LIKE %s", (f"transactions_p{day:%Y%m%d}%",)
    )


def test_only_days_whose_lake_copy_reconciles_leave_postgres_and_alerts_stay(folders, clean_db):
    bad = good_record("BAD-1", f"{D1:%Y-%m-%d}T09:00:00Z", amount="0.00")
    _load(folders, D1, extra_records=[bad])
    for day in (D2, D3):
        _load(folders, day)
    _load(folders, RECENT, lake=False)  # inside the window: untouched without a lake copy
    shutil.rmtree(_lake().partition_uri("transactions", D2))  # lake copy missing
    _republish(D3, _lake_table(D3).slice(0, PER_DAY - 1))  # lake copy one row short
    _insert_alert(clean_db, _ids(D1)[0], D1, "CONFIRMED", "jane", dt.datetime(2026, 1, 2, 9))
    _insert_alert(clean_db, _ids(D1)[1], D1, "PENDING")
    alerts_before = _alerts(clean_db)
    with psycopg.connect(clean_db.conninfo) as conn:
        d1_totals = count_day(conn, D1)
    assert d1_totals == (PER_DAY, Decimal("47.00"))

    # A dry run decides the same and drops nothing.
    dry = _retention(keep_days=KEEP, dry_run=True).output_for_node(OP_NAME)
    assert dry["would_drop"] == {"2026-01-01": PER_DAY} and dry["dropped"] == {}
    assert set(dry["kept"]) == {"2026-01-02", "2026-01-03"}
    with psycopg.connect(clean_db.conninfo) as conn:
        assert live_days(conn) == [D1, D2, D3, RECENT]

    result = _retention(keep_days=KEEP)
    report = result.output_for_node(OP_NAME)
    assert report["cutoff"] == "2026-01-30"
    assert report["dropped"] == {"2026-01-01": PER_DAY}
    assert {d: k["reason"] for d, k in report["kept"].items()} == {
        "2026-01-02": "lake_missing",
        "2026-01-03": "lake_short",
    }
    assert report["kept"]["2026-01-03"]["detail"] == "lake 3 rows, PostgreSQL 4 rows"
    (observation,) = result.asset_observations_for_node(OP_NAME)
    assert observation.asset_key == dg.AssetKey("postgres_transactions")
    assert observation.partition == "2026-01-01"
    assert observation.metadata["rows_dropped"].value == PER_DAY
    (output,) = [e for e in result.all_node_events if e.is_successful_output]
    metadata = output.event_specific_data.metadata
    assert metadata["dropped"].value == {"2026-01-01": PER_DAY}
    assert metadata["kept"].value["2026-01-02"]["reason"] == "lake_missing"

    with psycopg.connect(clean_db.conninfo) as conn:
        assert live_days(conn) == [D2, D3, RECENT]
        assert count_day(conn, D1) == (0, 0)
        assert count_day(conn, D2)[0] == PER_DAY and count_day(conn, D3)[0] == PER_DAY
    assert _tables_of(clean_db, D1) == []  # the day table and its slices are gone
    # Both alerts of the dropped day, reviewed or not, with their transaction facts.
    assert _alerts(clean_db) == alerts_before
    assert _alerts(clean_db) == [
        (
            _ids(D1)[0],
            "C00000001",
            dt.datetime(2026, 1, 1, 10),
            Decimal("10.25"),
            "CONFIRMED",
            "jane",
        ),
        (_ids(D1)[1], "C00000001", dt.datetime(2026, 1, 1, 10), Decimal("10.25"), "PENDING", None),
    ]
    # The day's quarantine is evidence found nowhere else: kept. The lake keeps the day.
    assert _rows(
        clean_db, "SELECT reason FROM transactions_quarantine WHERE partition_date = %s", (D1,)
    ) == [("non_positive_amount",)]
    assert _lake().manifest("transactions", D1).rows == PER_DAY

    # Running again changes nothing and reports the same kept days.
    again = _retention(keep_days=KEEP).output_for_node(OP_NAME)
    assert again["dropped"] == {} and again["kept"] == report["kept"]
    with psycopg.connect(clean_db.conninfo) as conn:
        assert live_days(conn) == [D2, D3, RECENT]
    assert _alerts(clean_db) == alerts_before


def test_a_lying_manifest_or_a_different_amount_keeps_the_day(folders, clean_db):
    for day in (D4, D5):
        _load(folders, day)
    table = _lake_table(D4)
    amounts = table["amount"].to_pylist()
    amounts[0] += Decimal("0.01")
    _republish(D4, table.set_column(3, "amount", pa.array(amounts, table.schema.field(3).type)))
    # Rewrite D5's file behind its manifest: the manifest still says 4 rows.
    folder = _lake().local_partition("transactions", D5)
    short = _lake_table(D5).slice(1)
    pq.write_table(short, folder / "part-00000.parquet")
    assert _lake().manifest("transactions", D5).rows == PER_DAY

    report = _retention(keep_days=KEEP).output_for_node(OP_NAME)
    assert report["dropped"] == {}
    assert report["kept"] == {
        "2026-01-04": {
            "reason": "lake_amount_mismatch",
            "detail": "lake amount sum 47.01, PostgreSQL 47.00",
        },
        "2026-01-05": {
            "reason": "lake_manifest_mismatch",
            "detail": "_manifest.json says 4 rows, the Parquet files hold 3",
        },
    }
    with psycopg.connect(clean_db.conninfo) as conn:
        assert live_days(conn) == [D4, D5]


def test_drop_day_refuses_a_day_changed_since_reconciliation_or_being_loaded(folders, clean_db):
    _load(folders, D1, lake=False)
    with psycopg.connect(clean_db.conninfo, autocommit=True) as conn:
        snapshot = snapshot_day(conn, D1)
        assert (snapshot.rows, snapshot.amount) == (PER_DAY, Decimal("47.00"))
        # Another system writes to the day after it was reconciled.
        conn.execute(
            """INSERT INTO transactions (transaction_id, customer_id, transaction_date, amount,
                   source_system) VALUES ('LATE', 'C1', '2026-01-01 23:00', 1.00, 'core_banking')"""
        )
        with pytest.raises(RetentionRefused) as refused:
            drop_day(conn, D1, expected=snapshot)
        assert refused.value.reason == "day_changed"
        # A load of the day holds the loader's lock: refuse at once rather than wait.
        with psycopg.connect(clean_db.conninfo, autocommit=True) as loader:
            loader.execute("SELECT pg_advisory_lock(hashtext('transactions_p20260101'))")
            with pytest.raises(RetentionRefused) as busy:
                drop_day(conn, D1)
            assert busy.value.reason == "day_busy"
        assert live_days(conn) == [D1] and count_day(conn, D1)[0] == PER_DAY + 1
        assert drop_day(conn, D1) == PER_DAY + 1
        assert live_days(conn) == []
        with pytest.raises(RetentionRefused) as gone:
            drop_day(conn, D1)
        assert gone.value.reason == "not_live"


def test_live_days_are_the_loaders_day_partitions_only(clean_db):
    with psycopg.connect(clean_db.conninfo, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE transactions_manual PARTITION OF transactions "
            "FOR VALUES FROM ('2030-01-01') TO ('2030-01-03')"
        )
        conn.execute(
            "CREATE TABLE transactions_p20300105 PARTITION OF transactions "
            "FOR VALUES FROM ('2030-01-05') TO ('2030-01-06')"
        )
        assert live_days(conn) == [dt.date(2030, 1, 5)]


def test_the_window_keeps_today_and_keep_days_before_it():
    days = [dt.date(2026, 1, 29), dt.date(2026, 1, 30), TODAY, dt.date(2026, 3, 2)]
    plan = plan_retention(days, TODAY, KEEP)
    assert plan.cutoff == dt.date(2026, 1, 30)
    assert plan.expired == [dt.date(2026, 1, 29)]
    assert plan.live == days[1:]
    with pytest.raises(ValueError, match="keep_days"):
        plan_retention(days, TODAY, 0)


def test_the_job_and_its_stopped_daily_schedule_are_in_the_code_location():
    from fraud_assets.definitions import defs

    assert defs.resolve_job_def("postgres_retention").required_resource_keys >= {
        "postgres",
        "lake",
    }
    schedule = defs.resolve_schedule_def("postgres_retention_daily")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    tick = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)
    (request,) = schedule.evaluate_tick(
        dg.build_schedule_context(scheduled_execution_time=tick)
    ).run_requests
    assert request.run_config["ops"][OP_NAME]["config"] == {"today": "2026-03-01"}
    assert postgres_retention_daily.job_name == "postgres_retention"


def test_a_window_of_less_than_one_day_is_refused(folders):
    result = postgres_retention.execute_in_process(
        run_config={"ops": {OP_NAME: {"config": {"keep_days": 0}}}},
        resources=resources_for("test"),
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert "keep_days must be at least 1" in str(failure.event_specific_data.error)
