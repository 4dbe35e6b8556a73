"""What the EMR end-to-end tests share: a day in PostgreSQL and the lake, a moto cluster
with its staging bucket and secret, and `fraud-assets emr submit` run as a real process
while the test plays EMR's steps."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fraud_assets.db.transaction_store import EXPORT_SCHEMA, replace_day
from fraud_assets.defs.lake.assets import to_lake_schema
from fraud_assets.emr.commands import create_cluster
from fraud_assets.resources.lake import LakeResource
from fraud_assets_tests.emr.aws import PlayedStep, play_emr_steps, step_process_env

REPO = Path(__file__).resolve().parents[2]
PREFIX = "staging"
SECRET_ID = "fraud/db"


def day_transactions(day: dt.date) -> pa.Table:
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


@dataclass(frozen=True)
class Staged:
    lake_uri: str
    lake: LakeResource
    cluster_id: str
    dagster_home: Path
    env: dict[str, str]  # the environment `fraud-assets emr submit` runs with


def stage_day_on_a_cluster(
    aws: dict[str, str],
    db,
    tmp_path: Path,
    day: dt.date,
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
    **env: str,
) -> Staged:
    """The day as the two upstream assets leave it (PostgreSQL and a `file://` lake), a
    running moto cluster, its staging bucket and the DB password in Secrets Manager;
    `env` adds to (or overrides) the prod environment the submit process gets."""
    boto3.client("s3").create_bucket(Bucket=bucket)
    boto3.client("secretsmanager").create_secret(
        Name=SECRET_ID, SecretString=os.environ["FRAUD_DB_PASSWORD"]
    )
    lake_uri = f"file://{tmp_path}/lake"
    lake = LakeResource(uri=lake_uri)
    transactions = day_transactions(day)
    replace_day(db.connect, day, transactions, slices=2)
    with lake.replace_partition("transactions", day) as folder:
        pq.write_table(
            to_lake_schema(transactions), folder / "part-00000.parquet", compression="zstd"
        )
    monkeypatch.setenv("FRAUD_EMR_LOG_URI", f"s3://{bucket}/logs/")
    monkeypatch.setenv("FRAUD_EMR_PACKAGE_PREFIX", f"s3://{bucket}/{PREFIX}/package/x")
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
        "FRAUD_DB_PASSWORD_SECRET_ID": SECRET_ID,
        "FRAUD_EMR_CLUSTER_ID": cluster_id,
        "FRAUD_EMR_STAGING_BUCKET": bucket,
        "FRAUD_EMR_STAGING_PREFIX": PREFIX,
        "FRAUD_EMR_POLL_SECONDS": "0.5",
        **env,
    }
    return Staged(lake_uri, lake, cluster_id, dagster_home, submit_env)


def submit_while_playing_emr(
    staged: Staged,
    aws: dict[str, str],
    tmp_path: Path,
    args: list[str],
    timeout: float,
    before_run: Callable[[list[str]], None] | None = None,
) -> tuple[list[PlayedStep], int, str]:
    """`fraud-assets emr submit ARGS` in its own process; meanwhile every step it adds is
    run here as EMR would. Returns the played steps, submit's exit code and its output."""
    log = tmp_path / "submit.log"
    with open(log, "w") as out:
        submit = subprocess.Popen(
            [sys.executable, "-m", "fraud_assets.cli", "emr", "submit", *args],
            env=staged.env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        played = play_emr_steps(
            staged.cluster_id,
            tmp_path / "emr",
            step_process_env(aws),
            done=lambda: submit.poll() is not None,
            timeout=timeout,
            step_timeout=420,
            before_run=before_run,
        )
        submit.wait(timeout=120)
    finally:
        if submit.poll() is None:
            submit.kill()
    return played, submit.returncode, log.read_text()


def assert_emr_status_lists(env: dict[str, str], run_id: str, played: list[PlayedStep]) -> None:
    """`fraud-assets emr status RUN_ID`, as an operator types it, lists exactly the steps
    the run submitted, each COMPLETED (the Pipes runner's steps as the step launcher's)."""
    status = subprocess.run(
        [sys.executable, "-m", "fraud_assets.cli", "emr", "status", run_id],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert status.returncode == 0, status.stderr
    assert [line.split()[:2] for line in status.stdout.splitlines()] == [
        [p.step_id, "COMPLETED"] for p in played
    ]
