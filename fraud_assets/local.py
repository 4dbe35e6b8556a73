"""Embedded defaults for the local commands: one throwaway PostgreSQL cluster under
FRAUD_HOME (default ./.local), reused across runs, and the environment variables that
point Dagster and the resources at it. A database configured in the environment
(FRAUD_DB_HOST set) is used as-is and nothing is started."""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from fraud_assets.db.local_cluster import ensure_local_cluster
from fraud_assets.db.migrate import migrate
from fraud_assets.environments import project_home

REPO_ROOT = Path(__file__).resolve().parents[1]


def prepare_local_environment(start_database: bool = True) -> dict[str, str]:
    """Set (in os.environ) and return what the local commands need."""
    home = project_home()
    home.mkdir(parents=True, exist_ok=True)
    env: dict[str, str] = {}
    if not os.environ.get("FRAUD_DB_HOST") and start_database:
        info = ensure_local_cluster(home / "postgres", databases=("frauddb", "dagster"))
        env.update(
            {
                "FRAUD_DB_HOST": info.host,
                "FRAUD_DB_PORT": str(info.port),
                "FRAUD_DB_NAME": "frauddb",
                "FRAUD_DB_USER": info.user,
                "FRAUD_DB_PASSWORD": info.password,
            }
        )
        if not os.environ.get("DAGSTER_PG_HOST"):
            env.update({k: v for k, v in info.env("DAGSTER_PG_").items()})
            env["DAGSTER_PG_DB"] = "dagster"
    env.setdefault("FRAUD_LANDING_URI", os.environ.get("FRAUD_LANDING_URI", str(home / "landing")))
    env.setdefault("FRAUD_LAKE_URI", os.environ.get("FRAUD_LAKE_URI", str(home / "lake")))
    if not os.environ.get("FRAUD_LAKE_HASH_KEY"):
        env["FRAUD_LAKE_HASH_KEY"] = _local_secret(home / "lake_hash_key")
    if not os.environ.get("DAGSTER_HOME"):
        dagster_home = home / "dagster_home"
        dagster_home.mkdir(exist_ok=True)
        # One instance configuration for local runs and deployments: the repo's dagster.yaml.
        shutil.copyfile(REPO_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
        env["DAGSTER_HOME"] = str(dagster_home)
    os.environ.update(env)
    if start_database:
        migrate(database_conninfo())
    return env


def _local_secret(path: Path) -> str:
    """A random secret kept under FRAUD_HOME (mode 0600), made on first use: the local
    stand-in for a key that production reads from its secret store via the environment."""
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
    return path.read_text().strip()


def database_conninfo() -> str:
    from psycopg.conninfo import make_conninfo

    return make_conninfo(
        host=os.environ["FRAUD_DB_HOST"],
        port=os.environ.get("FRAUD_DB_PORT", "5432"),
        dbname=os.environ.get("FRAUD_DB_NAME", "frauddb"),
        user=os.environ["FRAUD_DB_USER"],
        password=os.environ["FRAUD_DB_PASSWORD"],
        sslmode=os.environ.get("FRAUD_DB_SSLMODE", "prefer"),
        **(
            {"sslrootcert": os.environ["FRAUD_DB_SSLROOTCERT"]}
            if os.environ.get("FRAUD_DB_SSLROOTCERT")
            else {}
        ),
    )
