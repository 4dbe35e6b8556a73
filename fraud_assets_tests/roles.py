"""Login users that are members of the migration's group roles, as an operator makes them."""

from __future__ import annotations

import secrets

import psycopg
from psycopg import sql

from fraud_assets.resources.postgres import PostgresResource

GROUPS = ("fraud_pipeline", "fraud_analyst", "fraud_reporting")


def login_user(
    postgres: PostgresResource, group: str, act_as_group: bool = False
) -> PostgresResource:
    """A LOGIN user `t_<group>` in `group` (created or given a new password), as a resource.

    `act_as_group`: connect with the group as the session's role (FRAUD_DB_ROLE), as the
    pipeline does so that the tables it creates belong to the group.
    """
    name = f"t_{group}"
    password = secrets.token_urlsafe(18)
    with psycopg.connect(postgres.conninfo, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(
            sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(name), sql.Literal(password)
            )
        )
        conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), sql.Identifier(name)))
    return PostgresResource(
        host=postgres.host,
        port=postgres.port,
        dbname=postgres.dbname,
        user=name,
        password=password,
        role=group if act_as_group else None,
    )
