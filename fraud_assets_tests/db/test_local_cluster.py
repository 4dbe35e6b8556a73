"""The embedded local PostgreSQL cluster, against the real server binaries (no mocks)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psycopg
import pytest

from fraud_assets.db import local_cluster as lc
from fraud_assets.db.local_cluster import (
    ConnectionInfo,
    LocalClusterError,
    cluster_status,
    ensure_local_cluster,
    find_pg_bin,
    stop_local_cluster,
)


def _pg_available() -> bool:
    try:
        find_pg_bin()
    except LocalClusterError:
        return False
    return True


needs_pg = pytest.mark.skipif(not _pg_available(), reason="PostgreSQL server binaries missing")


@pytest.fixture(scope="module")
def new_root():
    """Factory of cluster roots; every cluster made is stopped at the end, even on failure.

    As root the server runs as the postgres user, which must traverse every parent of the
    root; pytest's own tmp dirs live under a 0700 /tmp/pytest-of-root, so use a 0755
    directory in /tmp instead.
    """
    base = Path(tempfile.mkdtemp(prefix="fraud-pg-test-", dir="/tmp"))
    base.chmod(0o755)
    roots: list[Path] = []

    def make(name: str) -> Path:
        root = base / name
        roots.append(root)
        return root

    yield make
    for root in roots:
        try:
            stop_local_cluster(root)
        except Exception:
            lc._kill_postmaster(root)
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster(new_root) -> tuple[Path, ConnectionInfo]:
    root = new_root("shared")
    return root, ensure_local_cluster(root)


def _query(info: ConnectionInfo, query: str, dbname: str | None = None):
    with psycopg.connect(info.conninfo(dbname), autocommit=True) as conn:
        cur = conn.execute(query)
        return cur.fetchall() if cur.description else None


def _system_identifier(info: ConnectionInfo) -> int:
    return _query(info, "select system_identifier from pg_control_system()")[0][0]


def _chown_like(path: Path, like: Path) -> None:
    st = like.stat()
    if os.geteuid() == 0:
        os.chown(path, st.st_uid, st.st_gid)


# ----------------------------------------------------------------------- no server


def test_connection_info_strings():
    info = ConnectionInfo("127.0.0.1", 5433, "fraud", "p w'\\x", "frauddb")
    params = psycopg.conninfo.conninfo_to_dict(info.conninfo())
    assert params == {
        "host": "127.0.0.1",
        "port": "5433",
        "user": "fraud",
        "password": "p w'\\x",
        "dbname": "frauddb",
    }
    assert psycopg.conninfo.conninfo_to_dict(info.conninfo("dagster"))["dbname"] == "dagster"
    assert info.env("FRAUD_PG_") == {
        "FRAUD_PG_HOST": "127.0.0.1",
        "FRAUD_PG_PORT": "5433",
        "FRAUD_PG_USER": "fraud",
        "FRAUD_PG_PASSWORD": "p w'\\x",
        "FRAUD_PG_DB": "frauddb",
    }
    assert "p w" not in repr(info)  # the password stays out of logs


def test_find_pg_bin(monkeypatch, tmp_path):
    monkeypatch.delenv("FRAUD_PG_BIN", raising=False)
    if _pg_available():
        found = find_pg_bin()
        assert (found / "initdb").is_file() and (found / "pg_ctl").is_file()
        monkeypatch.setenv("FRAUD_PG_BIN", str(found))
        assert find_pg_bin() == found
    monkeypatch.setenv("FRAUD_PG_BIN", str(tmp_path))
    with pytest.raises(LocalClusterError, match="FRAUD_PG_BIN"):
        find_pg_bin()


def test_status_and_stop_without_a_cluster(tmp_path):
    assert cluster_status(tmp_path / "nothing") is None
    stop_local_cluster(tmp_path / "nothing")  # no error


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the server as another user")
@needs_pg
def test_untraversable_parent_is_a_clear_error(tmp_path_factory):
    # pytest's tmp dirs sit under /tmp/pytest-of-root, mode 0700.
    root = tmp_path_factory.mktemp("pg") / "cluster"
    with pytest.raises(LocalClusterError, match="not traversable by the 'postgres' user"):
        ensure_local_cluster(root)


# ------------------------------------------------------------------ real clusters


@needs_pg
def test_first_call_initialises_and_serves_over_tcp(cluster):
    root, info = cluster
    assert (info.host, info.user, info.dbname) == ("127.0.0.1", "fraud", "frauddb")
    assert _query(info, "select 1") == [(1,)]
    dbs = {r[0] for r in _query(info, "select datname from pg_database")}
    assert {"frauddb", "dagster"} <= dbs
    assert _query(info, "select current_database()", "dagster") == [("dagster",)]

    assert (root / "pgdata" / "PG_VERSION").is_file()
    state = json.loads((root / "cluster.json").read_text())
    assert state["port"] == info.port and state["user"] == "fraud"
    pw_file = root / "password"
    assert stat.S_IMODE(pw_file.stat().st_mode) == 0o600
    assert pw_file.read_text().strip() == info.password
    assert len(info.password) >= 32  # token_urlsafe(24)
    assert cluster_status(root) == f"running on 127.0.0.1:{info.port}"


@needs_pg
def test_password_is_required(cluster):
    _, info = cluster
    bad = ConnectionInfo(info.host, info.port, info.user, info.password + "x", info.dbname)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(bad.conninfo(), connect_timeout=5)
    no_password = f"host=127.0.0.1 port={info.port} user=fraud dbname=frauddb password=''"
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(no_password, connect_timeout=5)


@needs_pg
def test_server_settings(cluster):
    _, info = cluster
    settings = dict(
        _query(
            info,
            "select name, setting from pg_settings where name in ('wal_level', 'fsync', "
            "'synchronous_commit', 'listen_addresses', 'unix_socket_directories', "
            "'max_wal_senders', 'server_encoding', 'password_encryption')",
        )
    )
    assert settings == {
        "wal_level": "minimal",
        "fsync": "on",
        "synchronous_commit": "off",
        "listen_addresses": "127.0.0.1",
        "unix_socket_directories": "",
        "max_wal_senders": "0",
        "server_encoding": "UTF8",
        "password_encryption": "scram-sha-256",
    }
    shows = {
        name: _query(info, f"show {name}")[0][0]
        for name in ("shared_buffers", "maintenance_work_mem", "work_mem", "max_wal_size")
    }
    assert shows == {
        "shared_buffers": "1GB",
        "maintenance_work_mem": "1GB",
        "work_mem": "64MB",
        "max_wal_size": "8GB",
    }


@needs_pg
def test_reuse_stop_and_restart_keep_data(new_root):
    root = new_root("lifecycle")
    t0 = time.perf_counter()
    info = ensure_local_cluster(root)
    t_init = time.perf_counter() - t0
    ident = _system_identifier(info)
    pid = lc._live_postmaster(root / "pgdata")[0]
    with psycopg.connect(info.conninfo()) as conn:
        conn.execute("create table kept (id int primary key, note text)")
        conn.execute("insert into kept values (1, 'before')")

    # Second call: the running server is reused as is.
    t0 = time.perf_counter()
    again = ensure_local_cluster(root, databases=("frauddb", "dagster", "Odd name-1"))
    t_reuse = time.perf_counter() - t0
    assert again.port == info.port and again.password == info.password
    assert lc._live_postmaster(root / "pgdata")[0] == pid
    assert _system_identifier(again) == ident  # same cluster, no re-initdb
    assert _query(again, "select note from kept") == [("before",)]
    assert _query(again, "select current_database()", "Odd name-1") == [("Odd name-1",)]

    stop_local_cluster(root)
    assert cluster_status(root) is None
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(info.conninfo(), connect_timeout=2)
    stop_local_cluster(root)  # already stopped: no error

    t0 = time.perf_counter()
    restarted = ensure_local_cluster(root)
    t_restart = time.perf_counter() - t0
    assert restarted == info
    assert _system_identifier(restarted) == ident
    assert _query(restarted, "select note from kept") == [("before",)]
    print(f"\ninit+start {t_init:.2f}s, reuse {t_reuse:.3f}s, restart {t_restart:.2f}s")


@needs_pg
def test_taken_port_moves_the_cluster(new_root):
    root = new_root("port")
    info = ensure_local_cluster(root)
    stop_local_cluster(root)
    with socket.socket() as squatter:
        # As PostgreSQL does: without SO_REUSEADDR the bind can fail on the connections the
        # stopped server just closed (TIME_WAIT). A listening socket still blocks the port.
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", info.port))
        squatter.listen()
        moved = ensure_local_cluster(root)
        assert moved.port != info.port
        assert json.loads((root / "cluster.json").read_text())["port"] == moved.port
        assert cluster_status(root) == f"running on 127.0.0.1:{moved.port}"
        assert _query(moved, "select 1") == [(1,)]
    stop_local_cluster(root)
    assert ensure_local_cluster(root).port == moved.port  # the new port sticks


@needs_pg
def test_stale_postmaster_pid_after_machine_restart(new_root):
    root = new_root("stale")
    pgdata = root / "pgdata"
    info = ensure_local_cluster(root)
    _query(info, "create table kept as select 42 as answer")
    pid_text = (pgdata / "postmaster.pid").read_text()
    stop_local_cluster(root)

    def plant_pid_file(pid: int) -> None:
        lines = pid_text.splitlines()
        lines[0] = str(pid)
        (pgdata / "postmaster.pid").write_text("\n".join(lines) + "\n")
        _chown_like(pgdata / "postmaster.pid", pgdata)

    # The pid from before the "reboot" is gone.
    plant_pid_file(int(pid_text.split()[0]))
    assert cluster_status(root) is None
    assert _query(ensure_local_cluster(root), "select answer from kept") == [(42,)]
    stop_local_cluster(root)

    # Worse: after a reboot the old pid belongs to an unrelated process of the same user,
    # which fools both pg_ctl status and the postmaster's own lock-file check.
    owner = pgdata.stat().st_uid
    kwargs = {"user": owner} if os.geteuid() == 0 else {}
    sleeper = subprocess.Popen(["sleep", "120"], cwd="/", **kwargs)
    try:
        plant_pid_file(sleeper.pid)
        assert cluster_status(root) is None
        assert _query(ensure_local_cluster(root), "select answer from kept") == [(42,)]
        assert lc._live_postmaster(pgdata)[0] != sleeper.pid
    finally:
        sleeper.kill()
        sleeper.wait()


@needs_pg
def test_crashed_server_recovers(new_root):
    root = new_root("crash")
    info = ensure_local_cluster(root)
    with psycopg.connect(info.conninfo()) as conn:
        # The cluster runs synchronous_commit=off: a crash may lose the last few hundred
        # ms of commits. A session that needs a commit durable at once turns it back on.
        conn.execute("set synchronous_commit = on")
        conn.execute("create table kept (id int)")
        conn.execute("insert into kept select generate_series(1, 1000)")
    pid = lc._live_postmaster(root / "pgdata")[0]
    os.kill(pid, signal.SIGKILL)  # postmaster.pid stays behind, no shutdown checkpoint
    deadline = time.monotonic() + 10
    while cluster_status(root) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    recovered = ensure_local_cluster(root)
    assert recovered.port == info.port
    assert _query(recovered, "select count(*) from kept") == [(1000,)]


CONCURRENT_CALL = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from fraud_assets.db.local_cluster import ensure_local_cluster
    start_at = float(sys.argv[2])
    time.sleep(max(0.0, start_at - time.time()))
    info = ensure_local_cluster(Path(sys.argv[1]))
    print(json.dumps({"port": info.port, "password": info.password}))
    """
)


@needs_pg
def test_concurrent_first_calls_initialise_once(new_root):
    root = new_root("concurrent")
    start_at = str(time.time() + 2.0)  # both past their imports, then go together
    repo = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")])),
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT_CALL, str(root), start_at],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    assert results[0] == results[1]
    log = (root / "postgres.log").read_text()
    assert log.count("database system is ready to accept connections") == 1
