"""An embedded, throwaway PostgreSQL cluster for when no database is configured.

``ensure_local_cluster(root)`` gives a running server whose data lives in ``root/pgdata``
and which the next run reuses::

    root/
      .lock            fcntl lock: one process at a time initialises / starts / stops
      cluster.json     {"port": ..., "user": "fraud", "initialized": true}
      password         superuser password, mode 0600, random per cluster
      postgres.log     server log (pg_ctl -l)
      pgdata/          the data directory

The server listens on 127.0.0.1 only (no Unix socket) and requires scram-sha-256
password authentication. PostgreSQL refuses to run as root, so when this process is
root the server binaries run as the ``postgres`` system user (or as the owner of an
existing data directory), which is why every parent directory of ``root`` must be
traversable by that user.

The server is tuned for bulk loading (see PERFORMANCE_SETTINGS). It runs with
``synchronous_commit=off``: after a crash the last few hundred ms of commits may be
missing (never half-applied). A session that needs a commit durable on return runs
``SET synchronous_commit = on`` first.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

__all__ = [
    "ConnectionInfo",
    "LocalClusterError",
    "cluster_status",
    "ensure_local_cluster",
    "find_pg_bin",
    "stop_local_cluster",
]

HOST = "127.0.0.1"
SUPERUSER = "fraud"
SERVICE_USER = "postgres"  # who runs the server when we are root

DATA_DIR = "pgdata"
STATE_FILE = "cluster.json"
PASSWORD_FILE = "password"
LOG_FILE = "postgres.log"
LOCK_FILE = ".lock"
# Our settings live in their own file, included from postgresql.conf and rewritten on
# every start, so a change of port (or of the settings below) needs no conf editing.
SETTINGS_FILE = "fraud_local.conf"

START_TIMEOUT_S = 60
LOCK_TIMEOUT_S = 180

# Non-default server settings for a single-user dev cluster on a 2-core / 24 GB machine
# whose work is bulk loading (COPY of millions of rows) followed by index builds and
# whole-table reads.
PERFORMANCE_SETTINGS: dict[str, str] = {
    # Default 128MB: a loaded day of transactions and its indexes fit in cache.
    "shared_buffers": "1GB",
    # CREATE INDEX / ADD PRIMARY KEY sort in memory instead of spilling to disk: the
    # "load bare, then build key + indexes" path is the fastest way to load.
    "maintenance_work_mem": "1GB",
    # Per sort/hash node of a query: aggregations and joins over a day stay in memory.
    "work_mem": "64MB",
    # Default 1GB / 5min: a big COPY would otherwise force a checkpoint every few
    # hundred MB, and each checkpoint is followed by a burst of full-page writes.
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    # No replication or archiving here. With wal_level=minimal, COPY into a table
    # created (or truncated) in the same transaction skips WAL entirely: the table
    # file is synced at commit instead. minimal requires max_wal_senders=0.
    "wal_level": "minimal",
    "max_wal_senders": "0",
    # Commit returns before its WAL is flushed. A crash can lose the last few hundred
    # milliseconds of commits but never corrupts the cluster or half-applies one.
    "synchronous_commit": "off",
    # Two cores: index builds and large scans may use both.
    "max_parallel_maintenance_workers": "2",
    "max_parallel_workers_per_gather": "2",
    # fsync stays on (the default) on purpose: with it off, a machine crash or a killed
    # container can leave the data directory corrupt, and this cluster is reused from
    # run to run; synchronous_commit=off already removes most of the per-commit cost.
}


class LocalClusterError(RuntimeError):
    """The local cluster cannot be found, initialised, started or stopped."""


@dataclass(frozen=True)
class ConnectionInfo:
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    dbname: str

    def conninfo(self, dbname: str | None = None) -> str:
        """A libpq keyword/value string, e.g. for ``psycopg.connect``."""
        return make_conninfo(
            host=self.host,
            port=str(self.port),
            user=self.user,
            password=self.password,
            dbname=dbname or self.dbname,
        )

    def env(self, prefix: str) -> dict[str, str]:
        """``{PREFIX}HOST``, ``PORT``, ``USER``, ``PASSWORD`` and ``DB`` as env vars."""
        return {
            f"{prefix}HOST": self.host,
            f"{prefix}PORT": str(self.port),
            f"{prefix}USER": self.user,
            f"{prefix}PASSWORD": self.password,
            f"{prefix}DB": self.dbname,
        }


# --------------------------------------------------------------------------- binaries


def _has_server_bins(d: Path) -> bool:
    return (d / "initdb").is_file() and (d / "pg_ctl").is_file()


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", name))


def find_pg_bin() -> Path:
    """The directory holding ``initdb`` and ``pg_ctl``.

    ``$FRAUD_PG_BIN`` if set, else the newest ``/usr/lib/postgresql/*/bin`` (Debian's
    layout), else the directory of ``pg_ctl`` on ``PATH``.
    """
    override = os.environ.get("FRAUD_PG_BIN")
    if override:
        d = Path(override)
        if not _has_server_bins(d):
            raise LocalClusterError(f"FRAUD_PG_BIN={override!r} does not contain initdb and pg_ctl")
        return d
    candidates = [d for d in Path("/usr/lib/postgresql").glob("*/bin") if _has_server_bins(d)]
    if candidates:
        return max(candidates, key=lambda d: _version_key(d.parent.name))
    found = shutil.which("pg_ctl")
    if found:
        for d in (Path(found).parent, Path(found).resolve().parent):
            if _has_server_bins(d):
                return d
    raise LocalClusterError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install them with "
        "`apt-get install -y postgresql`, or point FRAUD_PG_BIN at the directory "
        "that holds them"
    )


def _bin_major_version(pg_bin: Path) -> str:
    out = subprocess.run(
        [str(pg_bin / "pg_ctl"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    m = re.search(r"(\d+)(?:\.(\d+))?", out)
    if not m:
        raise LocalClusterError(f"cannot parse version from {out!r}")
    major = int(m.group(1))
    return str(major) if major >= 10 else f"{major}.{m.group(2)}"


def _pg_bin_for(pgdata: Path) -> Path:
    """Server binaries that match an existing data directory's major version."""
    pg_bin = find_pg_bin()
    version_file = pgdata / "PG_VERSION"
    if not version_file.exists():
        return pg_bin
    wanted = version_file.read_text().strip()
    if _bin_major_version(pg_bin) == wanted:
        return pg_bin
    alt = Path(f"/usr/lib/postgresql/{wanted}/bin")
    if not os.environ.get("FRAUD_PG_BIN") and _has_server_bins(alt):
        return alt
    raise LocalClusterError(
        f"{pgdata} was created by PostgreSQL {wanted} but the binaries in {pg_bin} are "
        f"another major version; install postgresql-{wanted}, set FRAUD_PG_BIN, or "
        f"delete {pgdata.parent} to start a fresh cluster"
    )


# ---------------------------------------------------------------- who runs the server


@dataclass(frozen=True)
class _RunAs:
    """The OS user the server binaries run as; ``None`` fields: this process itself."""

    name: str | None = None
    uid: int | None = None
    gid: int | None = None
    groups: tuple[int, ...] = ()

    @property
    def is_other(self) -> bool:
        return self.uid is not None


def _run_as(pgdata: Path) -> _RunAs:
    if os.geteuid() != 0:
        if pgdata.exists() and pgdata.stat().st_uid != os.geteuid():
            owner = _user_name(pgdata.stat().st_uid)
            raise LocalClusterError(
                f"{pgdata} belongs to {owner}, not to the current user: run as root (the "
                f"server is then started as {owner}) or delete {pgdata.parent}"
            )
        return _RunAs()
    # Root: PostgreSQL refuses to run as root. Use the owner of an existing data
    # directory (e.g. a cluster a normal user made), else the postgres system user.
    uid = pgdata.stat().st_uid if pgdata.exists() else 0
    if uid == 0:
        try:
            pw = pwd.getpwnam(SERVICE_USER)
        except KeyError:
            raise LocalClusterError(
                f"running as root, but there is no {SERVICE_USER!r} system user to run "
                "PostgreSQL as (it refuses to run as root): install the server with "
                "`apt-get install -y postgresql`, which creates it, or run as a normal user"
            ) from None
    else:
        pw = pwd.getpwuid(uid)
    return _RunAs(pw.pw_name, pw.pw_uid, pw.pw_gid, tuple(os.getgrouplist(pw.pw_name, pw.pw_gid)))


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _check_parents_traversable(root: Path, who: _RunAs) -> None:
    """Every ancestor of root must be searchable (x bit) by the server's user."""
    if not who.is_other:
        return
    for d in root.parents:
        st = d.stat()
        if st.st_uid == who.uid:
            ok = st.st_mode & 0o100
        elif st.st_gid in who.groups:
            ok = st.st_mode & 0o010
        else:
            ok = st.st_mode & 0o001
        if not ok:
            raise LocalClusterError(
                f"{d} (mode {st.st_mode & 0o7777:04o}, owner {_user_name(st.st_uid)}) is not "
                f"traversable by the {who.name!r} user. This process is root, so PostgreSQL "
                f"runs as {who.name!r} and must reach {root}. Put the cluster root under a "
                f"directory it can traverse (e.g. in the project directory or /tmp), or "
                f"grant it access (chmod o+x {d})"
            )


def _chown(path: Path, who: _RunAs) -> None:
    if who.is_other:
        os.chown(path, who.uid, who.gid, follow_symlinks=False)


def _chown_root(root: Path, who: _RunAs) -> None:
    """root and its top-level entries to the server user (pgdata is already theirs)."""
    if not who.is_other:
        return
    _chown(root, who)
    for p in root.iterdir():
        if p.name != DATA_DIR:
            _chown(p, who)


def _clean_env() -> dict[str, str]:
    # PG* variables (PGDATA, PGPORT, PGOPTIONS, ...) would silently steer the tools.
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def _run(
    cmd: Sequence[str | Path], who: _RunAs, cwd: Path, check: bool = True
) -> subprocess.CompletedProcess[str]:
    kwargs: dict = {}
    if who.is_other:
        kwargs = {"user": who.uid, "group": who.gid, "extra_groups": list(who.groups)}
    proc = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,  # root's cwd may be unreadable for the postgres user
        env=_clean_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        **kwargs,
    )
    if check and proc.returncode != 0:
        raise LocalClusterError(
            f"{Path(str(cmd[0])).name} failed (exit {proc.returncode}): "
            f"{(proc.stderr or proc.stdout).strip()}"
        )
    return proc


# ------------------------------------------------------------------------ small files


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """Exclusive fcntl lock on root/.lock: one process initialises / starts / stops."""
    fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + LOCK_TIMEOUT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LocalClusterError(
                        f"timed out after {LOCK_TIMEOUT_S}s waiting for {root / LOCK_FILE}"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # releases the lock


def _read_state(root: Path) -> dict | None:
    try:
        return json.loads((root / STATE_FILE).read_text())
    except FileNotFoundError:
        return None


def _write_text_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _write_state(root: Path, state: dict) -> None:
    _write_text_atomic(root / STATE_FILE, json.dumps(state, indent=2) + "\n")


def _read_password(root: Path) -> str:
    try:
        return (root / PASSWORD_FILE).read_text().strip()
    except FileNotFoundError:
        raise LocalClusterError(
            f"{root / PASSWORD_FILE} is missing: the cluster's password is lost; delete "
            f"{root} to start a fresh cluster"
        ) from None


def _port_is_free(port: int) -> bool:
    # Same bind as the postmaster does (SO_REUSEADDR), so TIME_WAIT leftovers of our
    # own previous run do not count as "taken" but any listener does.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def _pick_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _locales() -> set[str]:
    try:
        out = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout
    except OSError:
        return set()
    return {line.strip().lower().replace("-", "") for line in out.splitlines()}


# ----------------------------------------------------------------- server detection


def _read_pid_file(pgdata: Path) -> list[str] | None:
    try:
        return (pgdata / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return None


def _live_postmaster(pgdata: Path) -> tuple[int, int | None] | None:
    """(pid, port) of the postmaster serving pgdata, or None.

    A postmaster.pid left by a crash or machine restart names a pid that is gone or,
    worse, now belongs to an unrelated process (``pg_ctl status`` and the postmaster
    itself then believe the server is running). The postmaster runs with the data
    directory as its working directory, so compare /proc/PID/cwd.
    """
    lines = _read_pid_file(pgdata)
    if not lines or not lines[0].strip().isdigit():
        return None
    pid = int(lines[0])
    port = int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None
    if Path("/proc/self").exists():
        return (pid, port) if _runs_in(pid, pgdata) else None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return pid, port


def _runs_in(pid: int, pgdata: Path) -> bool:
    """Whether process `pid` runs with pgdata as its working directory (Linux /proc)."""
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd")) == pgdata.resolve()
    except OSError:
        return False  # gone, or another user's process: not our postmaster


def _remove_stale_pid_file(pgdata: Path) -> None:
    if _read_pid_file(pgdata) is not None and _live_postmaster(pgdata) is None:
        with contextlib.suppress(FileNotFoundError):
            (pgdata / "postmaster.pid").unlink()


def _try_connect(info: ConnectionInfo, timeout_s: float) -> Exception | None:
    """Wait until the server accepts a connection; return the last error if it does not."""
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while True:
        try:
            with psycopg.connect(info.conninfo("postgres"), connect_timeout=5) as conn:
                conn.execute("select 1")
            return None
        except psycopg.OperationalError as e:
            last = e
            if "password authentication failed" in str(e):
                return e
        if time.monotonic() > deadline:
            return last
        time.sleep(0.1)


def _log_tail(root: Path, since: int = 0, max_chars: int = 3000) -> str:
    try:
        with open(root / LOG_FILE, "rb") as f:
            f.seek(since)
            text = f.read().decode(errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return text[-max_chars:].strip() or "(log empty)"


# ------------------------------------------------------------------------- lifecycle


def _initdb(root: Path, pgdata: Path, pg_bin: Path, who: _RunAs) -> dict:
    state = _read_state(root)
    if pgdata.exists():
        if state is not None and state.get("initialized") is False:
            # A previous initdb was interrupted (killed): nothing in there is data.
            shutil.rmtree(pgdata)
        else:
            raise LocalClusterError(
                f"{pgdata} exists but is not a cluster initialised by this tool "
                f"({root / STATE_FILE} is missing or incomplete); delete {root} to start "
                "a fresh cluster"
            )
    # Stale files of an interrupted init; the password is new for every cluster.
    with contextlib.suppress(FileNotFoundError):
        (root / PASSWORD_FILE).unlink()
    password = secrets.token_urlsafe(24)
    fd = os.open(root / PASSWORD_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(password + "\n")
    state = {"port": _pick_free_port(), "user": SUPERUSER, "initialized": False}
    _write_state(root, state)
    _chown_root(root, who)  # initdb reads the password file as the server user

    locale_args = ["--locale=C.UTF-8"] if "c.utf8" in _locales() else ["--no-locale"]
    _run(
        [
            pg_bin / "initdb",
            "-D",
            pgdata,
            "-U",
            SUPERUSER,
            f"--pwfile={root / PASSWORD_FILE}",
            "--auth=scram-sha-256",  # TCP only, password always
            "-E",
            "UTF8",
            *locale_args,
        ],
        who,
        cwd=root,
    )
    with open(pgdata / "postgresql.conf", "a") as f:
        f.write(f"\n# fraud_assets local cluster settings\ninclude '{SETTINGS_FILE}'\n")
    state["initialized"] = True
    _write_state(root, state)
    return state


def _write_settings(pgdata: Path, port: int, who: _RunAs) -> None:
    settings = {
        "listen_addresses": f"'{HOST}'",
        "port": str(port),
        "unix_socket_directories": "''",  # TCP only: no socket in /var/run or /tmp
        **{k: f"'{v}'" for k, v in PERFORMANCE_SETTINGS.items()},
    }
    text = "# Written by fraud_assets.db.local_cluster on every start; edits are lost.\n"
    text += "".join(f"{k} = {v}\n" for k, v in settings.items())
    path = pgdata / SETTINGS_FILE
    _write_text_atomic(path, text, 0o600)
    _chown(path, who)


def _start(root: Path, pgdata: Path, pg_bin: Path, who: _RunAs, state: dict) -> int:
    """Start the server (not running); returns the port it listens on."""
    _remove_stale_pid_file(pgdata)
    for _attempt in range(3):
        port = int(state["port"])
        if not _port_is_free(port):
            state["port"] = port = _pick_free_port()
            _write_state(root, state)
        _write_settings(pgdata, port, who)
        _chown_root(root, who)  # the log file is written by the server user
        log = root / LOG_FILE
        log_size = log.stat().st_size if log.exists() else 0
        proc = _run(
            [pg_bin / "pg_ctl", "start", "-D", pgdata, "-l", log, "-w", "-t", START_TIMEOUT_S],
            who,
            cwd=root,
            check=False,
        )
        if proc.returncode == 0:
            return port
        tail = _log_tail(root, since=log_size)
        if "could not bind" in tail or not _port_is_free(port):
            # Someone took the port between our check and the bind: try another.
            _stop_after_failed_start(pgdata, pg_bin, who, root)
            state["port"] = _pick_free_port()
            _write_state(root, state)
            continue
        _stop_after_failed_start(pgdata, pg_bin, who, root)
        raise LocalClusterError(
            f"pg_ctl start failed (exit {proc.returncode}): {proc.stderr.strip()}\n"
            f"--- {log} ---\n{tail}"
        )
    raise LocalClusterError(f"could not find a free port to start PostgreSQL on; see {log}")


def _stop_after_failed_start(pgdata: Path, pg_bin: Path, who: _RunAs, root: Path) -> None:
    # pg_ctl -w timing out leaves a postmaster behind (e.g. still in recovery).
    if _live_postmaster(pgdata):
        _run([pg_bin / "pg_ctl", "stop", "-D", pgdata, "-m", "immediate", "-w"], who, root, False)


def _create_databases(info: ConnectionInfo, databases: Sequence[str]) -> None:
    with psycopg.connect(info.conninfo("postgres"), autocommit=True) as conn:
        existing = {r[0] for r in conn.execute("select datname from pg_database")}
        for name in databases:
            if name in existing:
                continue
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _prepare_root(root: Path) -> Path:
    root = Path(root).absolute()
    try:
        root.mkdir(parents=True)
    except FileExistsError:  # also: a concurrent call made it first
        pass
    else:
        os.chmod(root, 0o700)  # holds the password
    return root


def ensure_local_cluster(
    root: Path, databases: Sequence[str] = ("frauddb", "dagster")
) -> ConnectionInfo:
    """A running local cluster under ``root`` (initialised and started if needed).

    Reuses a running server, restarts a stopped one (keeping its data and, if still
    free, its port), creates each of ``databases`` that is missing, and returns the
    connection details for ``databases[0]``.
    """
    if not databases:
        raise ValueError("databases must name at least one database")
    root = _prepare_root(root)
    pgdata = root / DATA_DIR
    who = _run_as(pgdata)
    _check_parents_traversable(root, who)
    with _locked(root):
        state = _read_state(root)
        if not (pgdata / "PG_VERSION").exists() or not state or not state.get("initialized"):
            state = _initdb(root, pgdata, _pg_bin_for(pgdata), who)
        password = _read_password(root)
        user = state.get("user", SUPERUSER)

        running = _live_postmaster(pgdata)
        if running:
            port = running[1] or int(state["port"])
        else:
            port = _start(root, pgdata, _pg_bin_for(pgdata), who, state)
        if port != state["port"]:
            state["port"] = port
            _write_state(root, state)

        info = ConnectionInfo(HOST, port, user, password, databases[0])
        err = _try_connect(info, START_TIMEOUT_S)
        if err is not None:
            raise LocalClusterError(
                f"PostgreSQL in {pgdata} is running (pid {running[0] if running else '?'}) "
                f"but does not accept connections on {HOST}:{port}: {err}\n"
                f"--- {root / LOG_FILE} ---\n{_log_tail(root)}"
            )
        _create_databases(info, databases)
        return info


def stop_local_cluster(root: Path) -> None:
    """Fast shutdown (open sessions are disconnected); no error if not running."""
    root = Path(root).absolute()
    pgdata = root / DATA_DIR
    if not (pgdata / "PG_VERSION").exists():
        return
    who = _run_as(pgdata)
    with _locked(root):
        running = _live_postmaster(pgdata)
        if not running:
            _remove_stale_pid_file(pgdata)
            return
        pg_ctl = _pg_bin_for(pgdata) / "pg_ctl"
        cmd = [pg_ctl, "stop", "-D", pgdata, "-m", "fast", "-w", "-t", START_TIMEOUT_S]
        proc = _run(cmd, who, cwd=root, check=False)
        if proc.returncode != 0 and _live_postmaster(pgdata):
            raise LocalClusterError(
                f"pg_ctl stop failed (exit {proc.returncode}): {proc.stderr.strip()}"
            )
        # `pg_ctl stop -w` returns once postmaster.pid is gone, which the postmaster removes
        # just before it exits: wait for the process itself, so "stopped" means stopped (a
        # status or a pid check right after must not still see it in pgdata).
        if Path("/proc/self").exists():
            deadline = time.monotonic() + START_TIMEOUT_S
            while _runs_in(running[0], pgdata) and time.monotonic() < deadline:
                time.sleep(0.01)


def cluster_status(root: Path) -> str | None:
    """``"running on 127.0.0.1:PORT"`` if the cluster under root is running, else None."""
    pgdata = Path(root).absolute() / DATA_DIR
    running = _live_postmaster(pgdata)
    if not running:
        return None
    port = running[1]
    if port is None:
        state = _read_state(pgdata.parent) or {}
        port = state.get("port")
    return f"running on {HOST}:{port}"


def _kill_postmaster(root: Path) -> None:
    """Last resort (test clean-up): SIGQUIT is PostgreSQL's immediate shutdown."""
    running = _live_postmaster(Path(root).absolute() / DATA_DIR)
    if running:
        with contextlib.suppress(ProcessLookupError):
            os.kill(running[0], signal.SIGQUIT)
