"""FRAUD_SPARK_RUNNER: which resource carries the Spark steps to EMR, and what the Pipes
step reports back (cheap: no Spark, no AWS)."""

from __future__ import annotations

import dagster as dg
import pytest
from dagster._core.definitions.metadata.external_metadata import metadata_map_from_external

from fraud_assets.emr.launcher import FraudEmrStepLauncher
from fraud_assets.emr.pipes_client import EmrPipesResource
from fraud_assets.emr.pipes_step import pipes_metadata
from fraud_assets.environments import resources_for

EMR_ENV = {
    "FRAUD_EMR_CLUSTER_ID": "j-ABC",
    "AWS_REGION": "eu-west-1",
    "FRAUD_EMR_STAGING_BUCKET": "bucket",
    "FRAUD_EMR_STAGING_PREFIX": "stage",
    "FRAUD_EMR_POLL_SECONDS": "7",
}


def _built(resources):
    keys = ("pyspark_step_launcher", "spark_pipes")
    with dg.build_resources({k: resources[k] for k in keys}) as built:
        return built.pyspark_step_launcher, built.spark_pipes


def test_prod_default_is_the_step_launcher(monkeypatch):
    for key, value in EMR_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("FRAUD_SPARK_RUNNER", raising=False)
    launcher, pipes = _built(resources_for("prod"))
    assert isinstance(launcher, FraudEmrStepLauncher) and pipes is None


def test_prod_emr_pipes_has_no_launcher_and_a_pipes_runner_from_the_environment(monkeypatch):
    for key, value in EMR_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("FRAUD_SPARK_RUNNER", "emr_pipes")
    monkeypatch.delenv("FRAUD_EMR_JOB_PACKAGE_S3", raising=False)
    launcher, pipes = _built(resources_for("prod"))
    assert launcher is None and isinstance(pipes, EmrPipesResource)
    assert (pipes.cluster_id, pipes.region_name, pipes.staging_bucket, pipes.staging_prefix) == (
        "j-ABC",
        "eu-west-1",
        "bucket",
        "stage",
    )
    assert pipes.poll_seconds == 7.0 and pipes.job_package_s3 is None
    assert pipes.spark_conf["spark.sql.session.timeZone"] == "UTC"


@pytest.mark.parametrize("env", ["local", "test"])
def test_local_and_test_ignore_the_runner(env, monkeypatch):
    monkeypatch.setenv("FRAUD_SPARK_RUNNER", "emr_pipes")
    assert _built(resources_for(env)) == (None, None)


def test_an_unknown_runner_is_refused(monkeypatch):
    monkeypatch.setenv("FRAUD_SPARK_RUNNER", "glue")
    with pytest.raises(ValueError, match="glue"):
        resources_for("prod")


def test_a_prebuilt_package_brings_its_pipes_main():
    pipes = EmrPipesResource(
        cluster_id="j-1",
        region_name="eu-west-1",
        staging_bucket="b",
        staging_prefix="p",
        job_package_s3="s3://b/p/package/ab/fraud_assets-ab.zip",
        spark_conf={"spark.executor.cores": "2"},
    )
    code_zip, main = pipes._stage(None, "p/run/fraud_features")  # no upload: nothing staged
    assert main == "s3://b/p/package/ab/pipes_main.py"
    args = pipes.spark_submit_args(code_zip, main, {"--dagster-pipes-context": "C"})
    assert args == [
        "/usr/lib/spark/bin/spark-submit",
        "--master",
        "yarn",
        "--deploy-mode",
        "client",
        "--conf",
        "spark.executor.cores=2",
        "--py-files",
        "s3://b/p/package/ab/fraud_assets-ab.zip",
        "s3://b/p/package/ab/pipes_main.py",
        "--dagster-pipes-context",
        "C",
    ]


def test_step_metadata_reaches_dagster_unchanged_through_pipes():
    metadata = {
        "dagster/row_count": 40,
        "bytes": 1234,
        "share": 0.25,
        "note": "text",
        "path": dg.MetadataValue.path("s3://lake/fraud_features"),
        "per_day": dg.MetadataValue.md("| day | rows |"),
        "recomputed": dg.MetadataValue.json(["2026-03-10"]),
        "by_level": dg.MetadataValue.json({"HIGH": 1}),
        "url": dg.MetadataValue.url("https://example.org"),
        "flag": dg.MetadataValue.bool(True),
    }
    back = metadata_map_from_external(pipes_metadata(metadata))
    assert back == {
        **{k: v for k, v in metadata.items() if isinstance(v, dg.MetadataValue)},
        "dagster/row_count": dg.MetadataValue.int(40),
        "bytes": dg.MetadataValue.int(1234),
        "share": dg.MetadataValue.float(0.25),
        "note": dg.MetadataValue.text("text"),
    }
