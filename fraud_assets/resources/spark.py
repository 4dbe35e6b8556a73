"""Spark session settings per environment (the session itself is dagster-pyspark's)."""

from __future__ import annotations

import os
import sys

from fraud_assets.resources.spark_archive import driver_java_options

# Rules speak of UTC days and local hours computed explicitly: the session time zone must
# be UTC or Spark would shift every timestamp by the machine's zone.
_COMMON = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "true",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.parquet.compression.codec": "zstd",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # No _SUCCESS markers: the lake publishes partitions with its own manifest.
    "spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs": "false",
}

# One small machine: two cores, few shuffle partitions, no UI. Driver memory is bounded so
# the whole chain stays well under 4 GB resident.
LOCAL_SPARK_CONFIG: dict[str, str] = {
    **_COMMON,
    "spark.master": "local[2]",
    "spark.app.name": "fraud_assets",
    "spark.driver.memory": "2g",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "1000",
    # The Spark classes mapped from this virtualenv's archive when bin/setup built it.
    **driver_java_options(),
}

# On EMR: spark-submit settings of each step (the launcher passes them as --conf): the
# semantics the code relies on, adaptive execution for skewed customers, executor sizing.
EMR_SPARK_CONFIG: dict[str, str] = {
    **_COMMON,
    "spark.sql.shuffle.partitions": "200",
    "spark.sql.adaptive.skewJoin.enabled": "true",
    # The seed's sizing on m5.xlarge (4 vCPU, 16 GiB): 2 cores x 4g per executor, the
    # executor count left to dynamic allocation as task nodes come and go.
    "spark.driver.memory": "2g",
    "spark.executor.memory": "4g",
    "spark.executor.cores": "2",
    "spark.dynamicAllocation.enabled": "true",
}


# What the prod session itself sets: only the semantics. Sizing (shuffle partitions,
# executors) goes to spark-submit through the step launcher; set again on the session it
# would silently override what spark-submit was given.
EMR_SESSION_CONFIG: dict[str, str] = dict(_COMMON)


def prepare_local_spark_env() -> None:
    """Workers must run this interpreter (else pyarrow is missing) and bind to loopback."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


def local_spark_session(**overrides: str):
    """A local session with LOCAL_SPARK_CONFIG (plus `overrides`), for code outside Dagster's
    pyspark resource: the test session, `fraud-assets evaluate`, the class-archive dump."""
    prepare_local_spark_env()
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    for key, value in {**LOCAL_SPARK_CONFIG, **overrides}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
