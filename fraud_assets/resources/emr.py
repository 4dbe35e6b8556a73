"""The prod step launcher: Spark assets run as EMR steps (fraud_assets.emr.launcher).

Everything comes from the environment; nothing about the AWS account is in code:

| variable | meaning | default |
|---|---|---|
| FRAUD_EMR_CLUSTER_ID | the cluster the steps run on | required |
| AWS_REGION | its region | required |
| FRAUD_EMR_STAGING_BUCKET / FRAUD_EMR_STAGING_PREFIX | where steps are staged | required |
| FRAUD_EMR_JOB_PACKAGE_S3 | code zip from `fraud-assets emr package` | unset: zip per step |
| FRAUD_EMR_WAIT_FOR_LOGS | copy the step's driver log into the run (EMR syncs logs every 5 min) | 0 |
| FRAUD_EMR_ACTION_ON_FAILURE | EMR ActionOnFailure | CONTINUE |
| FRAUD_EMR_POLL_SECONDS | DescribeStep polling interval | 15 |
"""

from __future__ import annotations

import os

import dagster as dg

from fraud_assets.emr.launcher import fraud_emr_step_launcher
from fraud_assets.resources.spark import EMR_SPARK_CONFIG


def _typed(value: str) -> str | int:
    """dagster-aws's spark_config schema types some known keys as Int (executor cores)."""
    return int(value) if value.isdigit() else value


def _nested(flat: dict[str, str]) -> dict:
    nested: dict = {}
    for key, value in flat.items():
        node = nested
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = _typed(value)
    return nested


def emr_step_launcher() -> dg.ResourceDefinition:
    return fraud_emr_step_launcher.configured(
        {
            "cluster_id": {"env": "FRAUD_EMR_CLUSTER_ID"},
            "region_name": {"env": "AWS_REGION"},
            "staging_bucket": {"env": "FRAUD_EMR_STAGING_BUCKET"},
            "staging_prefix": {"env": "FRAUD_EMR_STAGING_PREFIX"},
            "s3_job_package_path": os.environ.get("FRAUD_EMR_JOB_PACKAGE_S3") or None,
            "wait_for_logs": os.environ.get("FRAUD_EMR_WAIT_FOR_LOGS", "0") == "1",
            "action_on_failure": os.environ.get("FRAUD_EMR_ACTION_ON_FAILURE", "CONTINUE"),
            "poll_seconds": float(os.environ.get("FRAUD_EMR_POLL_SECONDS", "15")),
            "spark_config": _nested(EMR_SPARK_CONFIG),
        }
    )
