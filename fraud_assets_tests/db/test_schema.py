"""Migrations build the ORIGIN_FACTS schema and apply idempotently."""

from __future__ import annotations

import psycopg
import pytest

from fraud_assets.contract.schema import TRANSACTION_COLUMNS
from fraud_assets.db import migrate as migrate_module
from fraud_assets.db.migrate import Migration, available_migrations, migrate

_PG_TYPES = {
    "VARCHAR(50)": "character varying(50)",
    "VARCHAR(3)": "character varying(3)",
    "VARCHAR(255)": "character varying(255)",
    "VARCHAR(20)": "character varying(20)",
    "VARCHAR(4)": "character varying(4)",
    "VARCHAR(2)": "character varying(2)",
    "VARCHAR(100)": "character varying(100)",
    "TIMESTAMP": "timestamp without time zone",
    "DECIMAL(12,2)": "numeric(12,2)",
    "INET": "inet",
    "BOOLEAN": "boolean",
    "JSONB": "jsonb",
}


def _rows(pg, sql, params=()):
    with psycopg.connect(pg.conninfo) as conn:
        return conn.execute(sql, params).fetchall()


def test_migrating_again_applies_nothing(postgres):
    assert migrate(postgres.conninfo) == []
    versions = [
        r[0] for r in _rows(postgres, "SELECT version FROM schema_migrations ORDER BY version")
    ]
    assert versions == [m.version for m in available_migrations()]


def test_transactions_has_exactly_the_18_columns_of_the_contract(postgres):
    columns = _rows(
        postgres,
        """SELECT column_name, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid)
             FROM information_schema.columns c
             JOIN pg_attribute a ON a.attrelid = 'transactions'::regclass AND a.attname = c.column_name
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE c.table_name = 'transactions' ORDER BY c.ordinal_position""",
    )
    assert [c[0] for c in columns] == [c.name for c in TRANSACTION_COLUMNS]
    assert [c[1] for c in columns] == [_PG_TYPES[c.pg_type] for c in TRANSACTION_COLUMNS]
    not_null = {c[0] for c in columns if c[2]}
    assert not_null == {
        "transaction_id",
        "customer_id",
        "transaction_date",
        "amount",
        "source_system",
    }
    defaults = {c[0]: c[3] for c in columns if c[3]}
    assert defaults["currency"].startswith("'USD'")
    assert defaults["is_online"] == "true"
    assert defaults["created_at"] == defaults["normalized_at"] == "(now() AT TIME ZONE 'UTC'::text)"


def test_transactions_indexes_are_those_of_origin_facts_without_gin(postgres):
    indexes = {
        r[0]
        for r in _rows(postgres, "SELECT indexdef FROM pg_indexes WHERE tablename = 'transactions'")
    }
    body = {i.split(" USING ")[1] for i in indexes}
    assert body == {
        "btree (transaction_id, transaction_date)",
        "btree (customer_id)",
        "btree (transaction_date DESC)",
        "btree (amount)",
        "btree (source_system)",
        "btree (merchant_category)",
        "btree (created_at DESC)",
    }


def test_fraud_alerts_constraints_guard_scores_levels_and_reviews(postgres):
    base = """INSERT INTO fraud_alerts (transaction_id, customer_id, transaction_date, amount, rules_triggered,
                rule_score, fraud_score, risk_level, description, rules_version, dagster_run_id, status, reviewed_by, reviewed_at)
              VALUES (%s, 'C', '2026-01-01', 1, '{HIGH_VALUE}', 25, %s, %s, 'd', 'rules-v1', 'run', %s, %s, %s)"""
    bad = [
        ("X1", 101, "CRITICAL", "PENDING", None, None),  # score above 100
        ("X2", 50, "SEVERE", "PENDING", None, None),  # unknown level
        ("X3", 50, "MEDIUM", "CONFIRMED", None, None),  # a decision nobody signed
        ("X4", 50, "MEDIUM", "ESCALATED", "jane", "2026-01-02"),  # unknown status
    ]
    with psycopg.connect(postgres.conninfo, autocommit=True) as conn:
        for row in bad:
            with pytest.raises(psycopg.errors.CheckViolation):
                conn.execute(base, row)
        conn.execute(base, ("OK1", 50, "MEDIUM", "CONFIRMED", "jane", "2026-01-02"))
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(base, ("OK1", 50, "MEDIUM", "PENDING", None, None))
        conn.execute("DELETE FROM fraud_alerts WHERE transaction_id = 'OK1'")


def test_an_edited_migration_is_refused(postgres, monkeypatch):
    edited = [Migration(m.version, m.sql + "\n-- edited") for m in available_migrations()]
    monkeypatch.setattr(migrate_module, "available_migrations", lambda: edited)
    with pytest.raises(RuntimeError, match="edited after it was applied"):
        migrate(postgres.conninfo)
