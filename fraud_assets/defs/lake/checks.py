"""Checks on s3_partitioned_parquet, returned with its materialization."""

from __future__ import annotations

from decimal import Decimal

import dagster as dg

RECONCILE_CHECK = dg.AssetCheckSpec(
    "reconciles_with_postgres",
    asset="s3_partitioned_parquet",
    blocking=True,
    description="The lake day has exactly the PostgreSQL day's row count and amount sum.",
)


def reconcile_result(
    lake_rows: int, lake_amount: Decimal, pg_rows: int, pg_amount: Decimal
) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=RECONCILE_CHECK.name,
        passed=lake_rows == pg_rows and Decimal(lake_amount) == Decimal(pg_amount),
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "lake_rows": lake_rows,
            "postgres_rows": pg_rows,
            "lake_amount": str(lake_amount),
            "postgres_amount": str(pg_amount),
        },
    )
