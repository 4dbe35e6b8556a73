"""Fault injection for the pipeline: run one real asset for one day in a child process
(which a test can SIGKILL, or whose database it can restart), watch it from outside, and
write big feeds quickly.

As a program: ``python -m fraud_assets_tests.defs.fault_runner ASSET YYYY-MM-DD`` runs
the asset for that day with the test environment's resources (FRAUD_* variables) and an
ephemeral Dagster instance, then prints one JSON line: success and the step events.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from fraud_assets.contract.schema import FEED_COLUMNS
from fraud_assets_tests.feeds import good_record

PROJECT_ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


# --- feeds ---------------------------------------------------------------------------


def write_big_feed(path: Path, day: dt.date, rows: int, id_prefix: str, morning_rows: int) -> Path:
    """A valid CSV feed of `rows` records for `day`, built column-wise with Arrow.

    Only `morning_rows` fall before 12:00 UTC; all the others carry 12:00:00 itself.
    The loader cuts its two slices at the median timestamp, which is then 12:00:00
    whatever the balance: the first slice (the morning) is committed long before the
    second one finishes, which leaves a wide, observable "mid-load" window.
    """
    if not 0 < morning_rows < rows:
        raise ValueError("morning_rows must be between 0 and rows")
    template = good_record("X", f"{day.isoformat()}T00:00:00Z")
    start = dt.datetime.combine(day, dt.time())
    half = 12 * 3600
    afternoon = rows - morning_rows
    seconds = [i * half // morning_rows for i in range(morning_rows)] + [half] * afternoon
    when = pc.add(pa.scalar(start, pa.timestamp("s")), pa.array(seconds, pa.duration("s")))
    columns = {
        name: pa.repeat(pa.scalar(value, pa.string()), rows) for name, value in template.items()
    }
    columns["transaction_id"] = pa.array([f"{id_prefix}{i:07d}" for i in range(rows)])
    columns["customer_id"] = pa.array([f"C{i % 40_000:08d}" for i in range(rows)])
    columns["amount"] = pa.array([f"{1 + i % 900}.{i % 100:02d}" for i in range(rows)])
    columns["transaction_date"] = pc.strftime(when, format="%Y-%m-%dT%H:%M:%SZ")
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(pa.table({c: columns[c] for c in FEED_COLUMNS}), path)
    return path


# --- a run in a child process --------------------------------------------------------


@dataclass
class Child:
    """An asset run in its own process group, its output in files."""

    proc: subprocess.Popen
    stdout: Path
    stderr: Path

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the run (and anything it started); idempotent."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def wait(self, timeout_s: float) -> int:
        return self.proc.wait(timeout=timeout_s)

    def result(self) -> dict:
        """The JSON line the run printed last (after it exited)."""
        lines = self.stdout.read_text().strip().splitlines()
        if not lines:
            raise AssertionError(f"the run printed no result; stderr:\n{self.output_tail()}")
        return json.loads(lines[-1])

    def output_tail(self, chars: int = 4000) -> str:
        return self.stderr.read_text(errors="replace")[-chars:]


def start_run(asset: str, day: dt.date, log_dir: Path) -> Child:
    """Start `asset` for `day` in a child process with this process's environment."""
    log_dir.mkdir(parents=True, exist_ok=True)
    stdout = log_dir / f"{asset}.{day.isoformat()}.out"
    stderr = log_dir / f"{asset}.{day.isoformat()}.err"
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "fraud_assets_tests.defs.fault_runner", asset, day.isoformat()],
            cwd=PROJECT_ROOT,
            env=dict(os.environ),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,  # its own process group: kill() reaches all of it
        )
    return Child(proc, stdout, stderr)


def wait_for(
    condition: Callable[[], T | None],
    what: str,
    timeout_s: float,
    child: Child | None = None,
    interval_s: float = 0.02,
) -> T:
    """Poll `condition` until it returns something truthy; fail after `timeout_s`, or as
    soon as `child` exits (the moment to catch is then gone)."""
    deadline = time.monotonic() + timeout_s
    attempts = 0
    while True:
        attempts += 1
        value = condition()
        if value:
            return value
        if child is not None and not child.alive():
            raise AssertionError(
                f"the run exited (code {child.proc.returncode}) before {what}; "
                f"stderr:\n{child.output_tail()}"
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout_s}s ({attempts} attempts)")
        if child is not None:
            # The pause between attempts also notices the child exiting.
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.proc.wait(timeout=interval_s)
        else:
            time.sleep(interval_s)


# --- the child's side ----------------------------------------------------------------


def main(argv: list[str]) -> int:
    import dagster as dg

    from fraud_assets.defs.ingest.assets import postgres_transactions
    from fraud_assets.defs.lake.assets import s3_partitioned_parquet
    from fraud_assets_tests.defs.pipeline import run_day

    assets = {a.key.to_user_string(): a for a in (postgres_transactions, s3_partitioned_parquet)}
    name, day = argv[0], dt.date.fromisoformat(argv[1])
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_day(day, instance, [assets[name]], raise_on_error=False)
        events = [e.event_type_value for e in result.all_events]
    print(
        json.dumps(
            {
                "success": result.success,
                "up_for_retry": events.count("STEP_UP_FOR_RETRY"),
                "restarted": events.count("STEP_RESTARTED"),
                "step_failures": events.count("STEP_FAILURE"),
            }
        ),
        flush=True,
    )
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
