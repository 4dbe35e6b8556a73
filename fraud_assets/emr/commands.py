"""`fraud-assets emr ...`: package, create-cluster, submit, status, terminate.

`submit` does not spark-submit anything itself: it launches a Dagster run of the Spark
assets with FRAUD_ENV=prod, whose step launcher adds one EMR step per asset. The run, its
materializations and check results are in the Dagster instance like any other run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
from pathlib import Path

import boto3

SPARK_ASSETS = ("fraud_features", "fraud_alerts")
STEP_LOG_PATTERN = re.compile(r"EMR step (s-[A-Z0-9]+) on cluster (j-[A-Z0-9]+)")


def _region() -> str | None:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


def _emr():
    return boto3.client("emr", region_name=_region())


def cmd_package(args: argparse.Namespace) -> int:
    from fraud_assets.emr.package import build_and_upload

    bucket = args.bucket or os.environ["FRAUD_EMR_STAGING_BUCKET"]
    prefix = args.prefix or os.environ.get("FRAUD_EMR_STAGING_PREFIX", "fraud_assets")
    package = build_and_upload(
        boto3.client("s3", region_name=_region()),
        bucket,
        prefix,
        jdbc_jar=None if args.no_jdbc else Path(args.jdbc_jar),
        kms_key_id=os.environ.get("FRAUD_S3_KMS_KEY_ID") or None,
    )
    print(f"FRAUD_EMR_PACKAGE_PREFIX={package.prefix_uri}")
    print(f"FRAUD_EMR_JOB_PACKAGE_S3={package.code_zip_uri}")
    return 0


def create_cluster(emr=None) -> str:
    """Create the security configuration (with a KMS key) and the cluster; return its id."""
    from fraud_assets.emr.cluster_spec import (
        ClusterSettings,
        run_job_flow_request,
        security_configuration_json,
    )

    emr = emr or _emr()
    settings = ClusterSettings.from_env()
    if settings.kms_key_id:
        try:
            emr.describe_security_configuration(Name=settings.security_configuration)
        except emr.exceptions.InvalidRequestException:  # not there yet
            emr.create_security_configuration(
                Name=settings.security_configuration,
                SecurityConfiguration=security_configuration_json(settings.kms_key_id),
            )
    return emr.run_job_flow(**run_job_flow_request(settings))["JobFlowId"]


def cmd_create_cluster(args: argparse.Namespace) -> int:
    cluster_id = create_cluster()
    print(f"FRAUD_EMR_CLUSTER_ID={cluster_id}")
    return 0


def submit(
    start: dt.date, end: dt.date, assets: tuple[str, ...] = SPARK_ASSETS
) -> tuple[str, bool]:
    """One Dagster run of the Spark assets for [start, end] on EMR; (run id, success)."""
    os.environ["FRAUD_ENV"] = "prod"
    from dagster import AssetKey, DagsterInstance, execute_job
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    # A reconstructable job: the launcher pickles a pointer to it for the cluster.
    repo = ReconstructableRepository.for_module(
        "fraud_assets.definitions", "defs", working_directory=os.getcwd()
    )
    job = repo.get_reconstructable_job("daily_fraud_detection")
    if start == end:
        tags = {"dagster/partition": start.isoformat()}
    else:
        tags = {
            "dagster/asset_partition_range_start": start.isoformat(),
            "dagster/asset_partition_range_end": end.isoformat(),
        }
    with DagsterInstance.get() as instance:
        result = execute_job(
            job,
            instance=instance,
            tags={**tags, "fraud_assets/runner": "emr"},
            asset_selection=[AssetKey(a) for a in assets],
            raise_on_error=False,
        )
        return result.run_id, result.success


def cmd_submit(args: argparse.Namespace) -> int:
    run_id, ok = submit(args.start, args.end or args.start, tuple(args.assets))
    print(f"run {run_id} {'ok' if ok else 'FAILED'}")
    for step_id, cluster_id in steps_of_run(run_id):
        print(f"  EMR step {step_id} on {cluster_id}")
    return 0 if ok else 1


def steps_of_run(run_id: str) -> list[tuple[str, str]]:
    """The EMR steps a run added (the launcher logs each one)."""
    from dagster import DagsterInstance

    with DagsterInstance.get() as instance:
        found = []
        for record in instance.all_logs(run_id):
            match = STEP_LOG_PATTERN.search(record.user_message or "")
            if match and match.groups() not in found:
                found.append(match.groups())
        return found


def step_status(cluster_id: str, step_id: str, emr=None) -> dict:
    emr = emr or _emr()
    step = emr.describe_step(ClusterId=cluster_id, StepId=step_id)["Step"]
    log_uri = emr.describe_cluster(ClusterId=cluster_id)["Cluster"].get("LogUri")
    logs = (
        f"{re.sub('^s3n', 's3', log_uri).rstrip('/')}/{cluster_id}/steps/{step_id}/"
        if log_uri
        else None
    )
    return {
        "step": step_id,
        "cluster": cluster_id,
        "name": step["Name"],
        "state": step["Status"]["State"],
        "reason": step["Status"].get("StateChangeReason", {}).get("Message") or "",
        "logs": logs,
    }


def cmd_status(args: argparse.Namespace) -> int:
    if args.id.startswith("s-"):
        cluster = args.cluster or os.environ["FRAUD_EMR_CLUSTER_ID"]
        steps = [(args.id, cluster)]
    else:
        steps = steps_of_run(args.id)
        if not steps:
            print(f"run {args.id}: no EMR step recorded")
            return 1
    for step_id, cluster_id in steps:
        s = step_status(cluster_id, step_id)
        print(
            f"{s['step']} {s['state']:<11} {s['name']}  logs: {s['logs']}  {s['reason']}".rstrip()
        )
    return 0


def terminate(cluster_id: str, emr=None) -> str:
    emr = emr or _emr()
    emr.terminate_job_flows(JobFlowIds=[cluster_id])
    return emr.describe_cluster(ClusterId=cluster_id)["Cluster"]["Status"]["State"]


def cmd_terminate(args: argparse.Namespace) -> int:
    print(f"{args.cluster}: {terminate(args.cluster)}")
    return 0


def register(sub, date_type) -> None:
    """The `emr` subcommands (cli.py adds only this call)."""
    emr = sub.add_parser("emr", help="run the Spark assets on AWS EMR (docs/emr.md)")
    cmds = emr.add_subparsers(dest="emr_command", required=True)

    pkg = cmds.add_parser(
        "package", help="build the job package and upload it to the staging prefix"
    )
    pkg.add_argument("--bucket", help="default FRAUD_EMR_STAGING_BUCKET")
    pkg.add_argument("--prefix", help="default FRAUD_EMR_STAGING_PREFIX")
    pkg.add_argument("--jdbc-jar", default="/usr/share/java/postgresql.jar")
    pkg.add_argument("--no-jdbc", action="store_true", help="do not ship the JDBC driver")
    pkg.set_defaults(func=cmd_package)

    cc = cmds.add_parser(
        "create-cluster", help="create the cluster from fraud_assets/emr/cluster_spec.py"
    )
    cc.set_defaults(func=cmd_create_cluster)

    sb = cmds.add_parser(
        "submit", help="a Dagster run of the Spark assets on EMR for a day or range"
    )
    sb.add_argument("--start", type=date_type, required=True)
    sb.add_argument("--end", type=date_type)
    sb.add_argument("--assets", nargs="+", choices=SPARK_ASSETS, default=list(SPARK_ASSETS))
    sb.set_defaults(func=cmd_submit)

    st = cmds.add_parser("status", help="EMR step state and log location of a run or a step")
    st.add_argument("id", help="a Dagster run id or an EMR step id (s-...)")
    st.add_argument("--cluster", help="for a step id: default FRAUD_EMR_CLUSTER_ID")
    st.set_defaults(func=cmd_status)

    tm = cmds.add_parser("terminate", help="terminate a cluster")
    tm.add_argument("cluster")
    tm.set_defaults(func=cmd_terminate)
