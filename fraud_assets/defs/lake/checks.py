"""Checks on s3_partitioned_parquet, returned with its materialization."""

from __future__ import annotations

from decimal import Decimal

import dagster as dg

from fraud_assets.defs.metadata import explanation

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
            "explanation": explanation(mismatches, "every day reconciles exactly"),
        },
    )


LOCATION_CHECK = dg.AssetCheckSpec(
    "schema_and_location",
    asset="s3_partitioned_parquet",
    blocking=True,
    description=(
        "Each lake day has the 18 contract columns with their types, sits at its zero-padded "
        "year/month/day path, and holds only transactions of that day."
    ),
)


def location_result(exports: dict, expected_schema) -> dg.AssetCheckResult:
    problems = {}
    for day, x in exports.items():
        issues = []
        if x["schema"] != expected_schema:
            issues.append(f"schema differs: {x['schema']}")
        expected_path = f"year={day.year:04d}/month={day.month:02d}/day={day.day:02d}"
        if not x["uri"].endswith(expected_path):
            issues.append(f"written at {x['uri']}, expected .../{expected_path}")
        lo, hi = x["date_range"]
        if lo is not None and (lo.date() != day or hi.date() != day):
            issues.append(f"transaction_date spans {lo} .. {hi}")
        if issues:
            problems[day.isoformat()] = issues
    return dg.AssetCheckResult(
        check_name=LOCATION_CHECK.name,
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "days": len(exports),
            "problems": dg.MetadataValue.json(problems),
            "explanation": explanation(problems, "schema, path and days as expected"),
        },
    )
