"""The prod step launcher: Spark assets run as EMR steps (dagster-aws).

Everything comes from the environment; nothing about the AWS account is in code. The
full verification of this path (emulated EMR API, staged step executed locally) is the
EMR issue's work; here it is configured so `FRAUD_ENV=prod` loads and launches.
"""

from __future__ import annotations

import dagster as dg
from dagster_aws.emr import emr_pyspark_step_launcher

from fraud_assets.resources.spark import EMR_SPARK_CONFIG


def _nested(flat: dict[str, str]) -> dict:
    nested: dict = {}
    for key, value in flat.items():
        node = nested
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return nested


def emr_step_launcher() -> dg.ResourceDefinition:
    return emr_pyspark_step_launcher.configured(
        {
            "cluster_id": {"env": "FRAUD_EMR_CLUSTER_ID"},
            "region_name": {"env": "AWS_REGION"},
            "staging_bucket": {"env": "FRAUD_EMR_STAGING_BUCKET"},
            "staging_prefix": {"env": "FRAUD_EMR_STAGING_PREFIX"},
            "local_job_package_path": ".",
            "deploy_local_job_package": True,
            "wait_for_logs": True,
            "action_on_failure": "CONTINUE",
            "spark_config": _nested(EMR_SPARK_CONFIG),
        }
    )
