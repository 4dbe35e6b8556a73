"""Shared, expensive parts for the whole test run: one local Spark session, one real
PostgreSQL cluster. Each test gets a clean database state, not a new server."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from fraud_assets.db.local_cluster import ensure_local_cluster, stop_local_cluster
from fraud_assets.resources.postgres import PostgresResource
from fraud_assets.resources.spark import local_spark_session

# Tables the pipeline writes; truncated between tests that ask for a clean database.
_DATA_TABLES = (
    "transactions",
    "transactions_quarantine",
    "fraud_alerts",
    "customers",
    "customers_quarantine",
    "customer_profiles",
)


@pytest.fixture(scope="session")
def spark():
    session = local_spark_session()
    yield session
    session.stop()


@pytest.fixture(scope="session")
def pg_root() -> Iterator[Path]:
    # The server runs as `postgres` when tests run as root: its folder must be reachable.
    base = Path(tempfile.mkdtemp(prefix="fraud-assets-pg-", dir="/tmp"))
    base.chmod(0o755)
    yield base / "cluster"
    stop_local_cluster(base / "cluster")
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres(pg_root: Path) -> PostgresResource:
    info = ensure_local_cluster(pg_root, databases=("frauddb", "dagster"))
    resource = PostgresResource(
        host=info.host, port=info.port, dbname="frauddb", user=info.user, password=info.password
    )
    resource.migrate()
    # The environment the code location reads (FRAUD_ENV=test: services from variables).
    os.environ.update(info.env("DAGSTER_PG_"))
    os.environ["DAGSTER_PG_DB"] = "dagster"
    os.environ.update(info.env("FRAUD_DB_"))
    os.environ["FRAUD_DB_NAME"] = "frauddb"
    os.environ["FRAUD_ENV"] = "test"
    # The lake stores ip/device as a keyed hash: one random key for the test session.
    os.environ.setdefault("FRAUD_LAKE_HASH_KEY", secrets.token_hex(32))
    return resource


@pytest.fixture
def clean_db(postgres: PostgresResource) -> PostgresResource:
    reset_database(postgres)
    return postgres


def reset_database(postgres: PostgresResource) -> None:
    with psycopg.connect(postgres.conninfo, autocommit=True) as conn:
        for (name,) in conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'transactions'::regclass"
        ).fetchall():
            conn.execute(f'DROP TABLE "{name}"')
        conn.execute("TRUNCATE " + ", ".join(_DATA_TABLES) + " RESTART IDENTITY")


@pytest.fixture(scope="session")
def s3_lake() -> Iterator[dict[str, str]]:
    """A real S3 server (SeaweedFS on loopback) for the session, with its keys in os.environ.

    Yields the lake and landing roots in its bucket and the endpoint to give the resources.
    """
    from fraud_assets_tests.s3server import seaweedfs_s3

    with seaweedfs_s3("fraud-test") as server:
        saved = {k: os.environ.get(k) for k in server.env}
        os.environ.update(server.env)
        try:
            yield {
                "uri": f"s3://{server.bucket}/lake",
                "endpoint": server.endpoint,
                "landing_uri": f"s3://{server.bucket}/landing",
            }
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
