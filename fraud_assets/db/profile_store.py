"""customer_profiles in PostgreSQL: KYC expectations read, behavioural profiles upserted.

The KYC columns (business_type, expected_*, geographic_scope, risk_indicators,
confidence_score) belong to the bank's onboarding and are never written here; the
behavioural columns (migration 0004) are the pipeline's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import psycopg
import pyarrow as pa
from psycopg import sql
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from fraud_assets.resources.postgres import PostgresResource

BEHAVIOUR_COLUMNS: tuple[str, ...] = (
    "profile_day",
    "txn_count_30d",
    "sum_usd_30d",
    "mean_usd_30d",
    "stddev_usd_30d",
    "min_usd_30d",
    "max_usd_30d",
    "country_count_30d",
    "merchant_count_30d",
    "first_txn_at_30d",
    "last_txn_at",
    "behaviour_risk_score",
    "behaviour_signals",
)

EXPECTATIONS_SCHEMA = T.StructType(
    [
        T.StructField("customer_id", T.StringType(), False),
        T.StructField("expected_max_amount", T.DecimalType(12, 2), False),
    ]
)


def read_expectations(spark: SparkSession, postgres: PostgresResource) -> DataFrame | None:
    """(customer_id, expected_max_amount) of the customers that have one; None when none do."""
    with postgres.connect() as conn:
        rows = conn.execute(
            "SELECT customer_id, expected_max_amount FROM customer_profiles "
            "WHERE expected_max_amount IS NOT NULL ORDER BY customer_id"
        ).fetchall()
    if not rows:
        return None
    return spark.createDataFrame(rows, EXPECTATIONS_SCHEMA)


@dataclass(frozen=True)
class ProfileSync:
    inserted: int
    updated: int
    unchanged: int  # same values, or a newer profile already stored


def upsert_profiles(conn: psycopg.Connection, profiles: pa.Table) -> ProfileSync:
    """Insert or update the behavioural columns of `profiles` (one row per customer).

    A row only replaces a profile of the same or an earlier profile_day (a backfill of an
    old day never overwrites a newer profile), and only when a value changed (an identical
    re-run touches nothing, not even profiled_at). KYC columns are never in the statement.
    """
    cols = ["customer_id", *BEHAVIOUR_COLUMNS]
    # TIMESTAMP columns hold UTC: Spark hands out UTC-aware times, stored without the zone
    # (an aware value would be shifted by the server's TimeZone setting).
    for i, field in enumerate(profiles.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            profiles = profiles.set_column(
                i, field.name, profiles[field.name].cast(pa.timestamp("us"))
            )
    ident = sql.Identifier
    with conn.transaction():
        conn.execute(
            "CREATE TEMP TABLE _profiles_in (LIKE customer_profiles INCLUDING DEFAULTS) "
            "ON COMMIT DROP"
        )
        copy_sql = sql.SQL("COPY _profiles_in ({}) FROM STDIN").format(
            sql.SQL(", ").join(map(ident, cols))
        )
        with conn.cursor().copy(copy_sql) as copy:
            for row in zip(*[profiles[c].to_pylist() for c in cols], strict=True):
                copy.write_row(row)
        existing = conn.execute(
            "SELECT count(*) FROM customer_profiles p JOIN _profiles_in i USING (customer_id)"
        ).fetchone()[0]
        assignments = sql.SQL(", ").join(
            sql.SQL("{} = EXCLUDED.{}").format(ident(c), ident(c)) for c in BEHAVIOUR_COLUMNS
        )
        changed = sql.SQL("({}) IS DISTINCT FROM ({})").format(
            sql.SQL(", ").join(sql.SQL("p.{}").format(ident(c)) for c in BEHAVIOUR_COLUMNS),
            sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(ident(c)) for c in BEHAVIOUR_COLUMNS),
        )
        cur = conn.execute(
            sql.SQL(
                "INSERT INTO customer_profiles AS p ({cols}, profiled_at) "
                "SELECT {cols}, now() AT TIME ZONE 'UTC' FROM _profiles_in "
                "ON CONFLICT (customer_id) DO UPDATE SET {assign}, "
                "profiled_at = EXCLUDED.profiled_at "
                "WHERE (p.profile_day IS NULL OR p.profile_day <= EXCLUDED.profile_day) "
                "AND {changed}"
            ).format(cols=sql.SQL(", ").join(map(ident, cols)), assign=assignments, changed=changed)
        )
        written = cur.rowcount
    inserted = profiles.num_rows - existing
    updated = written - inserted
    return ProfileSync(inserted, updated, profiles.num_rows - written)


def profile_days_stored(conn: psycopg.Connection) -> dict[dt.date, int]:
    """How many profiles each profile_day holds (for metadata)."""
    rows = conn.execute(
        "SELECT profile_day, count(*) FROM customer_profiles "
        "WHERE profile_day IS NOT NULL GROUP BY 1 ORDER BY 1"
    ).fetchall()
    return dict(rows)
