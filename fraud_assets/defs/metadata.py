"""Asset metadata shared by the domains: owners, column schemas."""

from __future__ import annotations

import dagster as dg

from fraud_assets.contract.schema import TRANSACTION_COLUMNS

OWNERS = ["team:fraud-data-engineering"]


def contract_column_schema(columns) -> dg.TableSchema:
    """A PostgreSQL table's contract columns (fraud_assets/contract/) as the UI shows them."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                c.name,
                c.pg_type,
                description=c.description,
                constraints=dg.TableColumnConstraints(nullable=not c.required),
            )
            for c in columns
        ]
    )


TRANSACTIONS_COLUMN_SCHEMA = contract_column_schema(TRANSACTION_COLUMNS)


def column_schema(columns: dict[str, str], types: dict[str, str] | None = None) -> dg.TableSchema:
    types = types or {}
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name, types.get(name, "string"), description=doc)
            for name, doc in columns.items()
        ]
    )


# Spark types of the fraud_features columns (the lake's Parquet), shown in the UI; columns
# not listed are strings. Keep in step with fraud_assets/logic/features.py.
FEATURE_TYPES = {
    "transaction_date": "timestamp",
    "amount": "decimal(12,2)",
    "amount_usd": "decimal(14,2)",
    "is_online": "boolean",
    "local_hour": "int",
    "velocity_1h": "bigint",
    "hist_txn_count_30d": "bigint",
    "hist_mean_usd_30d": "double",
    "hist_std_usd_30d": "double",
    "amount_zscore_30d": "double",
    "prev_gap_seconds": "double",
}

# PostgreSQL fraud_alerts (migration 0001), as analysts query it.
ALERTS_COLUMN_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn(name, pg_type, description=doc)
        for name, pg_type, doc in (
            ("alert_id", "BIGSERIAL", "Surrogate key."),
            ("transaction_id", "VARCHAR(50)", "The alerted transaction (unique)."),
            ("customer_id", "VARCHAR(50)", "The card."),
            ("transaction_date", "TIMESTAMP", "Event time (UTC)."),
            ("amount", "DECIMAL(12,2)", "Original amount."),
            ("currency", "VARCHAR(3)", "Original currency."),
            ("amount_usd", "DECIMAL(14,2)", "Amount in USD the rules compared."),
            ("merchant_name", "VARCHAR(255)", "The terminal."),
            ("location_country", "VARCHAR(2)", "Country of the transaction."),
            ("alert_type", "VARCHAR(30)", "RULES."),
            ("rules_triggered", "TEXT[]", "The rules that fired."),
            ("rule_score", "SMALLINT", "min(100, sum of the rules' points)."),
            ("model_score", "DECIMAL(5,2)", "Model score, when a model exists."),
            ("fraud_score", "DECIMAL(5,2)", "The score the risk level follows from."),
            ("risk_level", "VARCHAR(10)", "CRITICAL >= 80, HIGH >= 60, MEDIUM >= 40, else LOW."),
            ("description", "TEXT", "Readable reasons."),
            ("rules_version", "VARCHAR(40)", "Version of the rules that scored it."),
            ("model_version", "VARCHAR(80)", "Model version, when a model exists."),
            ("dagster_run_id", "VARCHAR(64)", "The run that last changed it."),
            ("is_produced", "BOOLEAN", "FALSE: no longer produced but kept for its review."),
            (
                "status",
                "VARCHAR(20)",
                "Analyst's: PENDING, UNDER_REVIEW, CONFIRMED, FALSE_POSITIVE.",
            ),
            ("reviewed_by", "VARCHAR(100)", "Analyst's: who decided."),
            ("reviewed_at", "TIMESTAMP", "Analyst's: when."),
            ("created_at", "TIMESTAMP", "First produced."),
            ("updated_at", "TIMESTAMP", "Last changed by the pipeline."),
        )
    ]
)


def per_day_table(rows: dict) -> dg.MetadataValue:
    """A Markdown table, one line per day: readable at a glance in the UI."""
    if not rows:
        return dg.MetadataValue.md("(no days)")
    columns = list(next(iter(rows.values())))
    lines = ["| day | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for day, values in sorted(rows.items()):
        lines.append(f"| {day} | " + " | ".join(str(values[c]) for c in columns) + " |")
    return dg.MetadataValue.md("\n".join(lines))


ALERT_VOLUME_DAYS = 14


def alert_volume_table(postgres, last_day) -> dg.MetadataValue:
    """Markdown: alerts per day (by risk level, reviewed) for the ALERT_VOLUME_DAYS days
    ending `last_day`, from PostgreSQL, with a bar so a spike shows at a glance."""
    from fraud_assets.db.alert_volume import alert_volume

    with postgres.connect() as conn:
        volume = alert_volume(conn, last_day, ALERT_VOLUME_DAYS)
    peak = max((v["alerts"] for v in volume.values()), default=0) or 1
    lines = [
        "| day | alerts | CRITICAL | HIGH | MEDIUM | LOW | reviewed | |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for day, v in sorted(volume.items(), reverse=True):
        bar = "█" * round(20 * v["alerts"] / peak)
        lines.append(
            f"| {day} | {v['alerts']} | {v['CRITICAL']} | {v['HIGH']} | {v['MEDIUM']} | {v['LOW']} "
            f"| {v['reviewed']} | {bar} |"
        )
    return dg.MetadataValue.md("\n".join(lines))


def explanation(problems, ok: str = "no problem found") -> dg.MetadataValue:
    """A check's findings as one line of plain text: the UI shows text inline, while JSON
    entries sit behind a button. `problems` maps a day (or a kind of problem) to its counts
    and sample keys; empty means the check passed."""
    import json

    if not problems:
        return dg.MetadataValue.text(ok)
    text = " | ".join(
        f"{key}: {json.dumps(value, default=str, separators=(', ', ': '))}"
        for key, value in (problems.items() if isinstance(problems, dict) else enumerate(problems))
    )
    return dg.MetadataValue.text(text[:2000])
