"""Checks on postgres_transactions, returned with its materialization."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import psycopg

from fraud_assets.db.day_checks import day_violations
from fraud_assets.db.transaction_store import count_day

QUARANTINE_CHECK = dg.AssetCheckSpec(
    "quarantine_rate_within_threshold",
    asset="postgres_transactions",
    blocking=True,
    description="Share of each day's feed records that broke the contract is at most the configured rate.",
)

CONTRACT_CHECK = dg.AssetCheckSpec(
    "contract_holds_in_postgres",
    asset="postgres_transactions",
    blocking=True,
    description=(
        "The day's rows in PostgreSQL honour the contract: amounts > 0, known currency and "
        "country, ids not stored on another day (NOT NULL, DECIMAL(12,2), the day's partition "
        "bounds and the primary key enforce the rest). Failures carry sample transaction ids."
    ),
)


def quarantine_rate_result(loads: dict, max_rate: float) -> dg.AssetCheckResult:
    """Blocking when any day quarantined more than `max_rate` of its records."""
    rates = {
        day.isoformat(): (x["quarantined"] / x["records"] if x["records"] else 0.0)
        for day, x in loads.items()
    }
    over = {day: rate for day, rate in rates.items() if rate > max_rate}
    reasons: dict[str, int] = {}
    for x in loads.values():
        for reason, n in x["reasons"].items():
            reasons[reason] = reasons.get(reason, 0) + n
    return dg.AssetCheckResult(
        check_name=QUARANTINE_CHECK.name,
        passed=not over,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "quarantined": sum(x["quarantined"] for x in loads.values()),
            "records": sum(x["records"] for x in loads.values()),
            "max_rate": max_rate,
            "worst_rate": max(rates.values(), default=0.0),
            "days_over_threshold": dg.MetadataValue.json(over),
            "reasons": dg.MetadataValue.json(reasons),
        },
    )


def contract_result(conn: psycopg.Connection, days: list[dt.date]) -> dg.AssetCheckResult:
    problems = {day.isoformat(): v for day in days if (v := day_violations(conn, day))}
    empty = [day.isoformat() for day in days if count_day(conn, day)[0] == 0]
    return dg.AssetCheckResult(
        check_name=CONTRACT_CHECK.name,
        passed=not problems and not empty,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "days": len(days),
            "violations": dg.MetadataValue.json(problems),
            "days_without_rows": dg.MetadataValue.json(empty),
        },
    )


def upstream_validation(conn: psycopg.Connection, days: list[dt.date]) -> dg.MaterializeResult:
    """Read-only validation of rows another system wrote for `days`: nothing is changed,
    nothing is quarantined (the rows are not ours to move); violations block downstream."""
    counts = {day: count_day(conn, day) for day in days}
    contract = contract_result(conn, days)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(n for n, _ in counts.values()),
            "amount_sum": float(sum(a for _, a in counts.values())),
            "source_mode": "upstream",
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=QUARANTINE_CHECK.name,
                passed=True,
                metadata={"note": "upstream mode reads no feed: nothing is quarantined"},
            ),
            contract,
        ],
    )
