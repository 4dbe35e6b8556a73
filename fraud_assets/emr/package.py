"""The EMR job package: what a step needs that the cluster does not have.

- `fraud_assets-<hash>.zip`: the project's code (the `fraud_assets` package with its data
  files), given to spark-submit with `--py-files`. Built deterministically (sorted entries,
  fixed timestamps), so the same code gives the same bytes and the same name.
- `requirements.txt` + `constraints.txt`: the runtime dependencies, pinned to exactly the
  versions this project is tested with; `bootstrap.sh` installs them on every node with the
  cluster's Python 3.11. pyspark is left out: the cluster's Spark is the one to use.
- `postgresql.jar`: the PostgreSQL JDBC driver, copied to Spark's jars by the bootstrap.
- `pipes_main.py`: the main script of a Pipes step (FRAUD_SPARK_RUNNER=emr_pipes), beside
  the code zip, where the Pipes runner looks for it when FRAUD_EMR_JOB_PACKAGE_S3 is set.
"""

from __future__ import annotations

import hashlib
import io
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import fraud_assets

PACKAGE_DIR = Path(fraud_assets.__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
BOOTSTRAP = REPO_ROOT / "deploy" / "emr" / "bootstrap.sh"
DEFAULT_JDBC_JAR = Path("/usr/share/java/postgresql.jar")
# Provided by the cluster (Spark) or only needed by the Dagster deployment (the UI).
NOT_ON_CLUSTER = {"pyspark", "dagster-webserver"}
_EPOCH = (1980, 1, 1, 0, 0, 0)


def code_files() -> list[Path]:
    """Sources and package data of fraud_assets, nothing generated."""
    return sorted(
        p
        for p in PACKAGE_DIR.rglob("*")
        if p.is_file()
        and "__pycache__" not in p.parts
        and p.suffix in {".py", ".csv", ".sql", ".json"}
    )


def build_code_zip(target: str | Path) -> str:
    """Write the code zip; return its SHA-256."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in code_files():
            info = zipfile.ZipInfo(str(path.relative_to(REPO_ROOT)), date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    data = buffer.getvalue()
    Path(target).write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def requirements() -> list[str]:
    """The runtime dependencies of pyproject.toml the cluster must install."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    keep = []
    for req in project["dependencies"]:
        name = req.split(";")[0].split("[")[0]
        for sep in "=<>!~ ":
            name = name.split(sep)[0]
        if name.strip().lower() not in NOT_ON_CLUSTER:
            keep.append(req)
    return keep


@dataclass(frozen=True)
class JobPackage:
    code_zip_uri: str
    bootstrap_uri: str
    prefix_uri: str
    sha256: str


def build_and_upload(
    s3,
    bucket: str,
    prefix: str,
    jdbc_jar: Path | None = DEFAULT_JDBC_JAR,
    kms_key_id: str | None = None,
) -> JobPackage:
    """Build the package and upload it under `s3://bucket/prefix/package/<hash>/`."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        zip_path = Path(tmp) / "fraud_assets.zip"
        digest = build_code_zip(zip_path)
        base = f"{prefix.strip('/')}/package/{digest[:16]}"
        extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else {}

        def put(key: str, body: bytes) -> str:
            s3.put_object(Bucket=bucket, Key=f"{base}/{key}", Body=body, **extra)
            return f"s3://{bucket}/{base}/{key}"

        code_uri = put(f"fraud_assets-{digest[:16]}.zip", zip_path.read_bytes())
        put("requirements.txt", ("\n".join(requirements()) + "\n").encode())
        put("constraints.txt", (REPO_ROOT / "constraints.txt").read_bytes())
        bootstrap_uri = put("bootstrap.sh", BOOTSTRAP.read_bytes())
        put("pipes_main.py", (PACKAGE_DIR / "emr" / "pipes_main.py").read_bytes())
        if jdbc_jar is not None:
            if not jdbc_jar.is_file():
                raise FileNotFoundError(
                    f"PostgreSQL JDBC driver not found at {jdbc_jar} (Debian: "
                    "apt-get install libpostgresql-jdbc-java, or pass --jdbc-jar)"
                )
            put("postgresql.jar", jdbc_jar.read_bytes())
    return JobPackage(code_uri, bootstrap_uri, f"s3://{bucket}/{base}", digest)
