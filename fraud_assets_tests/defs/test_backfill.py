"""A 30-day single-run backfill gives exactly the rows of 30 one-day runs.

customer_profiles is left out: by design a range run profiles only its last day, so over
a range longer than its 30-day window it is not meant to equal one-day runs; its own tests
cover it, and leaving it out saves a Spark job in each of the 31 runs.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
import psycopg
import pyarrow.parquet as pq
import pytest

from fraud_assets.definitions import ASSETS
from fraud_assets.demo import GeneratorConfig, generate
from fraud_assets.resources.lake import LakeResource
from fraud_assets_tests.conftest import reset_database
from fraud_assets_tests.defs.pipeline import run_day, use_folders

START = dt.date(2026, 5, 1)
DAYS = [START + dt.timedelta(days=i) for i in range(30)]
DATASETS = {
    "transactions": "transaction_id",
    "fraud_features": "transaction_id",
    "customer_daily": "customer_id",
    "scored_transactions": "transaction_id",
}
COMPARED_ASSETS = [a for a in ASSETS if a.key != dg.AssetKey("customer_profiles")]
# Columns that record which run wrote a row, not what the row says.
RUN_COLUMNS = ("alert_id", "dagster_run_id", "created_at", "updated_at")


def _state(pg, lake: LakeResource) -> dict:
    with psycopg.connect(pg.conninfo) as conn:
        transactions = conn.execute(
            "SELECT t::text FROM transactions t ORDER BY transaction_id"
        ).fetchall()
        cur = conn.execute("SELECT * FROM fraud_alerts ORDER BY transaction_id")
        names = [d.name for d in cur.description]
        alerts = [
            {k: v for k, v in zip(names, row, strict=True) if k not in RUN_COLUMNS}
            for row in cur.fetchall()
        ]
        quarantine = conn.execute(
            "SELECT partition_date, reason, raw_record::text FROM transactions_quarantine ORDER BY 1, 3"
        ).fetchall()
    lake_rows = {}
    for dataset, key in DATASETS.items():
        for day in DAYS:
            rows = pq.read_table(lake.local_partition(dataset, day)).to_pylist()
            lake_rows[(dataset, day)] = sorted(rows, key=lambda r, k=key: r[k])
    return {
        "transactions": transactions,
        "alerts": alerts,
        "quarantine": quarantine,
        "lake": lake_rows,
    }


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    root = tmp_path_factory.mktemp("backfill")
    generate(
        GeneratorConfig(start=START, days=len(DAYS), transactions_per_day=150, seed=3),
        root / "landing",
        root / "truth",
    )
    return root


# 31 runs: about 5 minutes on a quiet 2-core machine; allow a busy one.
@pytest.mark.timeout(3600)
def test_one_run_for_30_days_equals_30_one_day_runs(landing, postgres, spark):
    use_folders(landing / "landing", landing / "lake_daily")
    reset_database(postgres)
    instance = dg.DagsterInstance.ephemeral()
    for day in DAYS:
        assert run_day(day, instance, COMPARED_ASSETS).success
    daily = _state(postgres, LakeResource(uri=str(landing / "lake_daily")))

    use_folders(landing / "landing", landing / "lake_backfill")
    reset_database(postgres)
    result = run_day(DAYS[0], instance, COMPARED_ASSETS, through=DAYS[-1])
    assert result.success
    materialized = {m.partition for m in result.asset_materializations_for_node("fraud_features")}
    assert materialized == {d.isoformat() for d in DAYS}
    backfill = _state(postgres, LakeResource(uri=str(landing / "lake_backfill")))

    assert len(daily["transactions"]) == 30 * 150
    assert daily["alerts"], "the generated month should raise some alerts"
    assert backfill["transactions"] == daily["transactions"]
    assert backfill["quarantine"] == daily["quarantine"]
    assert backfill["alerts"] == daily["alerts"]
    for key, rows in daily["lake"].items():
        assert backfill["lake"][key] == rows, (key, _first_difference(rows, backfill["lake"][key]))


def _first_difference(expected: list[dict], actual: list[dict]) -> str:
    """Where two lists of rows first differ, by column: what a failure needs to say."""
    if len(expected) != len(actual):
        return f"{len(expected)} rows one day at a time, {len(actual)} in the range run"
    for want, got in zip(expected, actual, strict=True):
        if want != got:
            columns = sorted(c for c in want.keys() | got.keys() if want.get(c) != got.get(c))
            return "; ".join(f"{c}: {want.get(c)!r} vs {got.get(c)!r}" for c in columns[:8])
    return "no difference"
