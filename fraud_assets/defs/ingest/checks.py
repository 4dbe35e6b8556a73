"""Checks on postgres_transactions, returned with its materialization."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import psycopg

from fraud_assets.contract.currency import supported_currencies
from fraud_assets.contract.geography import SUPPORTED_COUNTRIES

QUARANTINE_CHECK = dg.AssetCheckSpec(
    "quarantine_rate_within_threshold",
    asset="postgres_transactions",
    blocking=True,
    description="Share of the day's records that broke the contract is at most the configured rate.",
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


def upstream_validation(conn: psycopg.Connection, days: list[dt.date]) -> dg.MaterializeResult:
    """Read-only validation of rows another system wrote for `days`: nothing is changed."""
    per_day = {}
    for day in days:
        start = dt.datetime.combine(day, dt.time())
        rows, amount, bad_amount, bad_currency, bad_country = conn.execute(
            """SELECT count(*),
                      coalesce(sum(amount), 0),
                      count(*) FILTER (WHERE amount <= 0),
                      count(*) FILTER (WHERE currency IS NOT NULL AND NOT currency = ANY(%(currencies)s)),
                      count(*) FILTER (WHERE location_country IS NOT NULL
                                         AND NOT location_country = ANY(%(countries)s))
                 FROM transactions
                WHERE transaction_date >= %(start)s AND transaction_date < %(end)s""",
            {
                "start": start,
                "end": start + dt.timedelta(days=1),
                "currencies": sorted(supported_currencies()),
                "countries": sorted(SUPPORTED_COUNTRIES),
            },
        ).fetchone()
        per_day[day] = {
            "rows": rows,
            "amount": amount,
            "non_positive_amount": bad_amount,
            "unsupported_currency": bad_currency,
            "unsupported_country": bad_country,
        }
    invalid = {
        d.isoformat(): {k: v for k, v in x.items() if k not in ("rows", "amount") and v}
        for d, x in per_day.items()
    }
    invalid = {d: v for d, v in invalid.items() if v}
    empty = [d.isoformat() for d, x in per_day.items() if x["rows"] == 0]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(x["rows"] for x in per_day.values()),
            "amount_sum": float(sum(x["amount"] for x in per_day.values())),
            "source_mode": "upstream",
            "invalid_rows": sum(sum(v.values()) for v in invalid.values()),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=QUARANTINE_CHECK.name,
                passed=not invalid and not empty,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={
                    "invalid": dg.MetadataValue.json(invalid),
                    "days_without_rows": dg.MetadataValue.json(empty),
                },
            )
        ],
    )
