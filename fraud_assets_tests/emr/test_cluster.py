"""Cluster as code, the job package and the cluster commands, against moto over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest

from fraud_assets.emr.cluster_spec import RELEASE_LABEL
from fraud_assets.emr.commands import create_cluster
from fraud_assets.emr.package import REPO_ROOT, build_code_zip, requirements
from fraud_assets_tests.emr.aws import emr_backend, moto_aws

BUCKET = "fraud-emr"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1111-2222"


@pytest.fixture(scope="module")
def aws():
    with moto_aws() as env:
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield env


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fraud_assets.cli", "emr", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_package_uploads_code_requirements_bootstrap_and_driver(aws, tmp_path):
    jar = tmp_path / "postgresql.jar"
    jar.write_bytes(b"jar bytes")
    done = _cli(
        {**aws, "FRAUD_EMR_STAGING_BUCKET": BUCKET, "FRAUD_EMR_STAGING_PREFIX": "stage"},
        "package",
        "--jdbc-jar",
        str(jar),
    )
    assert done.returncode == 0, done.stderr
    printed = dict(line.split("=", 1) for line in done.stdout.split())
    prefix = printed["FRAUD_EMR_PACKAGE_PREFIX"]
    assert prefix.startswith(f"s3://{BUCKET}/stage/package/")
    key = prefix.removeprefix(f"s3://{BUCKET}/")
    listed = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=key)["Contents"]
    names = sorted(o["Key"].rsplit("/", 1)[1] for o in listed)
    assert names == sorted(
        [
            "bootstrap.sh",
            "constraints.txt",
            "pipes_main.py",
            "postgresql.jar",
            "requirements.txt",
            Path(printed["FRAUD_EMR_JOB_PACKAGE_S3"]).name,
        ]
    )

    def body(name):
        return boto3.client("s3").get_object(Bucket=BUCKET, Key=f"{key}/{name}")["Body"].read()

    reqs = body("requirements.txt").decode().split()
    assert "dagster-aws==0.29.27" in reqs and not any(
        r.startswith("dagster-webserver") for r in reqs
    )
    assert body("constraints.txt") == (REPO_ROOT / "constraints.txt").read_bytes()
    assert b"constraints.txt" in body("bootstrap.sh")
    # Same code, same zip: the package name is a content hash.
    build_code_zip(tmp_path / "a.zip")
    build_code_zip(tmp_path / "b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        assert "fraud_assets/emr/step_main.py" in zf.namelist()
    assert requirements()


def test_create_cluster_sends_the_spec_and_commands_work(aws, monkeypatch):
    monkeypatch.setenv("FRAUD_EMR_LOG_URI", f"s3://{BUCKET}/logs/")
    monkeypatch.setenv("FRAUD_EMR_PACKAGE_PREFIX", f"s3://{BUCKET}/stage/package/abc")
    monkeypatch.setenv("FRAUD_S3_KMS_KEY_ID", KMS_KEY)
    monkeypatch.setenv("FRAUD_COST_CENTER", "cc-fraud-42")
    sent = {}
    emr = boto3.client("emr")
    emr.meta.events.register(
        "provide-client-params.emr.RunJobFlow", lambda params, **_: sent.update(params)
    )
    cluster_id = create_cluster(emr)

    cluster = emr.describe_cluster(ClusterId=cluster_id)["Cluster"]
    assert cluster["ReleaseLabel"] == RELEASE_LABEL == "emr-spark-8.1.0"
    assert cluster["LogUri"] == f"s3://{BUCKET}/logs/"
    assert cluster["SecurityConfiguration"] == "fraud-assets-sse-kms"
    tags = {t["Key"]: t["Value"] for t in cluster["Tags"]}
    assert tags["CostCenter"] == "cc-fraud-42" and tags["Project"] == "fraud_assets"
    assert not cluster["TerminationProtected"]

    groups = {
        g["InstanceGroupType"]: g
        for g in emr.list_instance_groups(ClusterId=cluster_id)["InstanceGroups"]
    }
    assert {k: (g["Market"], g["RequestedInstanceCount"]) for k, g in groups.items()} == {
        "MASTER": ("ON_DEMAND", 1),
        "CORE": ("ON_DEMAND", 2),
        "TASK": ("SPOT", 1),
    }
    policy = groups["TASK"]["AutoScalingPolicy"]
    assert policy["Constraints"] == {"MinCapacity": 1, "MaxCapacity": 10}
    rules = {
        r["Action"]["SimpleScalingPolicyConfiguration"]["ScalingAdjustment"]: r["Trigger"][
            "CloudWatchAlarmDefinition"
        ]
        for r in policy["Rules"]
    }
    # Scale OUT when free YARN memory is LOW (the seed had this inverted), IN when high.
    assert rules[1]["MetricName"] == rules[-1]["MetricName"] == "YARNMemoryAvailablePercentage"
    assert (rules[1]["ComparisonOperator"], rules[1]["Threshold"]) == ("LESS_THAN", 15.0)
    assert (rules[-1]["ComparisonOperator"], rules[-1]["Threshold"]) == ("GREATER_THAN", 75.0)

    security = json.loads(
        emr.describe_security_configuration(Name="fraud-assets-sse-kms")["SecurityConfiguration"]
    )
    at_rest = security["EncryptionConfiguration"]["AtRestEncryptionConfiguration"]
    assert at_rest["S3EncryptionConfiguration"] == {
        "EncryptionMode": "SSE-KMS",
        "AwsKmsKey": KMS_KEY,
    }

    # moto does not keep these; what was sent is asserted from the request itself.
    assert sent["AutoTerminationPolicy"] == {"IdleTimeout": 3600}
    assert sent["BootstrapActions"][0]["ScriptBootstrapAction"] == {
        "Path": f"s3://{BUCKET}/stage/package/abc/bootstrap.sh",
        "Args": [f"s3://{BUCKET}/stage/package/abc"],
    }

    # A second cluster reuses the security configuration instead of failing on it.
    assert create_cluster(emr) != cluster_id

    # status of a step and terminate, as an operator types them.
    step_id = emr.add_job_flow_steps(
        JobFlowId=cluster_id,
        Steps=[{"Name": "probe", "HadoopJarStep": {"Jar": "command-runner.jar", "Args": ["true"]}}],
    )["StepIds"][0]
    emr_backend().clusters[cluster_id].steps[-1].state = "FAILED"
    done = _cli({**aws, "FRAUD_EMR_CLUSTER_ID": cluster_id}, "status", step_id)
    assert done.returncode == 0, done.stderr
    assert f"{step_id} FAILED" in done.stdout
    assert f"s3://{BUCKET}/logs/{cluster_id}/steps/{step_id}/" in done.stdout
    done = _cli(aws, "terminate", cluster_id)
    assert done.returncode == 0, done.stderr
    assert emr.describe_cluster(ClusterId=cluster_id)["Cluster"]["Status"]["State"] in (
        "TERMINATING",
        "TERMINATED",
    )
