"""The four assets end to end for consecutive days: real PostgreSQL, Spark and Parquet."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from pathlib import Path

import dagster as dg
import psycopg
import pyarrow.parquet as pq
import pytest

from fraud_assets.demo import GeneratorConfig, generate
from fraud_assets.logic.features import MODEL_FEATURES, RULE_INPUT_COLUMNS
from fraud_assets.logic.rules import RULES_VERSION
from fraud_assets.resources.lake import LakeResource
from fraud_assets_tests.conftest import reset_database
from fraud_assets_tests.defs.pipeline import run_day, use_folders

START = dt.date(2026, 3, 1)
DAYS = [START + dt.timedelta(days=i) for i in range(3)]
PER_DAY = 800
LAKE_DATASETS = (
    "transactions",
    "fraud_features",
    "customer_daily",
    "merchant_daily",
    "fraud_feedback",
    "scored_transactions",
)


@pytest.fixture(scope="module")
def chain(tmp_path_factory, postgres, spark):
    root = tmp_path_factory.mktemp("chain")
    landing, lake, truth = root / "landing", root / "lake", root / "truth"
    generate(
        GeneratorConfig(start=START, days=len(DAYS), transactions_per_day=PER_DAY, seed=11),
        landing,
        truth,
    )
    reset_database(postgres)
    use_folders(landing, lake)
    instance = dg.DagsterInstance.ephemeral()
    results = [run_day(day, instance) for day in DAYS]
    return {
        "results": results,
        "instance": instance,
        "lake": LakeResource(uri=str(lake)),
        "truth": truth,
        "pg": postgres,
    }


def _query(pg, sql: str, params=()) -> list[tuple]:
    with psycopg.connect(pg.conninfo) as conn:
        return conn.execute(sql, params).fetchall()


def _day_window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time())
    return start, start + dt.timedelta(days=1)


def test_every_day_succeeds_with_its_checks(chain):
    for result in chain["results"]:
        assert result.success
        evaluations = result.get_asset_check_evaluations()
        assert len(evaluations) == 10 and all(e.passed for e in evaluations)


@pytest.mark.parametrize("day", DAYS)
def test_postgres_and_lake_hold_the_whole_day(chain, day):
    pg_rows = _query(
        chain["pg"],
        "SELECT count(*), count(DISTINCT transaction_id) FROM transactions WHERE transaction_date >= %s AND transaction_date < %s",
        _day_window(day),
    )[0]
    assert pg_rows == (PER_DAY, PER_DAY)
    lake: LakeResource = chain["lake"]
    folder = (
        Path(lake.uri) / f"transactions/year={day.year}/month={day.month:02d}/day={day.day:02d}"
    )
    assert folder.is_dir() and (folder / "_manifest.json").exists()
    table = pq.read_table(folder)
    assert table.num_rows == PER_DAY
    assert len(table.schema) == 18
    for dataset in ("fraud_features", "scored_transactions"):
        assert lake.manifest(dataset, day).rows == PER_DAY
        assert (Path(lake.uri) / f"{dataset}/date={day.isoformat()}").is_dir()


def test_scored_transactions_hold_the_rule_inputs_and_scores_not_the_model_inputs(chain):
    lake: LakeResource = chain["lake"]
    names = set(pq.read_table(lake.local_partition("scored_transactions", DAYS[0])).column_names)
    assert set(RULE_INPUT_COLUMNS) <= names
    assert {"rules_triggered", "rule_score", "fraud_score", "risk_level", "model_score"} <= names
    # The model's inputs are read from fraud_features, not copied into every scored row.
    assert not names & set(MODEL_FEATURES)


@pytest.mark.parametrize("day", DAYS)
def test_alerts_in_postgres_are_the_days_medium_and_above(chain, day):
    lake: LakeResource = chain["lake"]
    scored = pq.read_table(lake.local_partition("scored_transactions", day)).to_pylist()
    expected = sorted(
        r["transaction_id"] for r in scored if r["risk_level"] in ("MEDIUM", "HIGH", "CRITICAL")
    )
    stored = [
        r[0]
        for r in _query(
            chain["pg"],
            "SELECT transaction_id FROM fraud_alerts WHERE transaction_date >= %s AND transaction_date < %s ORDER BY 1",
            _day_window(day),
        )
    ]
    assert stored == expected and len(stored) > 0
    row = _query(
        chain["pg"],
        "SELECT rules_version, dagster_run_id, status, array_length(rules_triggered, 1) FROM fraud_alerts WHERE transaction_id = %s",
        (stored[0],),
    )[0]
    assert row[0] == RULES_VERSION and len(row[1]) == 36 and row[2] == "PENDING" and row[3] >= 1


def test_planted_frauds_fire_the_rules_written_for_them(chain):
    with open(chain["truth"] / "fraud_labels.csv") as f:
        labels = list(csv.DictReader(f))
    lake: LakeResource = chain["lake"]
    scored = {}
    for day in DAYS:
        for r in pq.read_table(lake.local_partition("scored_transactions", day)).to_pylist():
            scored[r["transaction_id"]] = r
    expected_rule = {
        "high_value": "HIGH_VALUE",
        "velocity_burst": "HIGH_VELOCITY",
        "night_activity": "UNUSUAL_TIME",
        "geo_impossible": "GEOGRAPHIC_ANOMALY",
    }
    for scenario, rule in expected_rule.items():
        planted = [
            scored[label["transaction_id"]]
            for label in labels
            if label["scenario"] == scenario and label["transaction_id"] in scored
        ]
        assert planted, scenario
        fired = [r for r in planted if rule in r["rules_triggered"]]
        assert len(fired) >= len(planted) // 2, (scenario, len(fired), len(planted))
    high_value_ids = [
        label["transaction_id"] for label in labels if label["scenario"] == "high_value"
    ]
    alerted = {
        r[0]
        for r in _query(
            chain["pg"],
            "SELECT transaction_id FROM fraud_alerts WHERE transaction_id = ANY(%s)",
            (high_value_ids,),
        )
    }
    assert alerted, "no planted high-value fraud reached fraud_alerts"


def _snapshot(chain, day: dt.date) -> dict:
    lake: LakeResource = chain["lake"]
    window = _day_window(day)
    rows = _query(
        chain["pg"],
        "SELECT t::text FROM transactions t WHERE transaction_date >= %s AND transaction_date < %s ORDER BY transaction_id",
        window,
    )
    return {
        "transactions_sha": hashlib.sha256("\n".join(r[0] for r in rows).encode()).hexdigest(),
        "alerts": _query(
            chain["pg"],
            "SELECT a::text FROM fraud_alerts a WHERE transaction_date >= %s AND transaction_date < %s ORDER BY alert_id",
            window,
        ),
        "profiles": _query(
            chain["pg"], "SELECT p::text FROM customer_profiles p ORDER BY customer_id"
        ),
        "lake": {d: lake.manifest(d, day).to_json() for d in LAKE_DATASETS},
        "files": {
            d: sorted(p.name for p in lake.local_partition(d, day).iterdir()) for d in LAKE_DATASETS
        },
    }


def _review(chain, day: dt.date, status: str) -> str:
    window = _day_window(day)
    tid = _query(
        chain["pg"],
        "SELECT transaction_id FROM fraud_alerts WHERE transaction_date >= %s AND transaction_date < %s AND risk_level = 'MEDIUM' ORDER BY transaction_id LIMIT 1",
        window,
    )[0][0]
    with psycopg.connect(chain["pg"].conninfo) as conn:
        conn.execute(
            "UPDATE fraud_alerts SET status = %s, reviewed_by = 'analyst.jane', reviewed_at = '2026-03-05 09:30' WHERE transaction_id = %s",
            (status, tid),
        )
    return tid


def test_rematerializing_a_day_changes_nothing_and_keeps_reviews(chain):
    day = DAYS[1]
    reviewed = _review(chain, day, "CONFIRMED")
    before = _snapshot(chain, day)
    again = run_day(day, chain["instance"])
    assert again.success
    after = _snapshot(chain, day)
    assert (
        after == before
    )  # same rows, same alerts (ids, reviews, run ids), same files, byte for byte
    count, distinct = _query(
        chain["pg"], "SELECT count(*), count(DISTINCT transaction_id) FROM fraud_alerts"
    )[0]
    assert count == distinct
    assert _query(
        chain["pg"],
        "SELECT status, reviewed_by FROM fraud_alerts WHERE transaction_id = %s",
        (reviewed,),
    ) == [("CONFIRMED", "analyst.jane")]


def test_a_reviewed_alert_outlives_its_rule_but_an_unreviewed_one_does_not(chain):
    from fraud_assets.definitions import ASSETS

    day = DAYS[2]
    window = _day_window(day)
    reviewed = _review(chain, day, "FALSE_POSITIVE")
    medium = {
        r[0]
        for r in _query(
            chain["pg"],
            "SELECT transaction_id FROM fraud_alerts WHERE transaction_date >= %s AND transaction_date < %s AND risk_level = 'MEDIUM'",
            window,
        )
    }
    assert len(medium) >= 2
    only_alerts = [a for a in ASSETS if a.key.to_user_string() == "fraud_alerts"]

    stricter = run_day(
        day,
        chain["instance"],
        only_alerts,
        {"ops": {"fraud_alerts": {"config": {"min_risk_level": "HIGH"}}}},
    )
    assert stricter.success
    left = dict(
        _query(
            chain["pg"],
            "SELECT transaction_id, is_produced FROM fraud_alerts WHERE transaction_date >= %s AND transaction_date < %s AND risk_level = 'MEDIUM'",
            window,
        )
    )
    assert left == {reviewed: False}  # unreviewed MEDIUM alerts removed, the reviewed one kept
    assert _query(
        chain["pg"],
        "SELECT status, reviewed_by, reviewed_at::text FROM fraud_alerts WHERE transaction_id = %s",
        (reviewed,),
    ) == [("FALSE_POSITIVE", "analyst.jane", "2026-03-05 09:30:00")]

    back = run_day(day, chain["instance"], only_alerts)
    assert back.success
    restored = dict(
        _query(
            chain["pg"],
            "SELECT transaction_id, is_produced FROM fraud_alerts WHERE transaction_date >= %s AND transaction_date < %s AND risk_level = 'MEDIUM'",
            window,
        )
    )
    assert set(restored) == medium and all(restored.values())
    assert _query(
        chain["pg"], "SELECT status FROM fraud_alerts WHERE transaction_id = %s", (reviewed,)
    ) == [("FALSE_POSITIVE",)]
