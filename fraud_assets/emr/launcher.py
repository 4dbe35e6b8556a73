"""The prod step launcher: each Spark asset runs as one EMR step (dagster-aws).

dagster-aws's `EmrPySparkStepLauncher` pickles the step (run, config, code pointer), puts it
in the S3 staging prefix with a main script, adds a `spark-submit` step to the cluster,
polls DescribeStep and reads the step's events back from S3. Three things are changed here:

- The code package is `fraud_assets` alone (zipped by `package.build_code_zip`), not the
  whole folder around it, which would carry the virtualenv and local state.
- The main script is `step_main.py`: before Dagster loads the code location on the cluster
  it applies the step's environment (the non-secret variables the code location reads,
  staged as `step_env.json` beside the pickled step) and fetches the database password from
  AWS Secrets Manager. Secrets never go to S3 nor into the step's arguments.
- The DescribeStep polling interval is configurable (upstream: a fixed 15 s).
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile

import boto3
import dagster as dg
from dagster._core.execution.plan.external_step import (
    PICKLED_STEP_RUN_REF_FILE_NAME,
    step_context_to_step_run_ref,
)
from dagster_aws.emr.configs_spark import spark_config as spark_config_schema
from dagster_aws.emr.pyspark_step_launcher import CODE_ZIP_NAME, EmrPySparkStepLauncher

from fraud_assets.emr import step_main
from fraud_assets.emr.package import build_code_zip

STEP_ENV_FILE = "step_env.json"

# What the code location reads on the cluster. Only names listed here travel, and none of
# them is a secret: the password comes from Secrets Manager (FRAUD_DB_PASSWORD_SECRET_ID).
FORWARDED_ENV = (
    "FRAUD_ENV",
    "FRAUD_LAKE_URI",
    "FRAUD_LANDING_URI",
    "FRAUD_LAKE_SPARK_DIRECT",
    "FRAUD_S3_ENDPOINT_URL",
    "FRAUD_PARTITIONS_START",
    "FRAUD_DB_HOST",
    "FRAUD_DB_PORT",
    "FRAUD_DB_NAME",
    "FRAUD_DB_USER",
    "FRAUD_DB_SSLMODE",
    "FRAUD_DB_PASSWORD_SECRET_ID",
    "FRAUD_EMR_CLUSTER_ID",
    "FRAUD_EMR_STAGING_BUCKET",
    "FRAUD_EMR_STAGING_PREFIX",
    "FRAUD_EMR_JOB_PACKAGE_S3",
    "FRAUD_EMR_WAIT_FOR_LOGS",
    "FRAUD_EMR_ACTION_ON_FAILURE",
    "FRAUD_EMR_POLL_SECONDS",
    "FRAUD_S3_KMS_KEY_ID",
    "AWS_REGION",
)


def step_environment() -> dict[str, str]:
    return {k: os.environ[k] for k in FORWARDED_ENV if k in os.environ}


class FraudEmrStepLauncher(EmrPySparkStepLauncher):
    def __init__(self, *, poll_seconds: float, **kwargs):
        super().__init__(**kwargs)
        self.poll_seconds = poll_seconds

    def _main_file_local_path(self) -> str:
        return step_main.__file__

    def _post_artifacts(self, log, step_run_ref, run_id, step_key) -> None:
        s3 = boto3.client("s3", region_name=self.region_name)

        def upload(local_path: str, name: str) -> None:
            log.debug(f"uploading {name} to {self._artifact_s3_uri(run_id, step_key, name)}")
            s3.upload_file(
                Filename=local_path,
                Bucket=self.staging_bucket,
                Key=self._artifact_s3_key(run_id, step_key, name),
            )

        with tempfile.TemporaryDirectory() as tmp:
            upload(self._main_file_local_path(), self._main_file_name())
            if self.deploy_local_job_package:
                build_code_zip(os.path.join(tmp, CODE_ZIP_NAME))
                upload(os.path.join(tmp, CODE_ZIP_NAME), CODE_ZIP_NAME)
            env_path = os.path.join(tmp, STEP_ENV_FILE)
            with open(env_path, "w") as f:
                json.dump(step_environment(), f, indent=2, sort_keys=True)
            upload(env_path, STEP_ENV_FILE)
            # Last: the pickled step is what the cluster starts from.
            ref_path = os.path.join(tmp, PICKLED_STEP_RUN_REF_FILE_NAME)
            with open(ref_path, "wb") as f:
                pickle.dump(step_run_ref, f)
            upload(ref_path, PICKLED_STEP_RUN_REF_FILE_NAME)

    def launch_step(self, step_context):
        # Upstream's launch_step, with the step id logged for `fraud-assets emr status`.
        step_run_ref = step_context_to_step_run_ref(step_context, self.local_job_package_path)
        run_id = step_context.dagster_run.run_id
        step_key = step_run_ref.step_key
        self._post_artifacts(step_context.log, step_run_ref, run_id, step_key)
        step_def = self._get_emr_step_def(run_id, step_key, step_context.op.name)
        emr_step_id = self.emr_job_runner.add_job_flow_steps(
            step_context.log, self.cluster_id, [step_def]
        )[0]
        step_context.log.info(f"EMR step {emr_step_id} on cluster {self.cluster_id}")
        yield from self.wait_for_completion_and_log(run_id, step_key, emr_step_id, step_context)

    def wait_for_completion(
        self, step_context, s3, run_id, step_key, emr_step_id, check_interval=15
    ):
        yield from super().wait_for_completion(
            step_context, s3, run_id, step_key, emr_step_id, check_interval=self.poll_seconds
        )


def _env_field(name: str, description: str, **kwargs) -> dg.Field:
    return dg.Field(dg.StringSource, description=f"{description} (env {name})", **kwargs)


@dg.resource(
    config_schema={
        "spark_config": spark_config_schema(),
        "cluster_id": _env_field("FRAUD_EMR_CLUSTER_ID", "EMR cluster (job flow) id"),
        "region_name": _env_field("AWS_REGION", "AWS region of the cluster"),
        "staging_bucket": _env_field("FRAUD_EMR_STAGING_BUCKET", "bucket for staged steps"),
        "staging_prefix": _env_field("FRAUD_EMR_STAGING_PREFIX", "key prefix for staged steps"),
        "s3_job_package_path": dg.Field(
            dg.Noneable(str),
            is_required=False,
            default_value=None,
            description="s3:// code zip from `fraud-assets emr package`; unset: zip per step",
        ),
        "wait_for_logs": dg.Field(bool, is_required=False, default_value=False),
        "action_on_failure": dg.Field(str, is_required=False, default_value="CONTINUE"),
        "poll_seconds": dg.Field(float, is_required=False, default_value=15.0),
    },
    description="Runs a Spark asset as an EMR step (dagster-aws step launcher, fraud_assets code zip).",
)
def fraud_emr_step_launcher(context) -> FraudEmrStepLauncher:
    cfg = context.resource_config
    package = cfg.get("s3_job_package_path")
    return FraudEmrStepLauncher(
        poll_seconds=cfg["poll_seconds"],
        region_name=cfg["region_name"],
        staging_bucket=cfg["staging_bucket"],
        staging_prefix=cfg["staging_prefix"],
        wait_for_logs=cfg["wait_for_logs"],
        action_on_failure=cfg["action_on_failure"],
        cluster_id=cfg["cluster_id"],
        spark_config=cfg["spark_config"],
        # Only used to turn a file code pointer into a module one; the zip is fraud_assets.
        local_job_package_path=_package_root(),
        deploy_local_job_package=not package,
        s3_job_package_path=package or None,
    )


def _package_root() -> str:
    import fraud_assets

    return os.path.dirname(os.path.dirname(os.path.abspath(fraud_assets.__file__)))
