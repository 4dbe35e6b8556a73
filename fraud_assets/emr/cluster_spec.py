"""The EMR cluster as code: the RunJobFlow request, and its security configuration.

Equivalent to the seed's cluster (ORIGIN_FACTS.md: master 1x on demand, core 2x, task
1-10x on spot, autoscaling on YARN memory), with its defects fixed and production habits
added:

- The task group scales OUT when `YARNMemoryAvailablePercentage` is LOW (< 15% for 5
  minutes: pending containers need memory) and IN when it is HIGH (> 75% for 15 minutes).
  The seed had the direction inverted.
- Release `emr-spark-8.1.0` (Spark 4.1.1, Python 3.11): the step launcher pickles the step,
  so the cluster's Python and Spark must be the project's (CONTRACT.md).
- Logs to S3, idle auto-termination, cost-allocation tags, and with a KMS key an EMR
  security configuration: EMRFS writes (lake, staging, logs read by steps) with SSE-KMS,
  local disks encrypted.

Nothing about the account is in code: every name comes from `ClusterSettings.from_env()`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

RELEASE_LABEL = "emr-spark-8.1.0"
SCALE_OUT_BELOW_PERCENT = 15.0
SCALE_IN_ABOVE_PERCENT = 75.0


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise KeyError(f"{name} is not set (see docs/emr.md)")
    return value


@dataclass(frozen=True)
class ClusterSettings:
    name: str
    log_uri: str
    bootstrap_uri: str  # s3://.../bootstrap.sh from `fraud-assets emr package`
    package_prefix_uri: str  # s3:// folder of the job package (the bootstrap's argument)
    service_role: str = "EMR_DefaultRole_V2"
    instance_profile: str = "EMR_EC2_DefaultRole"
    autoscaling_role: str = "EMR_AutoScaling_DefaultRole"
    instance_type: str = "m5.xlarge"
    core_count: int = 2
    task_min: int = 1
    task_max: int = 10
    subnet_id: str | None = None
    idle_timeout_seconds: int = 3600
    kms_key_id: str | None = None
    security_configuration: str = "fraud-assets-sse-kms"
    release_label: str = RELEASE_LABEL
    tags: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def from_env(
        bootstrap_uri: str | None = None, package_prefix_uri: str | None = None
    ) -> ClusterSettings:
        env = os.environ.get
        prefix = package_prefix_uri or _required("FRAUD_EMR_PACKAGE_PREFIX")
        return ClusterSettings(
            name=env("FRAUD_EMR_CLUSTER_NAME", "fraud-assets"),
            log_uri=_required("FRAUD_EMR_LOG_URI"),
            bootstrap_uri=bootstrap_uri or f"{prefix.rstrip('/')}/bootstrap.sh",
            package_prefix_uri=prefix,
            service_role=env("FRAUD_EMR_SERVICE_ROLE", "EMR_DefaultRole_V2"),
            instance_profile=env("FRAUD_EMR_INSTANCE_PROFILE", "EMR_EC2_DefaultRole"),
            autoscaling_role=env("FRAUD_EMR_AUTOSCALING_ROLE", "EMR_AutoScaling_DefaultRole"),
            instance_type=env("FRAUD_EMR_INSTANCE_TYPE", "m5.xlarge"),
            core_count=int(env("FRAUD_EMR_CORE_COUNT", "2")),
            task_min=int(env("FRAUD_EMR_TASK_MIN", "1")),
            task_max=int(env("FRAUD_EMR_TASK_MAX", "10")),
            subnet_id=env("FRAUD_EMR_SUBNET_ID") or None,
            idle_timeout_seconds=int(env("FRAUD_EMR_IDLE_TIMEOUT_SECONDS", "3600")),
            kms_key_id=env("FRAUD_S3_KMS_KEY_ID") or None,
            security_configuration=env("FRAUD_EMR_SECURITY_CONFIGURATION", "fraud-assets-sse-kms"),
            release_label=env("FRAUD_EMR_RELEASE_LABEL", RELEASE_LABEL),
            tags={
                "Project": "fraud_assets",
                "Environment": env("FRAUD_ENV", "prod"),
                "CostCenter": env("FRAUD_COST_CENTER", "fraud-analytics"),
                "Owner": env("FRAUD_OWNER", "fraud-data-team"),
            },
        )


def _scaling_rule(
    name: str, adjustment: int, operator: str, threshold: float, periods: int
) -> dict:
    return {
        "Name": name,
        "Description": f"{'add' if adjustment > 0 else 'remove'} a task node when "
        f"YARNMemoryAvailablePercentage is {operator} {threshold}",
        "Action": {
            "SimpleScalingPolicyConfiguration": {
                "AdjustmentType": "CHANGE_IN_CAPACITY",
                "ScalingAdjustment": adjustment,
                "CoolDown": 300,
            }
        },
        "Trigger": {
            "CloudWatchAlarmDefinition": {
                "ComparisonOperator": operator,
                "EvaluationPeriods": periods,
                "MetricName": "YARNMemoryAvailablePercentage",
                "Namespace": "AWS/ElasticMapReduce",
                "Period": 300,
                "Statistic": "AVERAGE",
                "Threshold": threshold,
                "Unit": "PERCENT",
                "Dimensions": [{"Key": "JobFlowId", "Value": "${emr.clusterId}"}],
            }
        },
    }


def task_autoscaling_policy(settings: ClusterSettings) -> dict:
    return {
        "Constraints": {"MinCapacity": settings.task_min, "MaxCapacity": settings.task_max},
        "Rules": [
            # Little free YARN memory = work waiting: add capacity.
            _scaling_rule(
                "scale-out-on-low-yarn-memory", 1, "LESS_THAN", SCALE_OUT_BELOW_PERCENT, 1
            ),
            # Plenty free for 15 minutes: give a node back.
            _scaling_rule(
                "scale-in-on-high-yarn-memory", -1, "GREATER_THAN", SCALE_IN_ABOVE_PERCENT, 3
            ),
        ],
    }


def security_configuration(kms_key_id: str) -> dict:
    """At rest: EMRFS S3 objects with SSE-KMS, local disks (EBS + instance store) with KMS."""
    return {
        "EncryptionConfiguration": {
            "EnableAtRestEncryption": True,
            "EnableInTransitEncryption": False,
            "AtRestEncryptionConfiguration": {
                "S3EncryptionConfiguration": {"EncryptionMode": "SSE-KMS", "AwsKmsKey": kms_key_id},
                "LocalDiskEncryptionConfiguration": {
                    "EncryptionKeyProviderType": "AwsKms",
                    "AwsKmsKey": kms_key_id,
                    "EnableEbsEncryption": True,
                },
            },
        }
    }


def run_job_flow_request(settings: ClusterSettings) -> dict:
    """Keyword arguments for boto3 `emr.run_job_flow`."""
    group = lambda name, role, market, count: {  # noqa: E731
        "Name": name,
        "InstanceRole": role,
        "Market": market,
        "InstanceType": settings.instance_type,
        "InstanceCount": count,
    }
    instances: dict = {
        "InstanceGroups": [
            group("master", "MASTER", "ON_DEMAND", 1),
            group("core", "CORE", "ON_DEMAND", settings.core_count),
            {
                **group("task", "TASK", "SPOT", settings.task_min),
                "AutoScalingPolicy": task_autoscaling_policy(settings),
            },
        ],
        # Steps come and go; the cluster waits for the next one (idle timeout ends it).
        "KeepJobFlowAliveWhenNoSteps": True,
        "TerminationProtected": False,
    }
    if settings.subnet_id:
        instances["Ec2SubnetId"] = settings.subnet_id
    request = {
        "Name": settings.name,
        "ReleaseLabel": settings.release_label,
        "LogUri": settings.log_uri,
        "Applications": [{"Name": "Spark"}, {"Name": "Hadoop"}],
        "Instances": instances,
        "BootstrapActions": [
            {
                "Name": "fraud_assets dependencies and JDBC driver",
                "ScriptBootstrapAction": {
                    "Path": settings.bootstrap_uri,
                    "Args": [settings.package_prefix_uri],
                },
            }
        ],
        "Configurations": [
            {
                "Classification": "spark-env",
                "Configurations": [
                    {
                        "Classification": "export",
                        "Properties": {
                            "PYSPARK_PYTHON": "/usr/bin/python3.11",
                            "PYSPARK_DRIVER_PYTHON": "/usr/bin/python3.11",
                        },
                    }
                ],
            },
            {
                "Classification": "spark-defaults",
                "Properties": {
                    "spark.dynamicAllocation.enabled": "true",
                    "spark.sql.session.timeZone": "UTC",
                },
            },
        ],
        "JobFlowRole": settings.instance_profile,
        "ServiceRole": settings.service_role,
        "AutoScalingRole": settings.autoscaling_role,
        "ScaleDownBehavior": "TERMINATE_AT_TASK_COMPLETION",
        "AutoTerminationPolicy": {"IdleTimeout": settings.idle_timeout_seconds},
        "VisibleToAllUsers": True,
        "StepConcurrencyLevel": 1,
        "Tags": [{"Key": k, "Value": v} for k, v in sorted(settings.tags.items())],
    }
    if settings.kms_key_id:
        request["SecurityConfiguration"] = settings.security_configuration
    return request


def security_configuration_json(kms_key_id: str) -> str:
    return json.dumps(security_configuration(kms_key_id), sort_keys=True)
