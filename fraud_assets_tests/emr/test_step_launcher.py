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
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fraud_assets.db.transaction_store import EXPORT_SCHEMA, replace_day
from fraud_assets.defs.lake.assets import to_lake_schema
from fraud_assets.emr.commands import create_cluster, step_status, terminate
from fraud_assets.resources.lake import LakeResource
from fraud_assets_tests.emr.aws import moto_aws, play_emr_steps, step_process_env

DAY = dt.date(2026, 3, 10)
REPO = Path(__file__).resolve().parents[2]
BUCKET = "fraud-emr-staging"
PREFIX = "staging"


def _transactions(day: dt.date) -> pa.Table:
    """40 card transactions; one USD 6,000 at 03:10 New York time (HIGH_VALUE 25 +
    UNUSUAL_TIME 15 = MEDIUM: an alert), four of one card within 40 minutes (velocity)."""
    base = dt.datetime.combine(day, dt.time(12))  # UTC, naive as in PostgreSQL
    rows = []
    for i in range(40):
        when = base + dt.timedelta(minutes=17 * i)  # all within the day
        customer, amount = f"C{i % 7:03d}", f"{20 + i}.25"
        if i == 0:
            when, amount, customer = base.replace(hour=8, minute=10), "6000.00", "C100"
        if i in (1, 2, 3, 4):
            when, customer = base + dt.timedelta(minutes=10 * i), "C200"
        rows.append(
            {
                "transaction_id": f"T{day:%Y%m%d}-{i:04d}",
                "customer_id": customer,
                "transaction_date": when,
                "amount": amount,
                "currency": "USD",
                "merchant_name": f"Shop {i % 5}",
                "merchant_category": "retail",
                "transaction_type": "PURCHASE",
                "card_last_four": "0042",
                "location_country": "US",
                "location_city": "New York",
                "ip_address": None,
                "device_fingerprint": None,
                "is_online": False,
                "source_system": "card_processor",
                "raw_data": "{}",
                "normalized_at": base,
                "created_at": base,
            }
        )
    schema = pa.schema(
        [pa.field(f.name, pa.string()) if f.name == "amount" else f for f in EXPORT_SCHEMA]
    )
    table = pa.Table.from_pylist(rows, schema=schema)
    amount = EXPORT_SCHEMA.field("amount")
    return table.set_column(3, amount, table["amount"].cast(amount.type))


@pytest.fixture
def aws():
    with moto_aws() as env:
        yield env


@pytest.mark.slow
def test_submit_runs_the_spark_assets_as_emr_steps(aws, clean_db, tmp_path, monkeypatch):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    secrets = boto3.client("secretsmanager")
    secrets.create_secret(Name="fraud/db", SecretString=os.environ["FRAUD_DB_PASSWORD"])

    lake_uri = f"file://{tmp_path}/lake"
    lake = LakeResource(uri=lake_uri)
    # The day as the two upstream assets leave it: in PostgreSQL and in the lake.
    transactions = _transactions(DAY)
    replace_day(clean_db.connect, DAY, transactions, slices=2)
    with lake.replace_partition("transactions", DAY) as folder:
        pq.write_table(
            to_lake_schema(transactions), folder / "part-00000.parquet", compression="zstd"
        )

    monkeypatch.setenv("FRAUD_EMR_LOG_URI", f"s3://{BUCKET}/logs/")
    monkeypatch.setenv("FRAUD_EMR_PACKAGE_PREFIX", f"s3://{BUCKET}/{PREFIX}/package/x")
    cluster_id = create_cluster()

    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    shutil.copyfile(REPO / "dagster.yaml", dagster_home / "dagster.yaml")
    submit_env = {
        **os.environ,
        **aws,
        "DAGSTER_HOME": str(dagster_home),
        "FRAUD_ENV": "prod",
        "FRAUD_LAKE_URI": lake_uri,
        "FRAUD_LANDING_URI": f"file://{tmp_path}/landing",
        "FRAUD_DB_PASSWORD_SECRET_ID": "fraud/db",
        "FRAUD_EMR_CLUSTER_ID": cluster_id,
        "FRAUD_EMR_STAGING_BUCKET": BUCKET,
        "FRAUD_EMR_STAGING_PREFIX": PREFIX,
        "FRAUD_EMR_WAIT_FOR_LOGS": "1",
        "FRAUD_EMR_POLL_SECONDS": "0.5",
    }
    log = tmp_path / "submit.log"
    with open(log, "w") as out:
        submit = subprocess.Popen(
            [sys.executable, "-m", "fraud_assets.cli", "emr", "submit", "--start", DAY.isoformat()],
            env=submit_env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        played = play_emr_steps(
            cluster_id,
            tmp_path / "emr",
            step_process_env(aws),
            done=lambda: submit.poll() is not None,
            timeout=840,
            step_timeout=420,
        )
        submit.wait(timeout=120)
    finally:
        if submit.poll() is None:
            submit.kill()
    out = log.read_text()
    assert [p.returncode for p in played] == [0, 0], "\n".join(p.stderr[-3000:] for p in played)
    assert submit.returncode == 0, out[-5000:]

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
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
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
    status = subprocess.run(
        [sys.executable, "-m", "fraud_assets.cli", "emr", "status", run.run_id],
        env=submit_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert status.returncode == 0, status.stderr
    assert [line.split()[:2] for line in status.stdout.splitlines()] == [
        [p.step_id, "COMPLETED"] for p in played
    ]
    assert terminate(cluster_id) in ("TERMINATING", "TERMINATED")
