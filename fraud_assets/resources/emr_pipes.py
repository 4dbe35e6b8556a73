"""The Pipes runner of prod (FRAUD_SPARK_RUNNER=emr_pipes): fraud_assets.emr.pipes_client.

It reads the step launcher's variables (FRAUD_EMR_CLUSTER_ID, AWS_REGION,
FRAUD_EMR_STAGING_BUCKET, FRAUD_EMR_STAGING_PREFIX, FRAUD_EMR_JOB_PACKAGE_S3,
FRAUD_EMR_ACTION_ON_FAILURE, FRAUD_EMR_POLL_SECONDS), so switching runners changes nothing
else; docs/emr.md "Step launcher or Pipes".
"""

from __future__ import annotations

import os

import dagster as dg

from fraud_assets.emr.pipes_client import EmrPipesResource
from fraud_assets.resources.spark import EMR_SPARK_CONFIG

SPARK_RUNNERS = ("step_launcher", "emr_pipes")


def spark_runner() -> str:
    runner = os.environ.get("FRAUD_SPARK_RUNNER", "step_launcher")
    if runner not in SPARK_RUNNERS:
        raise ValueError(
            f"FRAUD_SPARK_RUNNER={runner!r}: expected one of {', '.join(SPARK_RUNNERS)}"
        )
    return runner


def emr_pipes_resource() -> EmrPipesResource:
    return EmrPipesResource(
        cluster_id=dg.EnvVar("FRAUD_EMR_CLUSTER_ID"),
        region_name=dg.EnvVar("AWS_REGION"),
        staging_bucket=dg.EnvVar("FRAUD_EMR_STAGING_BUCKET"),
        staging_prefix=dg.EnvVar("FRAUD_EMR_STAGING_PREFIX"),
        job_package_s3=os.environ.get("FRAUD_EMR_JOB_PACKAGE_S3") or None,
        action_on_failure=os.environ.get("FRAUD_EMR_ACTION_ON_FAILURE", "CONTINUE"),
        poll_seconds=float(os.environ.get("FRAUD_EMR_POLL_SECONDS", "15")),
        spark_conf=dict(EMR_SPARK_CONFIG),
    )
