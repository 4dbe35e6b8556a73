"""Run the real assets against test folders, the test PostgreSQL and the shared Spark."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dagster as dg

from fraud_assets.definitions import ASSETS
from fraud_assets.environments import resources_for


def use_folders(landing: Path, lake: Path) -> None:
    os.environ["FRAUD_LANDING_URI"] = str(landing)
    os.environ["FRAUD_LAKE_URI"] = str(lake)


def run_day(
    day: dt.date,
    instance: dg.DagsterInstance,
    assets=None,
    run_config: dict | None = None,
    raise_on_error: bool = True,
) -> dg.ExecuteInProcessResult:
    """Materialize `assets` (default: all four) for `day` with the test environment's resources."""
    return dg.materialize(
        assets or ASSETS,
        partition_key=day.isoformat(),
        resources=resources_for("test"),
        instance=instance,
        run_config=run_config,
        raise_on_error=raise_on_error,
    )
