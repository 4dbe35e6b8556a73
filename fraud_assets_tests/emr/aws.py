"""An AWS emulator on loopback for the EMR tests, and the test playing EMR.

moto's server (`ThreadedMotoServer`) answers the S3, EMR and Secrets Manager APIs over
real HTTP; every boto3 client of the code under test reaches it through the standard
`AWS_ENDPOINT_URL` variable. moto never runs a step: `play_emr_steps` does what EMR would
(run the step's spark-submit command, with Spark local instead of YARN and the staged
s3:// files copied to a local folder, copy the step's stdout/stderr to the log bucket,
move the step's state), reaching into moto's in-process backend for the state.
"""

from __future__ import annotations

import gzip
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import boto3
import pyspark

from fraud_assets.resources.spark import LOCAL_SPARK_CONFIG

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def moto_aws() -> Iterator[dict[str, str]]:
    """moto on a free loopback port; yields (and sets in os.environ) the AWS variables."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    # moto keeps its backends per process: start every test from an empty account (the
    # EMR tests would otherwise meet each other's buckets, secrets and clusters).
    reset = urllib.request.Request(f"http://127.0.0.1:{port}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset, timeout=30).close()
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield env
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def emr_backend():
    from moto.emr.models import emr_backends

    return emr_backends[ACCOUNT][REGION]


@dataclass
class PlayedStep:
    step_id: str
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    staged: dict[str, Path] = field(default_factory=dict)


def _download(s3, uri: str, folder: Path) -> Path:
    parsed = urlparse(uri)
    target = folder / Path(parsed.path).name
    s3.download_file(parsed.netloc, parsed.path.lstrip("/"), str(target))
    return target


def local_command(args: list[str], folder: Path, s3) -> tuple[list[str], dict[str, Path]]:
    """The step's spark-submit command as this machine can run it: our spark-submit, Spark
    local instead of YARN, s3:// files replaced by downloaded copies, and the local
    session settings (memory, loopback) added after the step's own settings."""
    assert args[0] == "/usr/lib/spark/bin/spark-submit", args
    assert args[1:5] == ["--master", "yarn", "--deploy-mode", "client"], args
    staged: dict[str, Path] = {}
    command = [str(Path(pyspark.__file__).parent / "bin" / "spark-submit"), "--master", "local[2]"]
    rest = args[3:]
    local_conf = [
        x
        for k, v in LOCAL_SPARK_CONFIG.items()
        if k not in ("spark.master", "spark.app.name")
        for x in ("--conf", f"{k}={v}")
    ]
    for arg in rest:
        if arg == "--py-files":
            command += local_conf
        if arg.startswith("s3://"):
            staged[Path(urlparse(arg).path).name] = _download(s3, arg, folder)
            arg = str(staged[Path(urlparse(arg).path).name])
        command.append(arg)
    return command, staged


def play_emr_steps(
    cluster_id: str,
    folder: Path,
    step_env: dict[str, str],
    done: Callable[[], bool],
    timeout: float = 420,
    step_timeout: float = 180,
    before_run: Callable[[list[str]], None] | None = None,
) -> list[PlayedStep]:
    """Until `done()`: run every step added to the cluster, as EMR would, in order
    (`before_run(args)` sees each step's arguments while it is RUNNING, before it runs)."""
    backend = emr_backend()
    s3 = boto3.client("s3")
    played: list[PlayedStep] = []
    handled: set[str] = set()
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"EMR steps not finished within {timeout} s"
        pending = [s for s in backend.clusters[cluster_id].steps if s.id not in handled]
        if not pending:
            time.sleep(0.1)  # polling moto's state for a new step, not waiting for an outcome
            continue
        step = pending[0]
        handled.add(step.id)
        step.state = "RUNNING"
        work = folder / step.id
        work.mkdir(parents=True)
        if before_run is not None:
            before_run(list(step.args))
        command, staged = local_command(list(step.args), work, s3)
        with open(work / "stdout", "w") as out, open(work / "stderr", "w") as err:
            proc = subprocess.Popen(command, env=step_env, cwd=work, stdout=out, stderr=err)
            try:
                returncode = proc.wait(timeout=step_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                returncode = proc.wait()
        proc = subprocess.CompletedProcess(
            command, returncode, (work / "stdout").read_text(), (work / "stderr").read_text()
        )
        # EMR copies the step's stdout/stderr to <LogUri><cluster>/steps/<step>/.
        log_uri = urlparse(backend.clusters[cluster_id].log_uri.replace("s3n://", "s3://"))
        prefix = f"{log_uri.path.lstrip('/')}{cluster_id}/steps/{step.id}"
        for name, text in (("stdout", proc.stdout), ("stderr", proc.stderr)):
            s3.put_object(
                Bucket=log_uri.netloc, Key=f"{prefix}/{name}.gz", Body=gzip.compress(text.encode())
            )
        step.state = "COMPLETED" if proc.returncode == 0 else "FAILED"
        played.append(
            PlayedStep(step.id, list(step.args), proc.returncode, proc.stdout, proc.stderr, staged)
        )
    return played


def step_process_env(aws: dict[str, str]) -> dict[str, str]:
    """What an EMR node's step has: AWS access (here the emulator) and Spark's settings,
    none of the project's variables (those come from the staged step environment) and no
    database password (that comes from Secrets Manager)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FRAUD_", "DAGSTER_", "PYSPARK_", "SPARK_"))
    }
    env.update(aws)
    env["PYSPARK_PYTHON"] = sys.executable
    env["PYSPARK_DRIVER_PYTHON"] = sys.executable
    env["SPARK_LOCAL_IP"] = "127.0.0.1"
    return env
