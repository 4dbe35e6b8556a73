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
    through: dt.date | None = None,
) -> dg.ExecuteInProcessResult:
    """Materialize `assets` (default: all four) for `day` (or the range `day`..`through`
    in one run, as a single-run backfill does) with the test environment's resources."""
    if through is None:
        key, tags = day.isoformat(), None
    else:
        key = None
        tags = {
            "dagster/asset_partition_range_start": day.isoformat(),
            "dagster/asset_partition_range_end": through.isoformat(),
        }
    return dg.materialize(
        assets or ASSETS,
        partition_key=key,
        tags=tags,
        resources=resources_for("test"),
        instance=instance,
        run_config=run_config,
        raise_on_error=raise_on_error,
    )
