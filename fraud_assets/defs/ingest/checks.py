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


def quarantine_rate_result(
    quarantined: int, total: int, max_rate: float, reasons: dict[str, int]
) -> dg.AssetCheckResult:
    rate = quarantined / total if total else 0.0
    return dg.AssetCheckResult(
        check_name=QUARANTINE_CHECK.name,
        passed=rate <= max_rate,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "quarantined": quarantined,
            "records": total,
            "rate": rate,
            "max_rate": max_rate,
            "reasons": dg.MetadataValue.json(reasons),
        },
    )


def upstream_validation(conn: psycopg.Connection, day: dt.date) -> dg.MaterializeResult:
    """Read-only validation of rows another system wrote for `day`: nothing is changed."""
    start = dt.datetime.combine(day, dt.time())
    end = start + dt.timedelta(days=1)
    rows, amount, bad_amount, bad_currency, bad_country = conn.execute(
        """SELECT count(*),
                  coalesce(sum(amount), 0),
                  count(*) FILTER (WHERE amount <= 0),
                  count(*) FILTER (WHERE currency IS NOT NULL AND NOT currency = ANY(%(currencies)s)),
                  count(*) FILTER (WHERE location_country IS NOT NULL AND NOT location_country = ANY(%(countries)s))
             FROM transactions
            WHERE transaction_date >= %(start)s AND transaction_date < %(end)s""",
        {
            "start": start,
            "end": end,
            "currencies": sorted(supported_currencies()),
            "countries": sorted(SUPPORTED_COUNTRIES),
        },
    ).fetchone()
    reasons = {
        k: v
        for k, v in {
            "non_positive_amount": bad_amount,
            "unsupported_currency": bad_currency,
            "unsupported_country": bad_country,
        }.items()
        if v
    }
    invalid = sum(reasons.values())
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "amount_sum": float(amount),
            "source_mode": "upstream",
            "invalid_rows": invalid,
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=QUARANTINE_CHECK.name,
                passed=rows > 0 and invalid == 0,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={"rows": rows, "invalid": dg.MetadataValue.json(reasons)},
                description=None if rows else f"no rows for {day} were written upstream",
            )
        ],
    )
