"""Checks on s3_partitioned_parquet, returned with its materialization."""

from __future__ import annotations

from decimal import Decimal

import dagster as dg

RECONCILE_CHECK = dg.AssetCheckSpec(
    "reconciles_with_postgres",
    asset="s3_partitioned_parquet",
    blocking=True,
    description="Each lake day has exactly the PostgreSQL day's row count and amount sum.",
)


def reconcile_result(exports: dict) -> dg.AssetCheckResult:
    mismatches = {
        day.isoformat(): {
            "lake_rows": x["manifest"].rows,
            "postgres_rows": x["pg_rows"],
            "lake_amount": str(x["lake_amount"]),
            "postgres_amount": str(x["pg_amount"]),
        }
        for day, x in exports.items()
        if x["manifest"].rows != x["pg_rows"]
        or Decimal(x["lake_amount"]) != Decimal(x["pg_amount"])
    }
    return dg.AssetCheckResult(
        check_name=RECONCILE_CHECK.name,
        passed=not mismatches,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "days": len(exports),
            "lake_rows": sum(x["manifest"].rows for x in exports.values()),
            "postgres_rows": sum(x["pg_rows"] for x in exports.values()),
            "mismatched_days": dg.MetadataValue.json(mismatches),
        },
    )
