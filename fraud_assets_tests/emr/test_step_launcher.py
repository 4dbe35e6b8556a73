"""The Spark assets on EMR, end to end on this machine.

`fraud-assets emr submit` runs as a real process with FRAUD_ENV=prod against moto (S3, EMR,
Secrets Manager over HTTP). Its step launcher stages each Spark asset in the staging prefix
and adds an EMR step; the test plays EMR: it runs the staged step's own spark-submit
command (Spark local, staged files copied locally) and moves the step's state. The step
writes the lake (a `file://` lake with Spark writing it directly, the route Spark takes to
s3:// on EMR) and PostgreSQL, and its events travel back through S3 into the run.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile

import boto3
import dagster as dg
import pytest

from fraud_assets.emr.commands import step_status, terminate
from fraud_assets_tests.emr.submit import (
    PREFIX,
    assert_emr_status_lists,
    stage_day_on_a_cluster,
    submit_while_playing_emr,
)

DAY = dt.date(2026, 3, 10)
BUCKET = "fraud-emr-staging"


@pytest.mark.slow
def test_submit_runs_the_spark_assets_as_emr_steps(aws, clean_db, tmp_path, monkeypatch):
    s3 = boto3.client("s3")
    staged = stage_day_on_a_cluster(
        aws, clean_db, tmp_path, DAY, BUCKET, monkeypatch, FRAUD_EMR_WAIT_FOR_LOGS="1"
    )
    lake, lake_uri, cluster_id = staged.lake, staged.lake_uri, staged.cluster_id
    played, returncode, out = submit_while_playing_emr(
        staged, aws, tmp_path, ["--start", DAY.isoformat()], timeout=840
    )
    assert [p.returncode for p in played] == [0, 0], "\n".join(p.stderr[-3000:] for p in played)
    assert returncode == 0, out[-5000:]

    # What the launcher staged and asked EMR to run, per asset.
    for p, asset in zip(played, ("fraud_features", "fraud_alerts"), strict=True):
        assert p.args[-2] == BUCKET
        run_id = p.args[-1].split("/")[1]
        assert p.args[-1] == f"{PREFIX}/{run_id}/{asset}/step_run_ref.pkl"
        assert "--py-files" in p.args and p.args[p.args.index("--py-files") + 1] == (
            f"s3://{BUCKET}/{PREFIX}/{run_id}/{asset}/code.zip"
        )
        assert "spark.sql.session.timeZone=UTC" in p.args
        assert set(p.staged) == {"step_main.py", "code.zip"}
        with zipfile.ZipFile(p.staged["code.zip"]) as zf:
            names = zf.namelist()
        assert (
            "fraud_assets/definitions.py" in names and "fraud_assets/contract/fx_rates.csv" in names
        )
        assert not any(".venv" in n or "__pycache__" in n for n in names)
        # The step ran the zipped code, not this checkout.
        assert f"code from {p.staged['code.zip']}/fraud_assets/__init__.py" in p.stdout
        staged_env = json.loads(
            s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}/{run_id}/{asset}/step_env.json")[
                "Body"
            ].read()
        )
        assert staged_env["FRAUD_ENV"] == "prod" and staged_env["FRAUD_LAKE_URI"] == lake_uri
        assert not any("PASSWORD" in k and "SECRET_ID" not in k for k in staged_env)

    # What the steps wrote: the lake's partitions (Spark wrote file:// directly, no local
    # staging) and the alert in PostgreSQL.
    features = lake.manifest("fraud_features", DAY)
    scored = lake.manifest("scored_transactions", DAY)
    assert features is not None and features.rows == 40
    assert scored is not None and scored.rows == 40
    assert (
        tmp_path / "lake" / "fraud_features" / f"date={DAY}" / f"_v={features.version}"
    ).is_dir()
    assert not list((tmp_path / "lake" / "_scratch").glob("*"))
    with clean_db.connect() as conn:
        alerts = conn.execute(
            "SELECT transaction_id, risk_level, rules_triggered, dagster_run_id FROM fraud_alerts"
        ).fetchall()
    assert [(a[0], a[1], sorted(a[2])) for a in alerts] == [
        (f"T{DAY:%Y%m%d}-0000", "MEDIUM", ["HIGH_VALUE", "UNUSUAL_TIME"])
    ]

    # What Dagster recorded: the run succeeded with both materializations, read back from S3.
    monkeypatch.setenv("DAGSTER_HOME", str(staged.dagster_home))
    with dg.DagsterInstance.get() as instance:
        run = instance.get_run_by_id(alerts[0][3])
        assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
        for asset in ("fraud_features", "fraud_alerts"):
            event = instance.get_latest_materialization_event(dg.AssetKey(asset))
            assert event.run_id == run.run_id
            assert event.asset_materialization.partition == DAY.isoformat()
        assert (
            instance.get_latest_materialization_event(dg.AssetKey("fraud_features"))
            .asset_materialization.metadata["dagster/row_count"]
            .value
            == 40
        )

    # `status RUN_ID` finds the run's steps in its logs; terminate, as an operator types them.
    for p in played:
        s = step_status(cluster_id, p.step_id)
        assert s["state"] == "COMPLETED"
        assert s["logs"] == f"s3://{BUCKET}/logs/{cluster_id}/steps/{p.step_id}/"
    assert_emr_status_lists(staged.env, run.run_id, played)
    assert terminate(cluster_id) in ("TERMINATING", "TERMINATED")
