"""Checks on postgres_transactions, returned with its materialization."""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg
import psycopg
import pyarrow as pa

from fraud_assets.db.day_checks import day_violations
from fraud_assets.db.transaction_store import count_day
from fraud_assets.defs.metadata import explanation

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


SAMPLE_SIZE = 10


def quarantine_samples(quarantine: pa.Table, n: int = SAMPLE_SIZE) -> list[dict]:
    """The first `n` quarantined records as keys an operator can look up: file, record
    number, transaction id (when the record had one) and reason."""
    samples = []
    for row in quarantine.slice(0, n).to_pylist():
        try:
            transaction_id = json.loads(row["raw_record"] or "{}").get("transaction_id")
        except (ValueError, AttributeError):
            transaction_id = None
        samples.append(
            {
                "file": (row["source_file"] or "").rsplit("/", 1)[-1],
                "record": row["record_number"],
                "transaction_id": transaction_id,
                "reason": row["reason"],
            }
        )
    return samples


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
    samples = [s for x in loads.values() for s in x.get("samples", [])][:SAMPLE_SIZE]
    explanation = _quarantine_explanation(loads, over, max_rate, samples)
    return dg.AssetCheckResult(
        check_name=QUARANTINE_CHECK.name,
        passed=not over,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            # Plain text is shown inline in the UI (JSON entries sit behind a button).
            "explanation": dg.MetadataValue.text(explanation),
            "quarantined": sum(x["quarantined"] for x in loads.values()),
            "records": sum(x["records"] for x in loads.values()),
            "max_rate": max_rate,
            "worst_rate": max(rates.values(), default=0.0),
            "days_over_threshold": dg.MetadataValue.json(over),
            "reasons": dg.MetadataValue.json(reasons),
            "sample_quarantined_records": dg.MetadataValue.json(samples),
        },
    )


def _quarantine_explanation(
    loads: dict, over: dict[str, float], max_rate: float, samples: list[dict]
) -> str:
    if not over:
        return f"every day quarantined at most {max_rate:.2%} of its records"
    parts = []
    for day, x in sorted(loads.items()):
        if day.isoformat() in over:
            reasons = ", ".join(f"{r} {n}" for r, n in sorted(x["reasons"].items()))
            parts.append(
                f"{day}: {x['quarantined']} of {x['records']} records quarantined "
                f"({over[day.isoformat()]:.2%} > {max_rate:.2%}): {reasons}"
            )
    examples = "; ".join(
        f"{s['file']} record {s['record']} ({s['transaction_id'] or 'no id'}): {s['reason']}"
        for s in samples[:5]
    )
    return " | ".join(parts) + (f" | e.g. {examples}" if examples else "")


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
            "explanation": explanation(
                {**problems, **{d: "no rows" for d in empty}}, "the contract holds"
            ),
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
