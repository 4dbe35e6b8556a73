"""The Pipes runner: a Spark asset's step as an EMR step that reports through Dagster Pipes.

`FRAUD_SPARK_RUNNER=emr_pipes` (prod) puts this resource under `spark_pipes`. The asset body
still runs in the Dagster run worker (no pickled step); it calls `run_step`, which:

1. stages `pipes_main.py` and the `fraud_assets` code zip under
   `s3://<staging bucket>/<staging prefix>/<run id>/<asset>/` (or, with
   `FRAUD_EMR_JOB_PACKAGE_S3`, uses the package `fraud-assets emr package` uploaded, whose
   folder also holds `pipes_main.py`);
2. opens a Pipes session: the context (run id, partition, asset, and as extras the step's
   days, its config and the non-secret environment) goes to S3 (dagster-aws's
   `PipesS3ContextInjector`, removed at the end), and the step's messages are read from S3
   (`PipesS3MessageReader`, here under the run's staging folder);
3. adds `spark-submit ... pipes_main.py --dagster-pipes-context .. --dagster-pipes-messages ..`
   as a step to the running cluster (`AddJobFlowSteps`) and polls `DescribeStep`;
4. returns the materialization and check results the step reported.

Why not dagster-aws's `PipesEMRClient`: in 0.29.27 it starts a new cluster per call
(`RunJobFlow`) and waits for that cluster to terminate; this project runs its steps on a
long-lived autoscaling cluster (cluster_spec.py), as the step launcher does. The context
injector and message reader are dagster-aws's own.
"""

from __future__ import annotations

import os
import posixpath
import secrets
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import boto3
import dagster as dg
from dagster._core.errors import DagsterExecutionInterruptedError
from dagster._core.pipes.client import PipesClientCompletedInvocation
from dagster_aws.pipes import PipesS3ContextInjector, PipesS3MessageReader

from fraud_assets.emr import pipes_main
from fraud_assets.emr.launcher import step_environment
from fraud_assets.emr.package import build_code_zip

if TYPE_CHECKING:
    from fraud_assets.defs.detection.spark_steps import SparkStepRun

SPARK_SUBMIT = "/usr/lib/spark/bin/spark-submit"
PIPES_MAIN = "pipes_main.py"
CODE_ZIP = "code.zip"
FINAL_STATES = ("COMPLETED", "CANCELLED", "FAILED", "INTERRUPTED")


class StagedS3MessageReader(PipesS3MessageReader):
    """dagster-aws's reader, with the messages under the step's staging folder instead of a
    random prefix at the bucket's root: the cluster's policy stays on the staging prefix."""

    def __init__(self, *, key_prefix: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.staging_key_prefix = key_prefix

    @contextmanager
    def get_params(self) -> Iterator[dict]:
        with super().get_params() as params:
            yield {**params, "key_prefix": f"{self.staging_key_prefix}/{secrets.token_hex(8)}"}


class EmrPipesResource(dg.ConfigurableResource):
    """Runs a Spark asset's step (spark_steps.STEPS) on the EMR cluster through Pipes."""

    cluster_id: str
    region_name: str
    staging_bucket: str
    staging_prefix: str
    # s3:// code zip from `fraud-assets emr package`; unset: zip and stage per step.
    job_package_s3: str | None = None
    action_on_failure: str = "CONTINUE"
    poll_seconds: float = 15.0
    # spark-submit --conf settings (sizing and semantics), as the step launcher passes them.
    spark_conf: dict[str, str] = {}

    def spark_submit_args(
        self, code_zip: str, main_uri: str, bootstrap: Mapping[str, str]
    ) -> list[str]:
        confs = [x for k, v in sorted(self.spark_conf.items()) for x in ("--conf", f"{k}={v}")]
        args = [SPARK_SUBMIT, "--master", "yarn", "--deploy-mode", "client", *confs]
        args += ["--py-files", code_zip, main_uri]
        for name, value in bootstrap.items():
            args += [name, value]
        return args

    def _stage(self, s3, folder: str) -> tuple[str, str]:
        """(code zip, main script) as s3:// URIs: the prebuilt package, or staged now."""
        if self.job_package_s3:
            return self.job_package_s3, posixpath.join(
                posixpath.dirname(self.job_package_s3), PIPES_MAIN
            )
        with tempfile.TemporaryDirectory() as tmp:
            build_code_zip(os.path.join(tmp, CODE_ZIP))
            s3.upload_file(os.path.join(tmp, CODE_ZIP), self.staging_bucket, f"{folder}/{CODE_ZIP}")
        s3.upload_file(pipes_main.__file__, self.staging_bucket, f"{folder}/{PIPES_MAIN}")
        base = f"s3://{self.staging_bucket}/{folder}"
        return f"{base}/{CODE_ZIP}", f"{base}/{PIPES_MAIN}"

    def _wait(self, emr, step_id: str) -> dict:
        while True:
            status = emr.describe_step(ClusterId=self.cluster_id, StepId=step_id)["Step"]["Status"]
            if status["State"] in FINAL_STATES:
                return status
            time.sleep(self.poll_seconds)  # polling the step's state, as EMR has no push

    def run_step(
        self,
        context: dg.AssetExecutionContext,
        name: str,
        run: SparkStepRun,
        params: dict,
    ) -> dg.MaterializeResult:
        s3 = boto3.client("s3", region_name=self.region_name)
        emr = boto3.client("emr", region_name=self.region_name)
        folder = f"{self.staging_prefix.strip('/')}/{run.run_id}/{name}"
        code_zip, main_uri = self._stage(s3, folder)
        extras = {
            "step": name,
            # The days travel explicitly: for a range (single-run backfill) Pipes gives no
            # partition key, and the step must replace exactly the run's days.
            "days": [d.isoformat() for d in run.days],
            "params": params,
            "env": step_environment(),
        }
        reader = StagedS3MessageReader(
            bucket=self.staging_bucket,
            client=s3,
            interval=self.poll_seconds,
            key_prefix=f"{folder}/pipes/messages",
        )
        injector = PipesS3ContextInjector(
            bucket=self.staging_bucket, client=s3, key_prefix=f"{folder}/pipes/context-"
        )
        with dg.open_pipes_session(
            context=context, message_reader=reader, context_injector=injector, extras=extras
        ) as session:
            args = self.spark_submit_args(code_zip, main_uri, session.get_bootstrap_cli_arguments())
            step_id = emr.add_job_flow_steps(
                JobFlowId=self.cluster_id,
                Steps=[
                    {
                        "Name": f"fraud_assets pipes {name} {run.run_id}",
                        "ActionOnFailure": self.action_on_failure,
                        "HadoopJarStep": {"Jar": "command-runner.jar", "Args": args},
                    }
                ],
            )["StepIds"][0]
            # The same line as the step launcher's: `fraud-assets emr status RUN_ID` finds it.
            context.log.info(f"EMR step {step_id} on cluster {self.cluster_id}")
            try:
                status = self._wait(emr, step_id)
            except DagsterExecutionInterruptedError:
                context.log.warning(f"run interrupted: cancelling EMR step {step_id}")
                emr.cancel_steps(ClusterId=self.cluster_id, StepIds=[step_id])
                raise
            if status["State"] != "COMPLETED":
                reason = status.get("StateChangeReason", {}).get("Message") or ""
                raise dg.Failure(
                    f"EMR step {step_id} ({name}) ended {status['State']}: {reason}".rstrip(),
                    metadata={"emr_step": step_id, "emr_cluster": self.cluster_id},
                )
        invocation = PipesClientCompletedInvocation(
            session, metadata={"emr_step": step_id, "emr_cluster": self.cluster_id}
        )
        # No implicit materialization: a step that reported nothing must not look done.
        return invocation.get_materialize_result(implicit_materialization=False)
