"""The Pipes runner (FRAUD_SPARK_RUNNER=emr_pipes) end to end on this machine.

`fraud-assets emr submit --assets fraud_features` runs as a real process with FRAUD_ENV=prod
against moto (S3, EMR, Secrets Manager over HTTP). The asset stages `pipes_main.py` and the
code zip, puts the Pipes context in S3 and adds an EMR step; the test plays EMR: it reads
the context the step is pointed at, runs the step's own spark-submit command (Spark local,
staged files copied locally; the Pipes arguments as they are), whose messages go to moto's
S3, and moves the step's state. Dagster reads the materialization back from those messages.
"""

from __future__ import annotations

import datetime as dt
import json
import os

import boto3
import dagster as dg
import pytest
from dagster_pipes import decode_param

from fraud_assets_tests.emr.submit import (
    PREFIX,
    assert_emr_status_lists,
    stage_day_on_a_cluster,
    submit_while_playing_emr,
)

DAY = dt.date(2026, 3, 11)
BUCKET = "fraud-emr-pipes"


# The suite runs fraud_features alone (one spark-submit, ~2.5 min on a loaded machine);
# FRAUD_TEST_EMR_PIPES_ALERTS=1 adds fraud_alerts as a second Pipes step (~2 min more).
BOTH = pytest.param(
    ("fraud_features", "fraud_alerts"),
    marks=pytest.mark.skipif(
        os.environ.get("FRAUD_TEST_EMR_PIPES_ALERTS") != "1",
        reason="set FRAUD_TEST_EMR_PIPES_ALERTS=1 to run fraud_alerts through Pipes too",
    ),
    id="features+alerts",
)


@pytest.mark.slow
@pytest.mark.parametrize("assets", [pytest.param(("fraud_features",), id="features"), BOTH])
def test_pipes_runner_runs_the_spark_assets_as_emr_steps(
    assets, aws, clean_db, tmp_path, monkeypatch
):
    s3 = boto3.client("s3")
    staged = stage_day_on_a_cluster(
        aws, clean_db, tmp_path, DAY, BUCKET, monkeypatch, FRAUD_SPARK_RUNNER="emr_pipes"
    )
    lake, lake_uri, cluster_id = staged.lake, staged.lake_uri, staged.cluster_id
    contexts: list[dict] = []

    def read_pipes_context(args: list[str]) -> None:
        """While the step is RUNNING: the context it is pointed at is in S3 (after the run,
        the injector removes it)."""
        where = decode_param(args[args.index("--dagster-pipes-context") + 1])
        body = s3.get_object(Bucket=where["bucket"], Key=where["key"])["Body"].read()
        contexts.append(
            {
                "where": where,
                "messages": decode_param(args[args.index("--dagster-pipes-messages") + 1]),
                "context": json.loads(body),
            }
        )

    played, returncode, out = submit_while_playing_emr(
        staged,
        aws,
        tmp_path,
        ["--start", DAY.isoformat(), "--assets", *assets],
        timeout=600,
        before_run=read_pipes_context,
    )
    assert [p.returncode for p in played] == [0] * len(assets), "\n".join(
        p.stderr[-3000:] for p in played
    )
    assert returncode == 0, out[-5000:]
    step, seen = played[0], contexts[0]

    # The Pipes context the step was pointed at: the run, the asset, the partition, and as
    # extras the days, the asset's config and the non-secret environment.
    run_id = seen["context"]["run_id"]
    folder = f"{PREFIX}/{run_id}/fraud_features"
    assert seen["where"]["bucket"] == BUCKET
    assert seen["where"]["key"].startswith(f"{folder}/pipes/context-")
    assert seen["messages"]["bucket"] == BUCKET
    assert seen["messages"]["key_prefix"].startswith(f"{folder}/pipes/messages/")
    ctx = seen["context"]
    assert ctx["asset_keys"] == ["fraud_features"]
    assert ctx["partition_key"] == DAY.isoformat()
    assert ctx["extras"]["step"] == "fraud_features"
    assert ctx["extras"]["days"] == [DAY.isoformat()]
    assert ctx["extras"]["params"] == {"merchant_delay_days": 7}
    env = ctx["extras"]["env"]
    assert env["FRAUD_LAKE_URI"] == lake_uri and env["FRAUD_DB_PASSWORD_SECRET_ID"] == "fraud/db"
    assert not any("PASSWORD" in k and "SECRET_ID" not in k for k in env)
    # ...and it is gone once the step is over.
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{folder}/pipes/context-")

    # The step EMR was asked to run: spark-submit of the staged pipes_main.py with the code
    # zip, the EMR Spark settings and the two Pipes arguments.
    args = step.args
    assert args[:5] == ["/usr/lib/spark/bin/spark-submit", "--master", "yarn", "--deploy-mode",
                        "client"]  # fmt: skip
    assert "spark.sql.session.timeZone=UTC" in args and "spark.executor.cores=2" in args
    i = args.index("--py-files")
    assert args[i + 1 : i + 3] == [
        f"s3://{BUCKET}/{folder}/code.zip",
        f"s3://{BUCKET}/{folder}/pipes_main.py",
    ]
    assert [args[i + 3], args[i + 5]] == ["--dagster-pipes-context", "--dagster-pipes-messages"]
    assert len(args) == i + 7
    assert set(step.staged) == {"code.zip", "pipes_main.py"}
    assert f"code from {step.staged['code.zip']}/fraud_assets/__init__.py" in step.stdout
    # The messages went to the emulator's S3, under the step's staging folder.
    chunks = s3.list_objects_v2(Bucket=BUCKET, Prefix=seen["messages"]["key_prefix"])
    assert [o["Key"].rsplit("/", 1)[1] for o in chunks["Contents"]][:1] == ["1.json"]

    # What the step wrote: the day's features in the lake, published with a manifest.
    features = lake.manifest("fraud_features", DAY)
    assert features is not None and features.rows == 40
    assert (
        tmp_path / "lake" / "fraud_features" / f"date={DAY}" / f"_v={features.version}"
    ).is_dir()

    # What Dagster recorded, read back through Pipes: the materialization of the partition
    # with the step's metadata (and the EMR step's id), and the check result.
    monkeypatch.setenv("DAGSTER_HOME", str(staged.dagster_home))
    with dg.DagsterInstance.get() as instance:
        run = instance.get_run_by_id(run_id)
        assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
        event = instance.get_latest_materialization_event(dg.AssetKey("fraud_features"))
        assert event.run_id == run_id
        materialization = event.asset_materialization
        assert materialization.partition == DAY.isoformat()
        meta = {k: v.value for k, v in materialization.metadata.items()}
        assert meta["dagster/row_count"] == 40
        assert meta["bytes"] == features.bytes
        assert meta["path"] == lake.dataset_uri("fraud_features")
        assert f"| {DAY} | 40 |" in meta["per_day"]
        assert meta["emr_step"] == step.step_id and meta["emr_cluster"] == cluster_id
        checks = [
            e.dagster_event.event_specific_data
            for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        ]
        features_checks = [c for c in checks if c.asset_key == dg.AssetKey("fraud_features")]
        assert [(c.check_name, c.passed) for c in features_checks] == [
            ("one_row_per_transaction", True)
        ]
        assert features_checks[0].target_materialization_data.run_id == run_id
    # `emr status RUN_ID` finds the Pipes step as it finds the step launcher's.
    assert_emr_status_lists(staged.env, run_id, played)
    if "fraud_alerts" in assets:
        _assert_alerts_came_back(played[1], contexts[1], checks, run_id, clean_db, cluster_id)


def _assert_alerts_came_back(step, seen, checks, run_id, postgres, cluster_id) -> None:
    """fraud_alerts' Pipes step: its own context and config, the alert in PostgreSQL with
    the run's id, the materialization and its three checks read back through Pipes."""
    assert seen["context"]["asset_keys"] == ["fraud_alerts"]
    assert seen["context"]["extras"]["params"]["min_risk_level"] == "MEDIUM"
    assert step.args[step.args.index("--py-files") + 2].endswith("/fraud_alerts/pipes_main.py")
    with postgres.connect() as conn:
        alerts = conn.execute(
            "SELECT transaction_id, risk_level, rules_triggered, dagster_run_id FROM fraud_alerts"
        ).fetchall()
    assert [(a[0], a[1], sorted(a[2]), a[3]) for a in alerts] == [
        (f"T{DAY:%Y%m%d}-0000", "MEDIUM", ["HIGH_VALUE", "UNUSUAL_TIME"], run_id)
    ]
    with dg.DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey("fraud_alerts"))
    assert event.run_id == run_id and event.asset_materialization.partition == DAY.isoformat()
    meta = {k: v.value for k, v in event.asset_materialization.metadata.items()}
    assert (meta["dagster/row_count"], meta["scored_transactions"]) == (1, 40)
    assert meta["alerts_by_risk_level"] == {"CRITICAL": 0, "HIGH": 0, "MEDIUM": 1, "LOW": 39}
    assert meta["alerts_inserted"] == 1 and meta["emr_step"] == step.step_id
    assert meta["emr_cluster"] == cluster_id
    alert_checks = {
        c.check_name: (c.passed, c.severity.value)
        for c in checks
        if c.asset_key == dg.AssetKey("fraud_alerts") and c.check_name != "freshness_check"
    }
    assert alert_checks == {
        "scores_and_levels_consistent": (True, "ERROR"),
        "alerts_reference_the_days_transactions": (True, "ERROR"),
        "alert_rate_within_band": (True, "WARN"),
    }
