"""fraud_feedback on real parts: a chargeback feed folder, reviews in PostgreSQL fraud_alerts,
the transactions they refer to, the real lake and local Spark."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import psycopg
import pyarrow.parquet as pq
import pytest

from fraud_assets.defs.feedback.assets import REJECTS, fraud_feedback
from fraud_assets.environments import resources_for
from fraud_assets.logic.labels import FEEDBACK_SCHEMA, labels_available_on
from fraud_assets.resources.lake import LakeResource
from fraud_assets_tests.defs.pipeline import use_folders

DAY = dt.date(2026, 5, 10)
TX_DAY = dt.date(2026, 5, 2)
FEED = """transaction_id,is_fraud,reported_at
T1,true,2026-05-10T08:00:00Z
T2,true,2026-05-10T07:00:00Z
T1,false,2026-05-10T09:00:00Z
T9,true,2026-05-10T10:00:00Z
T3,yes,2026-05-10T10:00:00Z
T3,true,2026-05-11T00:00:00Z
"""


def _alert(conn, tid: str, status: str, reviewed_at: str | None) -> None:
    conn.execute(
        """INSERT INTO fraud_alerts (transaction_id, customer_id, transaction_date, amount,
               merchant_name, rules_triggered, rule_score, fraud_score, risk_level, description,
               rules_version, dagster_run_id, status, reviewed_by, reviewed_at)
           VALUES (%s, %s, '2026-05-02 12:00', 10, %s, '{HIGH_VALUE}', 50, 50,
                   'MEDIUM', 'd', 'rules-v2', 'run', %s, %s, %s)""",
        (tid, f"C_{tid}", f"M_{tid}", status, "analyst" if reviewed_at else None, reviewed_at),
    )


@pytest.fixture(scope="module")
def feedback(tmp_path_factory, postgres, spark):
    from fraud_assets_tests.conftest import reset_database

    reset_database(postgres)
    root = tmp_path_factory.mktemp("feedback")
    folder = root / "landing" / "chargebacks" / f"date={DAY.isoformat()}"
    folder.mkdir(parents=True)
    (folder / "bank.csv").write_text(FEED)
    use_folders(root / "landing", root / "lake")
    with psycopg.connect(postgres.conninfo) as conn:
        conn.execute(
            "CREATE TABLE transactions_ptest PARTITION OF transactions "
            "FOR VALUES FROM ('2026-05-02') TO ('2026-05-03')"
        )
        for tid in ("T1", "T2", "T3", "T4"):
            conn.execute(
                """INSERT INTO transactions (transaction_id, customer_id, transaction_date,
                       amount, merchant_name, source_system)
                   VALUES (%s, %s, '2026-05-02 12:00', 10, %s, 'test')""",
                (tid, f"C_{tid}", f"M_{tid}"),
            )
        _alert(conn, "T2", "FALSE_POSITIVE", "2026-05-10 12:00")  # after its chargeback
        _alert(conn, "T4", "CONFIRMED", "2026-05-10 11:00")
        _alert(conn, "T5", "CONFIRMED", "2026-05-11 09:00")  # another day's label
        _alert(conn, "T6", "UNDER_REVIEW", "2026-05-10 11:00")  # not a decision
    instance = dg.DagsterInstance.ephemeral()

    def run():
        return dg.materialize(
            [fraud_feedback],
            partition_key=DAY.isoformat(),
            resources=resources_for("test"),
            instance=instance,
        )

    first = run()
    lake = LakeResource(uri=str(root / "lake"))
    manifest = lake.manifest("fraud_feedback", DAY)
    second = run()
    return {"first": first, "second": second, "lake": lake, "manifest": manifest}


def _labels(feedback) -> dict:
    table = pq.read_table(feedback["lake"].local_partition("fraud_feedback", DAY))
    return {r["transaction_id"]: r for r in table.to_pylist()}


def test_latest_report_of_the_day_wins_across_sources(feedback):
    labels = _labels(feedback)
    assert sorted(labels) == ["T1", "T2", "T4", "T9"]
    assert (labels["T1"]["is_fraud"], labels["T1"]["source"]) == (False, "chargeback")
    assert (labels["T2"]["is_fraud"], labels["T2"]["source"]) == (False, "review")
    assert (labels["T4"]["is_fraud"], labels["T4"]["reported_at"]) == (
        True,
        dt.datetime(2026, 5, 10, 11),
    )
    assert labels["T1"]["merchant_name"] == "M_T1"
    assert labels["T1"]["transaction_date"] == dt.datetime(2026, 5, 2, 12)


def test_bad_and_unknown_records_are_kept_aside_and_warned(feedback):
    labels = _labels(feedback)
    assert labels["T9"]["is_fraud"] and labels["T9"]["merchant_name"] is None
    rejects = pq.read_table(feedback["lake"].local_partition(REJECTS, DAY)).to_pylist()
    assert sorted((r["transaction_id"], r["reason"], r["record_number"]) for r in rejects) == [
        ("T3", "bad_boolean", 5),
        ("T3", "outside_partition_day", 6),
    ]
    (check,) = feedback["first"].get_asset_check_evaluations()
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["rejected_records"].value == 2
    assert check.metadata["unknown_transactions"].value == 1


def test_rematerializing_gives_the_same_partition(feedback):
    assert feedback["second"].success
    again = feedback["lake"].manifest("fraud_feedback", DAY)
    assert again.version == feedback["manifest"].version and again.rows == 4


def test_labels_are_available_only_after_the_day_they_were_reported(feedback, spark):
    path = feedback["lake"].spark_path("fraud_feedback", DAY)
    rows = spark.read.schema(FEEDBACK_SCHEMA).parquet(path)
    assert labels_available_on(spark, rows, DAY).count() == 0
    later = {
        r["transaction_id"]
        for r in labels_available_on(spark, rows, DAY + dt.timedelta(days=1)).collect()
    }
    assert later == {"T1", "T2", "T4", "T9"}
