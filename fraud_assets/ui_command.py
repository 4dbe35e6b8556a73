"""`fraud-assets ui`: the Dagster UI and daemon (`dagster dev`) on loopback, on the same
instance as `demo` and `materialize`, so the runs they made are there.

The instance is DAGSTER_HOME (default `<FRAUD_HOME>/dagster_home`, holding a copy of the
repository's dagster.yaml: runs in the embedded PostgreSQL's `dagster` database). The code
location is named `fraud_assets`, as in docker-compose.yml, whichever way it is started.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

LOCATION_NAME = "fraud_assets"

WORKSPACE = f"""\
# Written by `fraud-assets ui`: the code location as the UI and daemon load it.
load_from:
  - python_module:
      module_name: fraud_assets.definitions
      location_name: {LOCATION_NAME}
"""


def write_workspace(dagster_home: Path) -> Path:
    path = dagster_home / "workspace.yaml"
    path.write_text(WORKSPACE)
    return path


def dagster_dev_command(workspace: Path, host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        "-w",
        str(workspace),
        "-h",
        host,
        "-p",
        str(port),
    ]


def run_ui(host: str, port: int) -> int:
    from fraud_assets.local import prepare_local_environment

    prepare_local_environment()
    dagster_home = Path(os.environ["DAGSTER_HOME"])
    command = dagster_dev_command(write_workspace(dagster_home), host, port)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: the Dagster UI has no login; binding {host} exposes it beyond this "
            "machine (see docs/operating.md for a reverse proxy with authentication)",
            file=sys.stderr,
        )
    print(
        f"Dagster UI and daemon on http://{host}:{port} (Ctrl-C stops both); instance "
        f"DAGSTER_HOME={dagster_home}, the one `demo` and `materialize` use",
        flush=True,
    )
    # exec, not a child: Ctrl-C and SIGTERM reach `dagster dev` itself, which then stops
    # its webserver, daemon and code server cleanly (a parent python would kill it hard).
    os.execv(sys.executable, command)
    return 0  # not reached
