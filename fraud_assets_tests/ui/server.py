"""The real Dagster UI for browser tests: `fraud-assets ui` (dagster dev: webserver, daemon
and code server) on a free loopback port, stopped by process group whatever happens.

`dagster dev` maps SIGTERM to its SIGINT handler and cleans up its children; a process
started with a default SIGINT disposition honours it. Stopping signals the whole group
(SIGTERM), waits with a deadline until no member is left, then SIGKILLs what remains, so a
failing test never leaves a webserver, daemon or run worker behind.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STOP_TIMEOUT_S = 30


class UIServerError(RuntimeError):
    """The UI did not come up, or a condition was not reached before its deadline."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
    """Poll `condition` until it returns something truthy; fail naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
        except Exception as exc:  # noqa: BLE001 - polled conditions may fail until ready
            last_error, value = exc, None
        if value:
            return value
        time.sleep(interval)  # polling interval, not a synchronisation sleep
    raise UIServerError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last_error!r})")


@dataclass
class UIServer:
    url: str
    process: subprocess.Popen
    log_path: Path

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = json.load(response)
        if payload.get("errors"):
            raise UIServerError(f"GraphQL errors: {payload['errors']}")
        return payload["data"]

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_process_group(process: subprocess.Popen, timeout: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM the group, wait (bounded) until every member is gone, then SIGKILL."""
    pgid = process.pid  # start_new_session=True: the leader's pid is the group id
    if _group_alive(pgid):
        os.killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            process.poll()  # reap the leader so it stops counting as a member
            if not _group_alive(pgid):
                break
            time.sleep(0.2)
        if _group_alive(pgid):
            os.killpg(pgid, signal.SIGKILL)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_ui(
    env: dict[str, str], log_path: Path, startup_timeout: float = 120
) -> Iterator[UIServer]:
    """Run `fraud-assets ui --port <free>` with `env` until the code location has loaded."""
    port = free_port()
    cli = Path(sys.executable).with_name("fraud-assets")
    log = open(log_path, "wb")  # noqa: SIM115 - closed below, after the process is gone
    process = subprocess.Popen(
        [str(cli), "ui", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        # A default SIGINT disposition, whatever the caller ignores: dagster dev's shutdown
        # path runs through its SIGINT handler.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    server = UIServer(f"http://127.0.0.1:{port}", process, log_path)
    try:

        def location_loaded() -> bool:
            if process.poll() is not None:
                raise UIServerError(f"fraud-assets ui exited ({process.returncode})")
            data = server.graphql(
                "{ workspaceOrError { ... on Workspace { locationEntries { name "
                "locationOrLoadError { __typename } } } } }"
            )
            entries = data["workspaceOrError"]["locationEntries"]
            return bool(entries) and all(
                e["locationOrLoadError"]
                and e["locationOrLoadError"]["__typename"] == "RepositoryLocation"
                for e in entries
            )

        try:
            wait_for(location_loaded, startup_timeout, "the Dagster UI to load fraud_assets")
        except UIServerError as exc:
            raise UIServerError(f"{exc}\n--- ui log ---\n{server.log_tail()}") from None
        yield server
    finally:
        stop_process_group(process)
        log.close()
