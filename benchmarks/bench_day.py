"""Benchmark one day of the daily job at volume: each asset on its own, in one process.

    bench_day.py prepare --home DIR --per-day 1000000 --history-days 30   (not timed)
    bench_day.py run --home DIR                                            (timed)

`prepare` points FRAUD_HOME at DIR (embedded PostgreSQL, landing and lake all live under
it), writes the landing feeds of history_days + 1 consecutive days ending on the
benchmark day D (default 2026-10-31, fixed seed: the same bytes every time), and runs
the real daily job (all four assets) for the history days, oldest first. It is
resumable: a day whose lake partitions and PostgreSQL partition exist is skipped.

`run` measures day D, which has its 30 days of history in PostgreSQL and the lake:
postgres_transactions (landing -> PostgreSQL), s3_partitioned_parquet (PostgreSQL ->
lake), the Spark session start, fraud_features and fraud_alerts, each as its own Dagster
run of `daily_fraud_detection` (asset selection, `execute_in_process`) in this one
process, so fraud_features and fraud_alerts share one Spark session as in production.
Before the timed runs, whatever D already has (PostgreSQL partition, quarantine, alerts,
lake partitions) is removed, so every run measures the arrival of a new day (pass
--keep-day to measure a re-run over an existing day instead). After the load it checks
that D's partitions carry the primary key and the six B-tree indexes (valid), then
times a GIN index on raw_data (built and dropped; the project does not keep it).

Memory: a thread samples /proc every 0.2 s; (a) is this process plus its descendants
(the Spark JVM and its Python workers), (b) the PostgreSQL server processes (postmaster
and its children) on their own, as the sum of RSS (shared buffers counted in each
process that touched them) and as the sum of PSS (shared pages divided among them).

Results: a Markdown table on stdout, and benchmarks/results/<date>-<per_day>.{json,md}.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH_DAY = dt.date(2026, 10, 31)
SEED = 20261031
RESULTS_DIR = Path(__file__).resolve().parent / "results"
STATE_FILE = "bench_state.json"

# Disk per 1M rows of a day: landing CSV, PostgreSQL (table + indexes), lake + slack.
# 31 days at 1M rows: 31 x 1.95 GB ~ 60 GB.
LANDING_GB_PER_M = 0.55
PG_GB_PER_M = 0.7
LAKE_GB_PER_M = 0.7

TARGET_CHAIN_S = 30.0
TARGET_LOAD_ROWS_S = 100_000
TARGET_TREE_RSS = 4 << 30

# What the daily job writes to the lake for a day (a history day is done when all exist).
LAKE_DATASETS = (
    "transactions",
    "fraud_feedback",
    "customer_daily",
    "merchant_daily",
    "fraud_features",
    "scored_transactions",
)
ASSETS = (
    "postgres_transactions",
    "s3_partitioned_parquet",
    "fraud_feedback",
    "fraud_features",
    "fraud_alerts",
    "customer_profiles",
)
EXPECTED_BTREE = 6  # besides the primary key: see fraud_assets/db/transaction_store.py

# Settings that would point the run at another database, lake or Dagster instance.
FOREIGN_ENV = (
    "FRAUD_DB_HOST",
    "FRAUD_DB_PORT",
    "FRAUD_DB_NAME",
    "FRAUD_DB_USER",
    "FRAUD_DB_PASSWORD",
    "FRAUD_DB_SSLMODE",
    "DAGSTER_PG_HOST",
    "DAGSTER_PG_PORT",
    "DAGSTER_PG_USER",
    "DAGSTER_PG_PASSWORD",
    "DAGSTER_PG_DB",
    "DAGSTER_HOME",
    "FRAUD_LANDING_URI",
    "FRAUD_LAKE_URI",
    "FRAUD_S3_ENDPOINT_URL",
    "FRAUD_SPARK_READS_S3",
    "FRAUD_PARTITIONS_START",
)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def gib(n: float) -> str:
    return f"{n / (1 << 30):.2f} GiB"


# --------------------------------------------------------------------------- environment


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "--no-optional-locks", "-C", str(REPO), *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def _source_digest(package: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".sql", ".csv", ".json"):
            digest.update(str(path.relative_to(package)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def use_code(home: Path, rev: str) -> dict[str, Any]:
    """Import fraud_assets from `rev`: "worktree" (the editable install, whatever its
    state) or a commit, extracted once with `git archive` to HOME/code/<sha> and put first
    on sys.path and PYTHONPATH (inherited by Spark's Python workers). Others edit the
    work tree concurrently; a snapshot keeps every day of a benchmark on the same code."""
    if "fraud_assets" in sys.modules:
        raise RuntimeError("use_code must run before fraud_assets is imported")
    if rev == "worktree":
        info: dict[str, Any] = {"code": "worktree", "path": str(REPO)}
        with contextlib.suppress(Exception):
            info["head"] = _git("rev-parse", "HEAD")
            changed = _git("status", "--porcelain", "--", "fraud_assets", "dagster.yaml")
            info["uncommitted_files"] = len(changed.splitlines())
        expected = REPO / "fraud_assets"
    else:
        sha = _git("rev-parse", "--verify", f"{rev}^{{commit}}")
        dest = home / "code" / sha[:12]
        if not (dest / ".complete").exists():
            tmp = dest.with_name(dest.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            archive = subprocess.run(
                ["git", "-C", str(REPO), "archive", sha, "fraud_assets", "dagster.yaml"],
                capture_output=True,
                check=True,
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
            (tmp / ".complete").write_text(sha + "\n")
            shutil.rmtree(dest, ignore_errors=True)
            os.replace(tmp, dest)
        sys.path.insert(0, str(dest))
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [str(dest), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        info = {"code": rev, "commit": sha, "path": str(dest)}
        expected = dest / "fraud_assets"
    import fraud_assets

    imported = Path(fraud_assets.__file__).resolve().parent
    if imported != expected.resolve():
        raise RuntimeError(f"fraud_assets imported from {imported}, expected {expected}")
    info["imported_from"] = str(imported)
    info["source_sha256"] = _source_digest(imported)
    log(f"code: {info}")
    return info


def setup_environment(home: Path) -> dict[str, str]:
    """FRAUD_HOME=home, the embedded PostgreSQL started and migrated, env vars set.

    Must run before fraud_assets.definitions is imported: its resources read the lake
    and landing locations from the environment at import time.
    """
    for key in FOREIGN_ENV:
        if os.environ.pop(key, None) is not None:
            log(f"ignoring {key} from the environment (the benchmark uses its own under --home)")
    os.environ["FRAUD_HOME"] = str(home)
    os.environ["FRAUD_ENV"] = "local"
    from fraud_assets.local import prepare_local_environment

    return prepare_local_environment()


def conninfo() -> str:
    from fraud_assets.local import database_conninfo

    return database_conninfo()


@dataclass
class BenchState:
    day: dt.date
    per_day: int
    history_days: int
    seed: int
    generated: bool = False
    generate_seconds: float | None = None
    code_commit: str | None = None  # the commit prepare materialized the history with
    day_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def history(self) -> list[dt.date]:
        return [self.day - dt.timedelta(days=k) for k in range(self.history_days, 0, -1)]

    @property
    def first_day(self) -> dt.date:
        return self.day - dt.timedelta(days=self.history_days)

    def to_json(self) -> str:
        d = dict(self.__dict__)
        d["day"] = self.day.isoformat()
        return json.dumps(d, indent=2, sort_keys=True)

    @staticmethod
    def load(home: Path) -> BenchState | None:
        path = home / STATE_FILE
        if not path.exists():
            return None
        d = json.loads(path.read_text())
        d["day"] = dt.date.fromisoformat(d["day"])
        return BenchState(**d)

    def save(self, home: Path) -> None:
        tmp = home / (STATE_FILE + ".tmp")
        tmp.write_text(self.to_json())
        os.replace(tmp, home / STATE_FILE)


def lake_manifest_path(home: Path, dataset: str, day: dt.date) -> Path:
    from fraud_assets.resources.lake import MANIFEST, partition_path

    return home / "lake" / partition_path(dataset, day) / MANIFEST


def lake_day_done(home: Path, day: dt.date) -> bool:
    return all(lake_manifest_path(home, ds, day).exists() for ds in LAKE_DATASETS)


def pg_partition_exists(conn, day: dt.date) -> bool:
    from fraud_assets.db.transaction_store import day_table

    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (day_table(day),)).fetchone()[0]


def landing_day_present(home: Path, day: dt.date) -> bool:
    folder = home / "landing" / "transactions" / f"date={day.isoformat()}"
    return folder.is_dir() and any(folder.glob("*.csv"))


# ------------------------------------------------------------------------------ prepare


def cmd_prepare(args: argparse.Namespace) -> int:
    home = Path(args.home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    previous = BenchState.load(home)
    code = use_code(home, args.code or (previous.code_commit if previous else None) or "HEAD")
    commit = code.get("commit") or "worktree"
    if previous and previous.code_commit and previous.code_commit != commit:
        print(
            f"{home} was prepared with code {previous.code_commit}, not {commit}: resume with "
            f"--code {previous.code_commit} (or use another --home)",
            file=sys.stderr,
        )
        return 2
    wanted = BenchState(
        day=args.day, per_day=args.per_day, history_days=args.history_days, seed=args.seed
    )
    state = BenchState.load(home)
    if state is not None:
        same = (state.day, state.per_day, state.history_days, state.seed) == (
            wanted.day,
            wanted.per_day,
            wanted.history_days,
            wanted.seed,
        )
        if not same:
            print(
                f"{home} was prepared for day={state.day} per_day={state.per_day} "
                f"history_days={state.history_days} seed={state.seed}, not for day={wanted.day} "
                f"per_day={wanted.per_day} history_days={wanted.history_days} seed={wanted.seed}: "
                "use another --home (or delete this one)",
                file=sys.stderr,
            )
            return 2
    else:
        state = wanted
    state.code_commit = commit

    # Disk: what is still to be written (days already in the lake are assumed done).
    todo = [d for d in state.history if not lake_day_done(home, d)]
    rows_m = state.per_day / 1e6
    need_gb = rows_m * (
        (0 if state.generated else LANDING_GB_PER_M * (state.history_days + 1))
        + (PG_GB_PER_M + LAKE_GB_PER_M) * (len(todo) + 1)  # + 1: the benchmark day itself
    )
    free_gb = shutil.disk_usage(home).free / 1e9
    log(f"disk: {free_gb:.1f} GB free under {home}, about {need_gb:.1f} GB still needed")
    if free_gb < need_gb and not args.skip_disk_check:
        print(
            f"refusing: {free_gb:.1f} GB free on the file system of {home}, but preparing "
            f"{state.history_days + 1} days x {state.per_day:,} rows needs about {need_gb:.1f} GB "
            f"more (landing CSV {LANDING_GB_PER_M} GB + PostgreSQL {PG_GB_PER_M} GB + lake "
            f"{LAKE_GB_PER_M} GB per 1M rows and day). Free space or choose a smaller "
            "--per-day / --history-days (or --skip-disk-check).",
            file=sys.stderr,
        )
        return 2

    started = time.perf_counter()
    setup_environment(home)
    state.save(home)
    log(f"PostgreSQL up, FRAUD_HOME={home}")

    if not state.generated or not all(
        landing_day_present(home, d) for d in [*state.history, state.day]
    ):
        from fraud_assets.demo import GeneratorConfig, generate

        log(
            f"generating landing feeds {state.first_day} .. {state.day} "
            f"({state.history_days + 1} days x {state.per_day:,} rows, seed {state.seed})"
        )
        t = time.perf_counter()
        config = GeneratorConfig(
            start=state.first_day,
            days=state.history_days + 1,
            transactions_per_day=state.per_day,
            seed=state.seed,
        )
        summary = generate(config, home / "landing", home / "ground_truth")
        state.generated = True
        state.generate_seconds = round(time.perf_counter() - t, 1)
        state.save(home)
        log(
            f"generated {summary.transactions:,} transactions ({summary.frauds:,} fraudulent) in {state.generate_seconds} s"
        )
    else:
        log("landing feeds already generated")

    import psycopg

    from fraud_assets.cli import materialize_days

    with psycopg.connect(conninfo(), autocommit=True) as conn:
        done = {d for d in state.history if lake_day_done(home, d) and pg_partition_exists(conn, d)}
    log(f"{len(done)} of {len(state.history)} history days already materialized")
    for i, day in enumerate(state.history, 1):
        if day in done:
            log(f"day {i}/{len(state.history)} {day}: already materialized, skipped")
            continue
        t = time.perf_counter()
        ok = materialize_days([day])
        attempt = 1
        while not ok and attempt <= args.retries:
            attempt += 1
            log(
                f"day {i}/{len(state.history)} {day}: failed after {time.perf_counter() - t:.1f} s "
                f"(see above); attempt {attempt} of {args.retries + 1}"
            )
            t = time.perf_counter()
            ok = materialize_days([day])
        seconds = time.perf_counter() - t
        if not ok:
            log(
                f"day {i}/{len(state.history)} {day}: FAILED after {seconds:.1f} s (see above); stopping"
            )
            return 1
        state.day_seconds[day.isoformat()] = round(seconds, 1)
        state.save(home)
        log(
            f"day {i}/{len(state.history)} {day}: materialized in {seconds:.1f} s "
            f"(this prepare: {time.perf_counter() - started:.0f} s)"
        )
    total_day_s = sum(state.day_seconds.values())
    log(
        f"prepared {home}: {state.history_days} history days + landing for {state.day}; "
        f"this invocation {time.perf_counter() - started:.0f} s; generation {state.generate_seconds} s; "
        f"materialization of the history days {total_day_s:.0f} s in total "
        f"({total_day_s / max(len(state.day_seconds), 1):.1f} s per day)"
    )
    if args.stop_db:
        stop_db(home)
    return 0


def stop_db(home: Path) -> None:
    from fraud_assets.db.local_cluster import stop_local_cluster

    stop_local_cluster(home / "postgres")
    log(f"stopped the embedded PostgreSQL under {home / 'postgres'}")


# ------------------------------------------------------------------------ memory sampler


def _read_procs() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, utime + stime in clock ticks) for every process."""
    procs = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        # comm may contain spaces and parentheses: fields start after the last ')'.
        rest = data[data.rfind(b")") + 2 :].split()
        procs[int(entry.name)] = (int(rest[1]), int(rest[11]) + int(rest[12]))
    return procs


def _cmdline(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        return cmd.decode(errors="replace").strip()[:160] or _comm(pid)
    except OSError:
        return "?"


def _descendants(root: int, ppids: dict[int, int]) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, ppid in ppids.items():
        children.setdefault(ppid, []).append(pid)
    out, stack = [], [root]
    while stack:
        pid = stack.pop()
        out.append(pid)
        stack.extend(children.get(pid, ()))
    return out


def _status_rss(pid: int) -> int:
    """VmRSS in bytes (0 if gone or a kernel thread)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _fork_before_exec(pid: int, parent: int) -> bool:
    """A child forked by a multi-threaded parent (the JVM starting a Python worker) that has
    not exec'd yet: same binary and command line as its parent, named after the forking
    thread (e.g. "Executor task l"). Its VmRSS is the parent's copy-on-write pages, so
    counting it would count the JVM twice."""
    try:
        same_exe = os.readlink(f"/proc/{pid}/exe") == os.readlink(f"/proc/{parent}/exe")
        same_cmd = (
            Path(f"/proc/{pid}/cmdline").read_bytes()
            == Path(f"/proc/{parent}/cmdline").read_bytes()
        )
    except OSError:
        return False
    return same_exe and same_cmd and _comm(pid) != _comm(parent)


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


class MemorySampler(threading.Thread):
    """Peak RSS of (a) this process + descendants and (b) the PostgreSQL server, by stage."""

    def __init__(self, postmaster_pid: int | None, interval: float = 0.2):
        super().__init__(daemon=True, name="memory-sampler")
        self.root = os.getpid()
        self.postmaster = postmaster_pid
        self.interval = interval
        self.stage = "setup"
        self.samples = 0
        self.peak_tree = 0
        self.peak_tree_detail: dict[str, int] = {}
        self.peak_tree_stage = ""
        self.peak_pg_rss = 0
        self.peak_pg_pss = 0
        self.peak_pg_stage = ""
        self.stage_peaks: dict[str, dict[str, int]] = {}
        # CPU ticks by stage: ours (this tree + our PostgreSQL) and everyone else's.
        self.stage_cpu: dict[str, dict[str, int]] = {}
        self.other_cpu: dict[int, int] = {}
        self.other_cmd: dict[int, str] = {}
        self._last_cpu: dict[int, int] = {}
        self.skipped_forks = 0
        self._halt = threading.Event()
        self._lock = threading.Lock()

    def set_stage(self, name: str) -> None:
        with self._lock:
            self.stage = name

    def run(self) -> None:
        while not self._halt.is_set():
            with contextlib.suppress(Exception):  # never let the sampler take the benchmark down
                self.sample()
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)
        self.sample()

    def sample(self) -> None:
        procs = _read_procs()
        ppids = {pid: v[0] for pid, v in procs.items()}
        pg = (
            set(_descendants(self.postmaster, ppids))
            if self.postmaster and self.postmaster in ppids
            else set()
        )
        tree = [p for p in _descendants(self.root, ppids) if p not in pg]
        detail: dict[str, int] = {}
        total = 0
        for pid in tree:
            if pid != self.root and _fork_before_exec(pid, ppids.get(pid, 0)):
                self.skipped_forks += 1
                continue
            rss = _status_rss(pid)
            total += rss
            name = "python (this process)" if pid == self.root else _comm(pid)
            detail[name] = detail.get(name, 0) + rss
        pg_rss = sum(_status_rss(p) for p in pg)
        pg_pss = sum(_pss(p) for p in pg)
        ours = pg.union(tree)
        ours_ticks = other_ticks = 0
        for pid, (_, ticks) in procs.items():
            delta = ticks - self._last_cpu.get(pid, ticks)
            if pid in ours:
                ours_ticks += delta
            elif delta > 0:
                other_ticks += delta
                self.other_cpu[pid] = self.other_cpu.get(pid, 0) + delta
                if pid not in self.other_cmd:
                    self.other_cmd[pid] = _cmdline(pid)
        self._last_cpu = {pid: v[1] for pid, v in procs.items()}
        with self._lock:
            self.samples += 1
            stage = self.stage
            cpu = self.stage_cpu.setdefault(stage, {"ours": 0, "others": 0})
            cpu["ours"] += ours_ticks
            cpu["others"] += other_ticks
            if total > self.peak_tree:
                self.peak_tree, self.peak_tree_detail, self.peak_tree_stage = total, detail, stage
            if pg_pss > self.peak_pg_pss:
                self.peak_pg_pss = pg_pss
            if pg_rss > self.peak_pg_rss:
                self.peak_pg_rss, self.peak_pg_stage = pg_rss, stage
            peaks = self.stage_peaks.setdefault(stage, {"tree_rss": 0, "pg_rss": 0, "pg_pss": 0})
            peaks["tree_rss"] = max(peaks["tree_rss"], total)
            peaks["pg_rss"] = max(peaks["pg_rss"], pg_rss)
            peaks["pg_pss"] = max(peaks["pg_pss"], pg_pss)

    def top_others(self, n: int = 8, min_seconds: float = 1.0) -> list[str]:
        """Other processes by CPU seconds used while the sampler ran."""
        hz = os.sysconf("SC_CLK_TCK")
        top = sorted(self.other_cpu.items(), key=lambda kv: -kv[1])[:n]
        return [
            f"pid {pid}: {ticks / hz:.1f} CPU s, {self.other_cmd.get(pid, '?')}"
            for pid, ticks in top
            if ticks / hz >= min_seconds
        ]


# ------------------------------------------------------------------------- machine facts


def _cpu_times() -> tuple[int, int]:
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + parts[4]  # idle + iowait
    return sum(parts[:8]), idle


def _cpu_pressure_us() -> int | None:
    """Total microseconds some runnable task waited for a CPU (PSI), if the kernel has it."""
    try:
        with open("/proc/pressure/cpu") as f:
            for line in f:
                if line.startswith("some"):
                    return int(line.rsplit("total=", 1)[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


class CpuWindow:
    """Machine-wide busy cores over a stage (ours and everyone else's)."""

    def __init__(self) -> None:
        self.total, self.idle = _cpu_times()
        self.pressure = _cpu_pressure_us()
        self.started = time.perf_counter()

    def pressure_share(self) -> float | None:
        """Share of the window during which some task waited for a CPU (PSI 'some')."""
        now = _cpu_pressure_us()
        if now is None or self.pressure is None:
            return None
        elapsed = time.perf_counter() - self.started
        return round((now - self.pressure) / 1e6 / elapsed, 2) if elapsed > 0 else None

    def busy_cores(self) -> float:
        total, idle = _cpu_times()
        dt_total = total - self.total
        if dt_total <= 0:
            return 0.0
        return round((dt_total - (idle - self.idle)) / dt_total * (os.cpu_count() or 1), 2)


def machine_facts(pg_version: str | None) -> dict[str, Any]:
    import dagster
    import pyarrow
    import pyspark

    mem = {}
    with open("/proc/meminfo") as f:
        for line in f:
            key, value = line.split(":", 1)
            mem[key] = int(value.split()[0]) * 1024
    try:
        java = subprocess.run(
            ["java", "-version"], capture_output=True, text=True, timeout=30
        ).stderr.splitlines()[0]
    except Exception as exc:  # noqa: BLE001
        java = f"unknown ({exc})"
    try:
        os_name = platform.freedesktop_os_release().get("PRETTY_NAME", platform.platform())
    except OSError:
        os_name = platform.platform()
    return {
        "nproc": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "memory_total": gib(mem.get("MemTotal", 0)),
        "memory_available_at_start": gib(mem.get("MemAvailable", 0)),
        "os": os_name,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "pyspark": pyspark.__version__,
        "dagster": dagster.__version__,
        "pyarrow": pyarrow.__version__,
        "postgresql": pg_version,
        "java": java,
    }


# -------------------------------------------------------------------------- stage runs


@dataclass
class Stage:
    name: str
    wall_s: float | None = None
    rows: int | None = None
    ok: bool = True
    notes: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    step_s: float | None = None
    busy_cores: float | None = None
    ours_cores: float | None = None
    cpu_pressure: float | None = None
    retries: int = 0
    retry_errors: list[str] = field(default_factory=list)
    others_cores: float | None = None
    loadavg_end: str | None = None
    peak: dict[str, int] = field(default_factory=dict)

    @property
    def rows_per_s(self) -> float | None:
        if self.rows is None or not self.wall_s:
            return None
        return self.rows / self.wall_s


def _plain(value: Any) -> Any:
    v = getattr(value, "value", value)
    try:
        json.dumps(v)
        return v
    except TypeError:
        return str(v)


def run_asset(job, instance, asset: str, day: dt.date, run_config: dict) -> tuple[float, Any]:
    from dagster import AssetKey

    t = time.perf_counter()
    result = job.execute_in_process(
        partition_key=day.isoformat(),
        instance=instance,
        asset_selection=[AssetKey(asset)],
        run_config=run_config,
        raise_on_error=False,
    )
    return time.perf_counter() - t, result


def collect(stage: Stage, result: Any) -> None:
    """Success, metadata, check results and errors of one asset run into `stage`."""
    import dagster as dg

    stage.ok = bool(result.success)
    for event in result.get_asset_materialization_events():
        stage.metadata = {k: _plain(v) for k, v in event.materialization.metadata.items()}
    for evaluation in result.get_asset_check_evaluations():
        stage.checks.append(
            {
                "check": evaluation.check_name,
                "passed": evaluation.passed,
                "blocking": evaluation.blocking,
                "severity": str(evaluation.severity.value if evaluation.severity else None),
                "metadata": {k: _plain(v) for k, v in evaluation.metadata.items()},
            }
        )
        blocking = evaluation.blocking or evaluation.severity == dg.AssetCheckSeverity.ERROR
        if not evaluation.passed and blocking:
            stage.ok = False
    # The asset's own step (a run may hold further steps, e.g. separate asset checks).
    for event in result.get_step_success_events():
        duration = getattr(event.event_specific_data, "duration_ms", None)
        if duration is not None and event.step_key == stage.name:
            stage.step_s = round(duration / 1000, 2)
    errors = []
    for event in result.all_events:
        if event.event_type_value == "STEP_UP_FOR_RETRY":
            stage.retries += 1
            error = getattr(event.event_specific_data, "error", None)
            stage.retry_errors.append(error.to_string() if error is not None else event.message)
        if event.is_failure:
            data = event.event_specific_data
            error = getattr(data, "error", None)
            errors.append(f"{event.event_type_value} {event.step_key or ''}: {event.message}")
            if error is not None:
                errors.append(error.to_string())
    if errors:
        stage.error = "\n".join(errors)
        stage.ok = False


def reset_day(home: Path, day: dt.date) -> list[str]:
    """Remove what day D has in PostgreSQL and the lake, so the run loads a new day."""
    import psycopg
    from psycopg import sql

    from fraud_assets.db.transaction_store import day_table
    from fraud_assets.resources.lake import partition_path

    done = []
    start = dt.datetime.combine(day, dt.time())
    with psycopg.connect(conninfo(), autocommit=True) as conn:
        for (name,) in conn.execute(
            "SELECT relname FROM pg_class WHERE relname LIKE %s AND relkind IN ('r','p') AND NOT relispartition",
            (day_table(day) + "_l%",),
        ).fetchall():
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(sql.Identifier(name)))
        if pg_partition_exists(conn, day):
            conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(day_table(day))))
            done.append(f"dropped {day_table(day)}")
        n = conn.execute(
            "DELETE FROM transactions_quarantine WHERE partition_date = %s", (day,)
        ).rowcount
        if n:
            done.append(f"deleted {n} quarantine rows")
        n = conn.execute(
            "DELETE FROM fraud_alerts WHERE transaction_date >= %s AND transaction_date < %s",
            (start, start + dt.timedelta(days=1)),
        ).rowcount
        if n:
            done.append(f"deleted {n} fraud_alerts rows")
        conn.execute("CHECKPOINT")
    for dataset in LAKE_DATASETS:
        folder = home / "lake" / partition_path(dataset, day)
        if folder.exists():
            shutil.rmtree(folder)
            done.append(f"removed lake {partition_path(dataset, day)}")
        for staging in folder.parent.glob(f".{folder.name}.*") if folder.parent.exists() else ():
            shutil.rmtree(staging, ignore_errors=True)
    return done


INDEX_QUERY = """
SELECT t.relid::regclass::text AS leaf, i.indexrelid::regclass::text AS index, am.amname,
       i.indisprimary, i.indisvalid, i.indisready, pg_get_indexdef(i.indexrelid) AS def,
       EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid) AS attached
  FROM pg_partition_tree(%s::regclass) t
  JOIN pg_index i ON i.indrelid = t.relid
  JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_am am ON am.oid = c.relam
 WHERE t.isleaf
 ORDER BY 1, 2
"""


def verify_indexes(day: dt.date) -> tuple[bool, list[str], dict[str, Any]]:
    import psycopg

    from fraud_assets.db.transaction_store import day_table

    with psycopg.connect(conninfo(), autocommit=True) as conn:
        rows = conn.execute(INDEX_QUERY, (day_table(day),)).fetchall()
        leaves = [
            r[0]
            for r in conn.execute(
                "SELECT relid::regclass::text FROM pg_partition_tree(%s::regclass) WHERE isleaf ORDER BY 1",
                (day_table(day),),
            )
        ]
        sizes = conn.execute(
            "SELECT sum(pg_table_size(relid)), sum(pg_indexes_size(relid)) FROM pg_partition_tree(%s::regclass) WHERE isleaf",
            (day_table(day),),
        ).fetchone()
    notes, ok, per_leaf = [], bool(leaves), {}
    for leaf in leaves:
        mine = [r for r in rows if r[0] == leaf]
        pk = [r for r in mine if r[3]]
        btree = [r for r in mine if not r[3] and r[2] == "btree"]
        invalid = [r[1] for r in mine if not (r[4] and r[5])]
        detached = [r[1] for r in mine if not r[7]]
        leaf_ok = (
            len(pk) == 1
            and pk[0][2] == "btree"
            and len(btree) >= EXPECTED_BTREE
            and not invalid
            and not detached
        )
        ok = ok and leaf_ok
        per_leaf[leaf] = [
            {
                "index": r[1],
                "am": r[2],
                "primary": r[3],
                "valid": r[4],
                "ready": r[5],
                "attached": r[7],
                "def": r[6],
            }
            for r in mine
        ]
        notes.append(
            f"{leaf}: PK {len(pk)}, B-tree {len(btree)}, invalid {len(invalid)}, not attached to parent index {len(detached)}"
            + ("" if leaf_ok else " <- NOT OK")
        )
    extra = {
        "leaves": per_leaf,
        "table_bytes": int(sizes[0] or 0),
        "index_bytes": int(sizes[1] or 0),
    }
    return ok, notes, extra


def gin_index(day: dt.date) -> tuple[float, dict[str, float]]:
    """CREATE INDEX ... USING gin (raw_data) on each leaf of D (one connection per leaf, as
    the loader builds a day's slices side by side), then drop them. Returns wall and per-leaf."""
    from concurrent.futures import ThreadPoolExecutor

    import psycopg
    from psycopg import sql

    from fraud_assets.db.transaction_store import day_table

    with psycopg.connect(conninfo(), autocommit=True) as conn:
        leaves = [
            r[0]
            for r in conn.execute(
                "SELECT c.relname FROM pg_partition_tree(%s::regclass) t JOIN pg_class c ON c.oid = t.relid WHERE t.isleaf ORDER BY 1",
                (day_table(day),),
            )
        ]

    def build(leaf: str) -> float:
        name = sql.Identifier(f"bench_gin_{leaf}"[:63])
        with psycopg.connect(conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(name))
            t = time.perf_counter()
            conn.execute(
                sql.SQL("CREATE INDEX {} ON {} USING gin (raw_data)").format(
                    name, sql.Identifier(leaf)
                )
            )
            seconds = time.perf_counter() - t
            conn.execute(sql.SQL("DROP INDEX {}").format(name))
            return seconds

    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(len(leaves), 1)) as pool:
        per_leaf = dict(zip(leaves, pool.map(build, leaves), strict=True))
    return time.perf_counter() - t, {k: round(v, 2) for k, v in per_leaf.items()}


def postmaster_pid(home: Path) -> int | None:
    try:
        return int((home / "postgres" / "pgdata" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# ---------------------------------------------------------------------------------- run


def cmd_run(args: argparse.Namespace) -> int:
    home = Path(args.home).resolve()
    state = BenchState.load(home)
    if state is None:
        print(
            f"{home} is not prepared: run `bench_day.py prepare --home {home}` first",
            file=sys.stderr,
        )
        return 2
    code = use_code(home, args.code or state.code_commit or "worktree")
    day = state.day
    missing = [d for d in state.history if not lake_day_done(home, d)]
    if missing or not landing_day_present(home, day):
        print(
            f"{home} is not fully prepared ({len(missing)} history days missing in the lake"
            f"{'' if landing_day_present(home, day) else ', no landing feed for ' + str(day)}): "
            f"re-run prepare",
            file=sys.stderr,
        )
        return 2

    run_started = dt.datetime.now(dt.UTC)
    log(f"benchmark day {day}, {state.per_day:,} rows per day, FRAUD_HOME={home}")
    setup_environment(home)
    import psycopg

    with psycopg.connect(conninfo(), autocommit=True) as conn:
        pg_version = conn.execute("SHOW server_version").fetchone()[0]
        absent = [d for d in state.history if not pg_partition_exists(conn, d)]
    if absent:
        print(
            f"PostgreSQL lacks {len(absent)} history partitions (e.g. {absent[0]}): re-run prepare",
            file=sys.stderr,
        )
        return 2
    facts = machine_facts(pg_version)

    if args.keep_day:
        reset_notes = ["--keep-day: D's previous content kept (measures a re-run)"]
    else:
        reset_notes = reset_day(home, day) or ["D had nothing to remove"]
    log("reset: " + "; ".join(reset_notes))

    pm = postmaster_pid(home)
    sampler = MemorySampler(pm)
    sampler.start()
    loadavg_start = Path("/proc/loadavg").read_text().split()[:3]
    whole_run = CpuWindow()
    log(f"load average {' '.join(loadavg_start)}")

    from dagster import DagsterInstance

    from fraud_assets.definitions import defs

    job = defs.resolve_job_def("daily_fraud_detection")
    instance = DagsterInstance.get()
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    configs = {
        "postgres_transactions": {
            "ops": {"postgres_transactions": {"config": {"source_mode": "landing"}}},
            **quiet,
        },
        "s3_partitioned_parquet": quiet,
        "fraud_feedback": quiet,
        "fraud_features": quiet,
        "customer_profiles": quiet,
        "fraud_alerts": {
            "ops": {"fraud_alerts": {"config": {"min_risk_level": args.min_risk_level}}},
            **quiet,
        },
    }

    stages: dict[str, Stage] = {}
    event_dir = home / "spark-events" / run_started.strftime("%Y%m%dT%H%M%S")
    stage_windows: dict[str, tuple[float, float]] = {}  # epoch seconds, for the event log

    def timed(name: str, fn: Callable[[Stage], None]) -> Stage:
        stage = Stage(name)
        stages[name] = stage
        sampler.set_stage(name)
        cpu = CpuWindow()
        began = time.perf_counter()
        began_epoch = time.time()
        log(f"{name} ...")
        try:
            fn(stage)
        except Exception:  # noqa: BLE001 - report and go on with the other stages
            stage.ok = False
            stage.error = traceback.format_exc()
        stage.busy_cores = cpu.busy_cores()
        stage.cpu_pressure = cpu.pressure_share()
        elapsed = time.perf_counter() - began
        stage_windows[name] = (began_epoch, time.time())
        stage.loadavg_end = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        sampler.set_stage("between")
        stage.peak = dict(sampler.stage_peaks.get(name, {}))
        ticks = sampler.stage_cpu.get(name, {})
        hz = os.sysconf("SC_CLK_TCK")
        stage.ours_cores = round(ticks.get("ours", 0) / hz / elapsed, 2)
        stage.others_cores = round(ticks.get("others", 0) / hz / elapsed, 2)
        status = "ok" if stage.ok else "FAILED"
        wall = f"{stage.wall_s:.2f} s" if stage.wall_s is not None else "-"
        log(
            f"{name}: {status} {wall}"
            + (f", {stage.rows:,} rows" if stage.rows is not None else "")
        )
        if stage.error:
            log(f"{name} error:\n{stage.error}")
        return stage

    def asset_stage(
        asset: str, rows_key: str, notes: Callable[[dict], list[str]]
    ) -> Callable[[Stage], None]:
        def fn(stage: Stage) -> None:
            seconds, result = run_asset(job, instance, asset, day, configs[asset])
            stage.wall_s = round(seconds, 2)
            collect(stage, result)
            md = stage.metadata
            if md.get(rows_key) is not None:
                stage.rows = int(md[rows_key])
            if md:
                print(
                    json.dumps({"asset": asset, "metadata": md}, indent=1, default=str), flush=True
                )
            for check in stage.checks:
                print(
                    f"   check {check['check']}: {'passed' if check['passed'] else 'FAILED'} {check['metadata']}",
                    flush=True,
                )
            stage.notes = (
                notes(md)
                + (
                    [f"Dagster step {stage.step_s} s of the run's {stage.wall_s} s"]
                    if stage.step_s is not None
                    else []
                )
                + [
                    f"check {c['check']}: {'passed' if c['passed'] else 'FAILED'}"
                    f"{'' if c['blocking'] else ' (non-blocking)'}"
                    for c in stage.checks
                ]
                + (["no check result reported"] if not stage.checks else [])
                + (
                    [
                        f"step retried {stage.retries}x (wall includes the retries): "
                        + (stage.retry_errors[0].strip().splitlines() or [""])[0]
                    ]
                    if stage.retries
                    else []
                )
            )

        return fn

    def load_notes(md: dict) -> list[str]:
        return [
            f"asset's own load_seconds {md.get('load_seconds')} s = {md.get('rows_per_second', 0):,} rows/s "
            "(read CSV + validate + COPY + PK/index build + swap)",
            f"quarantined {md.get('quarantined')}, replaced_rows {md.get('replaced_rows')}, feed {md.get('feed_bytes', 0) / 1e9:.2f} GB",
        ]

    def export_notes(md: dict) -> list[str]:
        return [
            f"export_seconds {md.get('export_seconds')} s, {md.get('files')} files, "
            f"{md.get('bytes', 0) / 1e6:.0f} MB Parquet (zstd, {md.get('compression_ratio')}x vs Arrow)"
        ]

    def features_notes(md: dict) -> list[str]:
        return [
            f"history_days_used {md.get('history_days_used')}, recomputed {md.get('history_days_recomputed')}, "
            f"missing {md.get('history_days_missing')}, previous_day_present {md.get('previous_day_present')}",
            "Spark session already started (see spark_session_start)",
        ]

    def alerts_notes(md: dict) -> list[str]:
        return [
            f"rows = scored transactions; {md.get('dagster/row_count')} alerts at >= {md.get('min_risk_level')} "
            f"{md.get('alerts_by_risk_level')}, inserted {md.get('alerts_inserted')}, updated {md.get('alerts_updated')}",
        ]

    timed("postgres_transactions", asset_stage("postgres_transactions", "records_read", load_notes))

    def index_check(stage: Stage) -> None:
        t = time.perf_counter()
        ok, notes, extra = verify_indexes(day)
        stage.wall_s = round(time.perf_counter() - t, 2)
        stage.ok, stage.notes, stage.metadata = ok, notes, extra
        stage.notes.append(
            f"table {extra['table_bytes'] / 1e9:.2f} GB, indexes {extra['index_bytes'] / 1e9:.2f} GB"
        )
        for line in notes:
            print("   " + line, flush=True)

    timed("verify_pk_and_btree_indexes", index_check)
    timed(
        "s3_partitioned_parquet",
        asset_stage("s3_partitioned_parquet", "dagster/row_count", export_notes),
    )

    def spark_start(stage: Stage) -> None:
        from dagster_pyspark.resources import spark_session_from_config

        # The event log (a local file, cheap) lets the report say which Spark stages of
        # each asset took the time.
        event_dir.mkdir(parents=True, exist_ok=True)
        config = {
            **defs.resources["pyspark"].spark_config,
            "spark.eventLog.enabled": "true",
            "spark.eventLog.dir": event_dir.as_uri(),
            "spark.eventLog.compress": "false",
        }
        t = time.perf_counter()
        spark = spark_session_from_config(config)
        stage.wall_s = round(time.perf_counter() - t, 2)
        stage.notes = [
            f"SparkSession.builder.getOrCreate() with the pyspark resource's config, {spark.sparkContext.master}"
        ]

    # Before fraud_feedback, the first asset that uses Spark: the session (and its event
    # log) must be this one.
    timed("spark_session_start", spark_start)
    # The day's labels (reviews + chargebacks known before D): an input of the features.
    timed(
        "fraud_feedback",
        asset_stage("fraud_feedback", "dagster/row_count", lambda md: []),
    )
    timed("fraud_features", asset_stage("fraud_features", "dagster/row_count", features_notes))
    timed("fraud_alerts", asset_stage("fraud_alerts", "scored_transactions", alerts_notes))
    # After the alerts in the daily job; outside the chain the target is about.
    timed(
        "customer_profiles",
        asset_stage("customer_profiles", "dagster/row_count", lambda md: []),
    )

    if not args.skip_gin:

        def gin(stage: Stage) -> None:
            wall, per_leaf = gin_index(day)
            stage.wall_s = round(wall, 2)
            stage.rows = stages["postgres_transactions"].rows
            stage.notes = [
                f"per leaf {per_leaf} (built side by side, one connection per leaf), then dropped"
            ]

        timed("gin_index_raw_data", gin)

    sampler.set_stage("end")
    sampler.stop()
    spark_profile = spark_stage_profile(event_dir, stage_windows)
    others = sampler.top_others()
    loadavg_end = Path("/proc/loadavg").read_text().split()[:3]

    chain_names = (
        "s3_partitioned_parquet",
        "spark_session_start",
        "fraud_feedback",
        "fraud_features",
        "fraud_alerts",
    )
    chain_ok = all(stages[n].ok and stages[n].wall_s is not None for n in chain_names)
    chain_s = round(sum(stages[n].wall_s or 0 for n in chain_names), 2)
    load = stages["postgres_transactions"]
    summary = {
        "chain_export_features_alerts_with_spark_start_s": chain_s if chain_ok else None,
        "chain_target_s": TARGET_CHAIN_S,
        "chain_meets_target": chain_ok and chain_s <= TARGET_CHAIN_S,
        "day_total_s": round(chain_s + (load.wall_s or 0), 2) if chain_ok and load.ok else None,
        "postgres_load_rows_per_s_wall": round(load.rows_per_s) if load.rows_per_s else None,
        "postgres_load_rows_per_s_asset": load.metadata.get("rows_per_second"),
        "postgres_load_target_rows_per_s": TARGET_LOAD_ROWS_S,
        "postgres_load_meets_target": bool(
            load.rows_per_s and load.rows_per_s >= TARGET_LOAD_ROWS_S
        ),
        "indexes_verified": stages["verify_pk_and_btree_indexes"].ok,
        "peak_tree_rss_bytes": sampler.peak_tree,
        "peak_tree_rss": gib(sampler.peak_tree),
        "peak_tree_stage": sampler.peak_tree_stage,
        "peak_tree_breakdown": {
            k: gib(v) for k, v in sorted(sampler.peak_tree_detail.items(), key=lambda kv: -kv[1])
        },
        "peak_tree_meets_target": sampler.peak_tree < TARGET_TREE_RSS,
        "peak_pg_rss_sum": gib(sampler.peak_pg_rss),
        "peak_pg_rss_stage": sampler.peak_pg_stage,
        "peak_pg_pss_sum": gib(sampler.peak_pg_pss),
        "memory_samples": sampler.samples,
        "memory_samples_skipped_forks": sampler.skipped_forks,
        "all_ok": all(s.ok for s in stages.values()),
    }
    report = {
        "benchmark": "bench_day",
        "started_utc": run_started.isoformat(timespec="seconds"),
        "home": str(home),
        "day": day.isoformat(),
        "per_day": state.per_day,
        "history_days": state.history_days,
        "seed": state.seed,
        "reset": reset_notes,
        "prepare": {
            "generate_seconds": state.generate_seconds,
            "history_days_seconds_total": round(sum(state.day_seconds.values()), 1),
            "history_days_timed": len(state.day_seconds),
            "history_day_seconds": state.day_seconds,
        },
        "machine": facts,
        "code": code,
        "history_prepared_with": state.code_commit,
        "load": {
            "loadavg_start": loadavg_start,
            "loadavg_end": loadavg_end,
            "other_processes_top_cpu": others,
            "machine_busy_cores": whole_run.busy_cores(),
            "cpu_pressure_some": whole_run.pressure_share(),
        },
        "stages": {
            n: {
                "ok": s.ok,
                "wall_s": s.wall_s,
                "rows": s.rows,
                "rows_per_s": round(s.rows_per_s) if s.rows_per_s else None,
                "dagster_step_s": s.step_s,
                "machine_busy_cores": s.busy_cores,
                "our_cores": s.ours_cores,
                "cpu_pressure_some": s.cpu_pressure,
                "other_processes_cores": s.others_cores,
                "loadavg_end": s.loadavg_end,
                "peak_tree_rss": gib(s.peak.get("tree_rss", 0)),
                "peak_pg_rss_sum": gib(s.peak.get("pg_rss", 0)),
                "peak_pg_pss_sum": gib(s.peak.get("pg_pss", 0)),
                "notes": s.notes,
                "checks": s.checks,
                "metadata": s.metadata,
                "error": s.error,
                "retries": s.retries,
                "retry_errors": s.retry_errors,
            }
            for n, s in stages.items()
        },
        "summary": summary,
        "spark_stages": spark_profile,
    }
    markdown = render_markdown(report, stages)
    print()
    print(markdown, flush=True)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stem = f"{run_started.date().isoformat()}-{state.per_day}"
    n = 1
    while (RESULTS_DIR / f"{stem}.json").exists():
        n += 1
        stem = f"{run_started.date().isoformat()}-{state.per_day}-{n}"
    (RESULTS_DIR / f"{stem}.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    (RESULTS_DIR / f"{stem}.md").write_text(markdown + "\n")
    log(f"wrote {RESULTS_DIR / stem}.json and .md")
    if args.stop_db:
        stop_db(home)
    return 0 if summary["all_ok"] else 1


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}" if digits else f"{value:,.0f}"


def render_markdown(report: dict, stages: dict[str, Stage]) -> str:
    s = report["summary"]
    m = report["machine"]
    lines = [
        f"# bench_day: {report['day']}, {report['per_day']:,} rows/day, {report['history_days']} history days",
        "",
        f"Run {report['started_utc']} on {m['nproc']} cores ({m['cpus_usable']} usable), {m['memory_total']} RAM, "
        f"{m['os']} (kernel {m['kernel']}); Python {m['python']}, PySpark {m['pyspark']}, Dagster {m['dagster']}, "
        f"pyarrow {m['pyarrow']}, PostgreSQL {m['postgresql']}, {m['java']}.",
        f"Load average at start {' '.join(report['load']['loadavg_start'])}, at end {' '.join(report['load']['loadavg_end'])}; "
        f"over the run the machine had {report['load']['machine_busy_cores']} cores busy and a CPU pressure of "
        f"{report['load']['cpu_pressure_some']}. "
        f"Other processes on the machine used {len(report['load']['other_processes_top_cpu'])} "
        "process(es) with >= 1 CPU s during the run (listed below); per stage, the notes give "
        "the average cores used by ours (this process tree + our PostgreSQL) and by others, "
        "and CPU pressure (share of the time some task waited for a CPU, /proc/pressure/cpu).",
        f"Code: fraud_assets from {report['code']['imported_from']} "
        f"({report['code'].get('commit') or 'work tree at ' + str(report['code'].get('head'))}"
        f"{', ' + str(report['code'].get('uncommitted_files')) + ' uncommitted files' if report['code'].get('uncommitted_files') else ''}; "
        f"source digest {report['code']['source_sha256']}); history prepared with {report['history_prepared_with']}.",
        f"Before the run: {'; '.join(report['reset'])}.",
        "",
        "| stage | wall s | rows | rows/s | notes |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for name, st in stages.items():
        notes = list(st.notes)
        notes.append(
            f"cores: ours {st.ours_cores}, others {st.others_cores}, machine busy {st.busy_cores}, "
            f"CPU pressure {st.cpu_pressure}"
        )
        if st.peak:
            notes.append(
                f"peak RSS (a) {gib(st.peak.get('tree_rss', 0))}, PostgreSQL RSS sum "
                f"{gib(st.peak.get('pg_rss', 0))} / PSS {gib(st.peak.get('pg_pss', 0))}"
            )
        else:
            notes.append("no memory sample (stage shorter than the 0.2 s period)")
        if not st.ok:
            first_error = (st.error or "check failed").strip().splitlines()
            notes.insert(0, "**FAILED**: " + (first_error[0] if first_error else ""))
        lines.append(
            f"| {name} | {_fmt(st.wall_s)} | {_fmt(st.rows, 0)} | {_fmt(st.rows_per_s, 0)} | "
            + "; ".join(n.replace("|", "/") for n in notes)
            + " |"
        )
    chain = s["chain_export_features_alerts_with_spark_start_s"]
    lines += [
        f"| **lake export + feedback + Spark start + features + alerts** | **{_fmt(chain)}** | | | target <= {TARGET_CHAIN_S:.0f} s: "
        f"{'met' if s['chain_meets_target'] else 'NOT met'} |",
        f"| **day total (load + chain)** | **{_fmt(s['day_total_s'])}** | | | |",
        "",
        f"- PostgreSQL load: {_fmt(s['postgres_load_rows_per_s_wall'], 0)} rows/s over the Dagster run's wall time, "
        f"{_fmt(s['postgres_load_rows_per_s_asset'], 0)} rows/s by the asset's own load_seconds; target >= "
        f"{TARGET_LOAD_ROWS_S:,} rows/s (wall): {'met' if s['postgres_load_meets_target'] else 'NOT met'}. "
        f"Primary key + {EXPECTED_BTREE} B-tree indexes valid and attached on every leaf of D: "
        f"{'yes' if s['indexes_verified'] else 'NO'}.",
        f"- Peak RSS (a), this process + descendants (Spark JVM, Python workers), sampled every 0.2 s: "
        f"{s['peak_tree_rss']} during {s['peak_tree_stage']} ({', '.join(f'{k} {v}' for k, v in s['peak_tree_breakdown'].items())}); "
        f"target < 4 GiB: {'met' if s['peak_tree_meets_target'] else 'NOT met'} "
        f"({s['memory_samples']} samples; JVM children caught between fork and exec, which "
        f"would count the JVM's pages twice, left out {s['memory_samples_skipped_forks']} times).",
        f"- Peak PostgreSQL server (b), postmaster + children: RSS sum {s['peak_pg_rss_sum']} (during {s['peak_pg_rss_stage']}; "
        f"counts shared buffers once per process that touched them), PSS sum {s['peak_pg_pss_sum']}.",
        f"- Prepare: generation {report['prepare']['generate_seconds']} s; {report['prepare']['history_days_timed']} history days "
        f"materialized in {report['prepare']['history_days_seconds_total']} s.",
    ]
    for line in report["load"]["other_processes_top_cpu"]:
        lines.append(f"- other process: `{line}`")
    if report.get("spark_stages"):
        lines += [
            "",
            "Spark stages that took the time (from the Spark event log; a stage's wall time "
            "overlaps others' when they run side by side):",
            "",
            "| asset | job description | Spark stage (call site) | wall s | tasks |",
            "| --- | --- | --- | ---: | ---: |",
        ]
        for asset, rows in report["spark_stages"].items():
            for r in rows:
                lines.append(
                    f"| {asset} | {r.get('job', '')} | `{r['name']}` | {r['seconds']:.2f} | {r['tasks']} |"
                )
    return "\n".join(lines)


def spark_stage_profile(
    event_dir: Path, windows: dict[str, tuple[float, float]], top: int = 12
) -> dict[str, list[dict]]:
    """The slowest completed Spark stages of each benchmark stage, from the event log."""
    from spark_events import completed_stages  # noqa: PLC0415 - beside this script

    completed = [
        {
            "name": info.get("Stage Name", "?"),
            "job": job,
            "start": info["Submission Time"] / 1000,
            "seconds": (info["Completion Time"] - info["Submission Time"]) / 1000,
            "tasks": info.get("Number of Tasks"),
        }
        for info, job in completed_stages(event_dir)
    ]
    out: dict[str, list[dict]] = {}
    for name, (lo, hi) in windows.items():
        inside = [c for c in completed if lo <= c["start"] <= hi]
        if inside:
            inside.sort(key=lambda c: -c["seconds"])
            out[name] = [
                {k: c[k] for k in ("name", "job", "seconds", "tasks")} for c in inside[:top]
            ]
    return out


# ---------------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    prep = sub.add_parser(
        "prepare", help="landing feeds + history days through the real pipeline (not timed)"
    )
    prep.add_argument(
        "--home", required=True, help="FRAUD_HOME for the benchmark (PostgreSQL, landing, lake)"
    )
    prep.add_argument("--per-day", type=int, default=1_000_000)
    prep.add_argument("--history-days", type=int, default=30)
    prep.add_argument(
        "--day",
        type=dt.date.fromisoformat,
        default=BENCH_DAY,
        help=f"benchmark day D (default {BENCH_DAY})",
    )
    prep.add_argument("--seed", type=int, default=SEED)
    code_help = (
        "fraud_assets to use: a git revision (extracted to HOME/code/<sha>) or 'worktree' "
        "(the editable install as it is now); default: {}"
    )
    prep.add_argument(
        "--code", help=code_help.format("the commit a previous prepare used, else HEAD")
    )
    prep.add_argument("--skip-disk-check", action="store_true")
    prep.add_argument(
        "--retries", type=int, default=1, help="re-run a failed day this many times (default 1)"
    )
    prep.add_argument(
        "--stop-db", action="store_true", help="stop the embedded PostgreSQL at the end"
    )
    prep.set_defaults(func=cmd_prepare)
    run = sub.add_parser("run", help="time day D asset by asset")
    run.add_argument("--home", required=True)
    run.add_argument("--code", help=code_help.format("the commit prepare used"))
    run.add_argument(
        "--keep-day", action="store_true", help="do not remove D first: measure a re-run over D"
    )
    run.add_argument(
        "--skip-gin", action="store_true", help="do not time the GIN index on raw_data"
    )
    run.add_argument(
        "--min-risk-level", default="MEDIUM", choices=["LOW", "MEDIUM", "HIGH", "CRITICAL"]
    )
    run.add_argument(
        "--stop-db", action="store_true", help="stop the embedded PostgreSQL at the end"
    )
    run.set_defaults(func=cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
