"""Asset metadata shared by the domains: owners, column schemas."""

from __future__ import annotations

import dagster as dg

from fraud_assets.contract.schema import TRANSACTION_COLUMNS

OWNERS = ["team:fraud-data-engineering"]

TRANSACTIONS_COLUMN_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn(
            c.name,
            c.pg_type,
            description=c.description,
            constraints=dg.TableColumnConstraints(nullable=not c.required),
        )
        for c in TRANSACTION_COLUMNS
    ]
)


def column_schema(columns: dict[str, str], types: dict[str, str] | None = None) -> dg.TableSchema:
    types = types or {}
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name, types.get(name, "string"), description=doc)
            for name, doc in columns.items()
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
