"""PostgreSQL over TLS: a local cluster with a certificate from a throwaway CA (openssl).

sslmode=verify-full with the CA connects and the server reports the session encrypted;
a wrong CA is refused; and before the server offers TLS, sslmode=require is refused.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from fraud_assets.db.local_cluster import ConnectionInfo, ensure_local_cluster, stop_local_cluster
from fraud_assets.resources.postgres import PostgresResource


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _make_ca(folder: Path, name: str) -> None:
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-days", "2", "-subj", f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.crt",
        cwd=folder,
    )  # fmt: skip


def _make_server_cert(folder: Path, ca: str) -> None:
    _openssl(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr",
        cwd=folder,
    )  # fmt: skip
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
        "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.crt",
        cwd=folder,
    )  # fmt: skip


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[ConnectionInfo, Path]]:
    base = Path(tempfile.mkdtemp(prefix="fraud-assets-tls-", dir="/tmp"))
    base.chmod(0o755)
    try:
        yield ensure_local_cluster(base / "cluster", databases=("frauddb",)), base
    finally:
        stop_local_cluster(base / "cluster")
        shutil.rmtree(base, ignore_errors=True)


def _resource(info: ConnectionInfo, **tls) -> PostgresResource:
    return PostgresResource(
        host=info.host, port=info.port, user=info.user, password=info.password, **tls
    )


def _ssl_in_use(resource: PostgresResource) -> bool:
    with resource.connect() as conn:
        return conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()[
            0
        ]


def test_tls_required_verified_and_refused(cluster):
    info, base = cluster
    # 1. The cluster as started offers no TLS: a client that requires it is refused.
    with pytest.raises(psycopg.OperationalError, match="(?i)ssl"):
        _resource(info, sslmode="require").connect().__enter__()
    assert _ssl_in_use(_resource(info, sslmode="disable")) is False

    # 2. Turn TLS on with a certificate for 127.0.0.1 signed by our CA.
    certs = base / "certs"
    certs.mkdir()
    _make_ca(certs, "ca")
    _make_ca(certs, "other_ca")
    _make_server_cert(certs, "ca")
    pgdata = base / "cluster" / "pgdata"
    owner = pgdata.stat()
    for name in ("server.crt", "server.key"):
        shutil.copy(certs / name, pgdata / name)
        os.chown(pgdata / name, owner.st_uid, owner.st_gid)
        (pgdata / name).chmod(0o600)
    with psycopg.connect(info.conninfo(), autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET ssl = on")
        conn.execute("ALTER SYSTEM SET ssl_cert_file = 'server.crt'")
        conn.execute("ALTER SYSTEM SET ssl_key_file = 'server.key'")
        conn.execute("SELECT pg_reload_conf()")
    verified = _resource(info, sslmode="verify-full", sslrootcert=str(certs / "ca.crt"))
    deadline = time.monotonic() + 30
    while True:  # the reload is asynchronous: poll until the server offers TLS
        try:
            assert _ssl_in_use(verified) is True
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)

    # 3. The encrypted session is visible server-side, with a modern protocol.
    with verified.connect() as conn:
        version = conn.execute(
            "SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        ).fetchone()[0]
    assert version in ("TLSv1.2", "TLSv1.3")

    # 4. A certificate from another CA is refused, and so is a name it was not issued for.
    wrong_ca = _resource(info, sslmode="verify-full", sslrootcert=str(certs / "other_ca.crt"))
    with pytest.raises(psycopg.OperationalError, match="(?i)certificate"):
        wrong_ca.connect().__enter__()
    # Same server, reached under a name its certificate does not carry (hostaddr routes it).
    with pytest.raises(psycopg.OperationalError, match="does not match"):
        psycopg.connect(
            host="db.example.test",
            hostaddr=info.host,
            port=info.port,
            user=info.user,
            password=info.password,
            dbname="frauddb",
            sslmode="verify-full",
            sslrootcert=str(certs / "ca.crt"),
        )
