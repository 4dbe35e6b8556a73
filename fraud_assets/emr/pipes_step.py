"""The cluster side of the Pipes runner: run the asset's step function, report its results.

The step is the same function the asset runs in-process (spark_steps.STEPS), on the same
days and with the same config, so partitions and idempotency are the in-process path's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster._core.definitions.metadata import (
    BoolMetadataValue,
    FloatMetadataValue,
    IntMetadataValue,
    JsonMetadataValue,
    MarkdownMetadataValue,
    NullMetadataValue,
    PathMetadataValue,
    TextMetadataValue,
    UrlMetadataValue,
)

# Dagster metadata classes and their Pipes type names (dagster_pipes.PipesMetadataType).
_PIPES_TYPES = {
    TextMetadataValue: "text",
    UrlMetadataValue: "url",
    PathMetadataValue: "path",
    JsonMetadataValue: "json",
    MarkdownMetadataValue: "md",
    FloatMetadataValue: "float",
    IntMetadataValue: "int",
    BoolMetadataValue: "bool",
    NullMetadataValue: "null",
}


def pipes_metadata(metadata: Mapping[str, Any] | None) -> dict[str, dict]:
    """Dagster metadata as Pipes sends it ({raw_value, type}); plain values are inferred on
    the orchestration side, other metadata classes travel as their text."""
    out = {}
    for key, value in (metadata or {}).items():
        if isinstance(value, dg.MetadataValue):
            kind = _PIPES_TYPES.get(type(value))
            out[key] = (
                {"raw_value": value.value, "type": kind}
                if kind
                else {"raw_value": str(value.value), "type": "text"}
            )
        else:
            out[key] = {"raw_value": value, "type": "__infer__"}
    return out


def report(pipes, asset: str, result: dg.MaterializeResult) -> None:
    """The materialization, then each check result, as Pipes messages."""
    pipes.report_asset_materialization(metadata=pipes_metadata(result.metadata), asset_key=asset)
    for check in result.check_results or []:
        pipes.report_asset_check(
            check_name=check.check_name,
            passed=check.passed,
            severity=check.severity.value,
            metadata=pipes_metadata(check.metadata),
            asset_key=asset,
        )


def step_days(pipes) -> list[dt.date]:
    days = [dt.date.fromisoformat(d) for d in pipes.get_extra("days")]
    # One partition: Pipes' own partition key must be that day (for a range run Dagster
    # gives Pipes no partition at all, hence the explicit days).
    if pipes.is_partition_step and [d.isoformat() for d in days] != [pipes.partition_key]:
        raise ValueError(f"days {days} do not match partition {pipes.partition_key}")
    return days


def run_reported_step(pipes) -> None:
    from fraud_assets.defs.detection.spark_steps import STEPS, SparkStepRun
    from fraud_assets.environments import resources_for

    name = pipes.get_extra("step")
    if pipes.asset_key != name:
        raise ValueError(f"step {name!r} launched for asset {pipes.asset_key!r}")
    step, config_class = STEPS[name]
    config = config_class(**pipes.get_extra("params"))
    run = SparkStepRun(days=step_days(pipes), run_id=pipes.run_id)
    resources = resources_for("prod")
    with dg.build_resources({k: resources[k] for k in ("pyspark", "lake", "postgres")}) as r:
        pipes.log.info(f"{name}: {len(run.days)} day(s) from {run.days[0]} on the cluster's Spark")
        result = step(run, config, r.pyspark.spark_session, r.lake, r.postgres)
    report(pipes, name, result)
