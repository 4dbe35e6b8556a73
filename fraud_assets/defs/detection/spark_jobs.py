"""Names for the Spark work of a step, so the event log (and the Spark UI) says which
logical step each job and stage belongs to."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pyspark.sql import SparkSession

_DESCRIPTION = "spark.job.description"


@contextmanager
def spark_job(spark: SparkSession, description: str) -> Iterator[None]:
    """Jobs started inside the block carry `description` (Spark's job description, a
    thread-local property); the previous one is restored on exit."""
    sc = spark.sparkContext
    previous = sc.getLocalProperty(_DESCRIPTION)
    sc.setJobDescription(description)
    try:
        yield
    finally:
        sc.setJobDescription(previous)
