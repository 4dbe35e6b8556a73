"""The EMR switch only exists in prod: local and test need no launcher and no AWS."""

from __future__ import annotations

import dagster as dg
import pytest

from fraud_assets.emr.launcher import FORWARDED_ENV, FraudEmrStepLauncher
from fraud_assets.environments import resources_for


@pytest.mark.parametrize("env", ["local", "test"])
def test_local_and_test_have_no_launcher_and_stage_spark_locally(env, monkeypatch):
    monkeypatch.delenv("FRAUD_LAKE_SPARK_DIRECT", raising=False)
    resources = resources_for(env)
    with dg.build_resources({"launcher": resources["pyspark_step_launcher"]}) as built:
        assert built.launcher is None
    assert resources["lake"].spark_direct is False


def test_prod_launcher_comes_from_the_environment_and_spark_writes_the_lake(monkeypatch):
    for key, value in {
        "FRAUD_EMR_CLUSTER_ID": "j-ABC",
        "AWS_REGION": "eu-west-1",
        "FRAUD_EMR_STAGING_BUCKET": "bucket",
        "FRAUD_EMR_STAGING_PREFIX": "stage",
        "FRAUD_EMR_POLL_SECONDS": "7",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("FRAUD_LAKE_SPARK_DIRECT", raising=False)
    monkeypatch.delenv("FRAUD_EMR_JOB_PACKAGE_S3", raising=False)
    resources = resources_for("prod")
    assert resources["lake"].spark_direct is True
    with dg.build_resources({"launcher": resources["pyspark_step_launcher"]}) as built:
        launcher = built.launcher
    assert isinstance(launcher, FraudEmrStepLauncher)
    assert (launcher.cluster_id, launcher.region_name, launcher.staging_bucket) == (
        "j-ABC",
        "eu-west-1",
        "bucket",
    )
    assert launcher.deploy_local_job_package and launcher.poll_seconds == 7.0
    assert launcher.spark_config["spark"]["sql"]["session"]["timeZone"] == "UTC"
    # No secret ever travels with the step.
    assert not [k for k in FORWARDED_ENV if "PASSWORD" in k and not k.endswith("_SECRET_ID")]
    assert not [k for k in FORWARDED_ENV if k.startswith("AWS_") and k != "AWS_REGION"]


def test_a_prebuilt_job_package_replaces_the_per_step_zip(monkeypatch):
    for key, value in {
        "FRAUD_EMR_CLUSTER_ID": "j-ABC",
        "AWS_REGION": "eu-west-1",
        "FRAUD_EMR_STAGING_BUCKET": "bucket",
        "FRAUD_EMR_STAGING_PREFIX": "stage",
        "FRAUD_EMR_JOB_PACKAGE_S3": "s3://bucket/stage/package/ab/fraud_assets-ab.zip",
    }.items():
        monkeypatch.setenv(key, value)
    resources = resources_for("prod")
    with dg.build_resources({"launcher": resources["pyspark_step_launcher"]}) as built:
        launcher = built.launcher
    assert not launcher.deploy_local_job_package
    args = launcher._get_emr_step_def("r1", "fraud_features", "fraud_features")["HadoopJarStep"][
        "Args"
    ]
    assert args[args.index("--py-files") + 1] == "s3://bucket/stage/package/ab/fraud_assets-ab.zip"
    assert args[-3:] == [
        "s3://bucket/stage/r1/fraud_features/step_main.py",
        "bucket",
        "stage/r1/fraud_features/step_run_ref.pkl",
    ]
    assert "spark.executor.cores=2" in args
