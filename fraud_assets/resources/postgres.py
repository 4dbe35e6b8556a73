"""PostgreSQL (the bank's `frauddb`) as a Dagster resource."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import psycopg
import pydantic
from psycopg.conninfo import make_conninfo

from fraud_assets.db.migrate import migrate


class PostgresResource(dg.ConfigurableResource):
    """Connection settings for frauddb. In prod every field comes from an `EnvVar`."""

    host: str
    port: int = 5432
    dbname: str = "frauddb"
    user: str
    # Kept out of repr/str: a resource shows up in tracebacks and logs.
    password: str = pydantic.Field(repr=False)
    sslmode: str = "prefer"
    # CA bundle that signed the server's certificate (FRAUD_DB_SSLROOTCERT); with
    # sslmode=verify-full the server must present a certificate for `host` signed by it.
    sslrootcert: str | None = None
    # A group role to act as (SET ROLE at connect), e.g. fraud_pipeline, so the tables
    # the loader creates belong to the role, not to the login user (docs/security.md).
    role: str | None = None
    # Connections used side by side to load or export one day (one per core is right).
    parallelism: int = 2

    @property
    def conninfo(self) -> str:
        extra = {"sslrootcert": self.sslrootcert} if self.sslrootcert else {}
        if self.role:
            # libpq startup option: the role is set before the first statement runs.
            extra["options"] = f"-c role={self.role}"
        return make_conninfo(
            host=self.host,
            port=self.port,
            dbname=self.dbname,
            user=self.user,
            password=self.password,
            sslmode=self.sslmode,
            application_name="fraud_assets",
            **extra,
        )

    @contextmanager
    def connect(self, autocommit: bool = False) -> Iterator[psycopg.Connection]:
        with psycopg.connect(self.conninfo, autocommit=autocommit) as conn:
            yield conn

    def migrate(self) -> list[str]:
        return migrate(self.conninfo)
