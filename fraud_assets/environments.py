"""The one place that decides the environment and its resources.

FRAUD_ENV picks `local` (default: embedded PostgreSQL, a local lake, local Spark),
`test` (services given by environment variables, local Spark) or `prod` (everything from
environment variables, Spark steps on EMR). Every environment provides the same resource
keys, so asset code never changes between them. In prod, FRAUD_SPARK_RUNNER picks how the
Spark steps reach EMR: `step_launcher` (default) or `emr_pipes` (docs/emr.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_pyspark import LazyPySparkResource

from fraud_assets.resources.lake import LakeResource
from fraud_assets.resources.landing import LandingResource
from fraud_assets.resources.postgres import PostgresResource
from fraud_assets.resources.spark import (
    EMR_SESSION_CONFIG,
    LOCAL_SPARK_CONFIG,
    prepare_local_spark_env,
)

ENVIRONMENTS = ("local", "test", "prod")


def current_environment() -> str:
    env = os.environ.get("FRAUD_ENV", "local")
    if env not in ENVIRONMENTS:
        raise ValueError(f"FRAUD_ENV={env!r}: expected one of {', '.join(ENVIRONMENTS)}")
    return env


def project_home() -> Path:
    """Where local state lives (embedded PostgreSQL, lake, landing): FRAUD_HOME or ./.local."""
    return Path(os.environ.get("FRAUD_HOME") or Path.cwd() / ".local").resolve()


def _postgres_from_env() -> PostgresResource:
    return PostgresResource(
        host=dg.EnvVar("FRAUD_DB_HOST"),
        port=dg.EnvVar.int("FRAUD_DB_PORT"),
        dbname=dg.EnvVar("FRAUD_DB_NAME"),
        user=dg.EnvVar("FRAUD_DB_USER"),
        password=dg.EnvVar("FRAUD_DB_PASSWORD"),
        sslmode=os.environ.get("FRAUD_DB_SSLMODE", "prefer"),
        sslrootcert=os.environ.get("FRAUD_DB_SSLROOTCERT") or None,
        role=os.environ.get("FRAUD_DB_ROLE") or None,
    )


def _lake_protection() -> dict[str, Any]:
    """Encryption at rest on S3 and what the lake keeps of identifiers (docs/security.md)."""
    return {
        "s3_kms_key_id": os.environ.get("FRAUD_S3_KMS_KEY_ID") or None,
        "s3_sse": os.environ.get("FRAUD_S3_SSE") or None,
        "ip_address_mode": os.environ.get("FRAUD_LAKE_IP_MODE", "hash"),
        "device_fingerprint_mode": os.environ.get("FRAUD_LAKE_DEVICE_MODE", "hash"),
    }


def _local_resources() -> dict[str, Any]:
    prepare_local_spark_env()
    home = project_home()
    endpoint = os.environ.get("FRAUD_S3_ENDPOINT_URL")
    return {
        "postgres": _postgres_from_env(),
        "landing": LandingResource(
            uri=os.environ.get("FRAUD_LANDING_URI", str(home / "landing")), s3_endpoint_url=endpoint
        ),
        "lake": LakeResource(
            uri=os.environ.get("FRAUD_LAKE_URI", str(home / "lake")),
            s3_endpoint_url=endpoint,
            **_lake_protection(),
        ),
        "pyspark": LazyPySparkResource(spark_config=LOCAL_SPARK_CONFIG),
        "pyspark_step_launcher": dg.ResourceDefinition.none_resource(),
        "spark_pipes": dg.ResourceDefinition.none_resource(),
    }


def _prod_resources() -> dict[str, Any]:
    from fraud_assets.resources.emr import emr_step_launcher
    from fraud_assets.resources.emr_pipes import emr_pipes_resource, spark_runner

    none = dg.ResourceDefinition.none_resource()
    pipes = spark_runner() == "emr_pipes"
    return {
        "postgres": _postgres_from_env(),
        "landing": LandingResource(uri=dg.EnvVar("FRAUD_LANDING_URI")),
        "lake": LakeResource(
            uri=dg.EnvVar("FRAUD_LAKE_URI"),
            **_lake_protection(),
            s3_endpoint_url=os.environ.get("FRAUD_S3_ENDPOINT_URL"),
            # On EMR executors write s3:// themselves (lake_direct.py); 0 = stage locally.
            spark_direct=os.environ.get("FRAUD_LAKE_SPARK_DIRECT", "1") == "1",
        ),
        "pyspark": LazyPySparkResource(spark_config=EMR_SESSION_CONFIG),
        # One of the two carries the Spark steps to EMR; the other stays empty.
        "pyspark_step_launcher": none if pipes else emr_step_launcher(),
        "spark_pipes": emr_pipes_resource() if pipes else none,
    }


def resources_for(env: str) -> dict[str, Any]:
    """Same keys in every environment; only what stands behind them changes."""
    return _prod_resources() if env == "prod" else _local_resources()
