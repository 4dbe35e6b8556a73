"""The Parquet lake: one partition per dataset per UTC day, replaced atomically.

Layout (CONTRACT.md): `<lake>/transactions/year=YYYY/month=MM/day=DD/` and
`<lake>/<dataset>/date=YYYY-MM-DD/` for the others, zero-padded on write and read.

Every published partition has a `_manifest.json` naming its files with row counts and
SHA-256, and a `version` that is the hash of its content: identical data gives identical
files, names and manifest, so a re-run is visibly a no-op.

- Local disk: files are written to a hidden sibling folder, then swapped in with one
  atomic rename (RENAME_EXCHANGE when there is an old partition), so a reader sees the
  old partition or the new one, never a mixture.
- S3 (no rename): files go under `<partition>/_v=<version>/`, then the manifest at
  `<partition>/_manifest.json` is written last; readers follow the manifest. A `file://`
  URI gets the same versioned layout on a local disk (the stand-in for s3:// in tests).

Spark's multi-day writes either go to a local scratch folder and are published from there
(this machine: no s3a connector) or, with `spark_direct` (prod/EMR), straight to a
`_scratch/` prefix of the lake that the resource then publishes without a local copy
(`lake_direct.py`).
"""

from __future__ import annotations

import ctypes
import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pydantic

from fraud_assets.logic.minimise import DeviceMode, IpMode, key_id
from fraud_assets.resources.storage import (
    encryption_args,
    ensure_dir,
    filesystem_for,
    is_s3,
    is_versioned,
    upload,
)

MANIFEST = "_manifest.json"


def partition_path(dataset: str, day: dt.date) -> str:
    if dataset == "transactions":
        return f"{dataset}/year={day.year:04d}/month={day.month:02d}/day={day.day:02d}"
    return f"{dataset}/date={day.isoformat()}"


@dataclass(frozen=True)
class Manifest:
    dataset: str
    day: dt.date
    version: str
    rows: int
    bytes: int
    files: list[dict]
    extra: dict

    def to_json(self) -> str:
        return json.dumps(
            {
                "dataset": self.dataset,
                "partition": self.day.isoformat(),
                "version": self.version,
                "rows": self.rows,
                "bytes": self.bytes,
                "files": self.files,
                "extra": self.extra,
            },
            indent=2,
            sort_keys=True,
        )

    @staticmethod
    def of_files(dataset: str, day: dt.date, files: list[dict], extra: dict) -> Manifest:
        """The manifest of these files: the version is a digest of their contents, so the
        same bytes always give the same version (a re-run publishes nothing new)."""
        version = hashlib.sha256("".join(f["sha256"] for f in files).encode()).hexdigest()[:16]
        rows, size = sum(f["rows"] for f in files), sum(f["bytes"] for f in files)
        return Manifest(dataset, day, version, rows, size, files, extra)

    @staticmethod
    def from_json(text: str) -> Manifest:
        d = json.loads(text)
        return Manifest(
            d["dataset"],
            dt.date.fromisoformat(d["partition"]),
            d["version"],
            d["rows"],
            d["bytes"],
            d["files"],
            d["extra"],
        )


class LakeResource(dg.ConfigurableResource):
    """The lake root: a local folder (default) or `s3://bucket/prefix`."""

    uri: str
    s3_endpoint_url: str | None = None
    # Local folder where S3 partitions are staged before upload and cached for reading.
    cache_dir: str | None = None
    # What the lake keeps of identifying columns (fraud_assets/logic/minimise.py). The hash
    # key is a secret: FRAUD_LAKE_HASH_KEY (read here when not given), never in code.
    # Server-side encryption of every object written to S3: SSE-KMS with this key
    # (FRAUD_S3_KMS_KEY_ID: key id, ARN or alias), else `s3_sse` (AES256 = SSE-S3), else
    # the bucket's default encryption.
    s3_kms_key_id: str | None = None
    s3_sse: str | None = None
    ip_address_mode: IpMode = "hash"
    device_fingerprint_mode: DeviceMode = "hash"
    hash_key: str | None = pydantic.Field(default=None, repr=False)

    def identifier_hash_key(self) -> bytes | None:
        key = self.hash_key or os.environ.get("FRAUD_LAKE_HASH_KEY")
        return key.encode() if key else None

    def minimisation_note(self) -> dict:
        """Recorded in each transactions manifest: how its identifying columns were stored."""
        key = self.identifier_hash_key()
        modes = {
            "ip_address": self.ip_address_mode,
            "device_fingerprint": self.device_fingerprint_mode,
        }
        note: dict = {"identifiers": modes}
        if key and "hash" in modes.values():
            note["hash"] = {"algorithm": "hmac-sha256", "key_id": key_id(key)}
        return note

    # Spark writes the lake's URI itself (EMR: s3:// through EMRFS) instead of a local folder.
    spark_direct: bool = False

    @property
    def is_s3(self) -> bool:
        return is_s3(self.uri)

    @property
    def versioned(self) -> bool:
        """Versioned prefixes + manifest (object store) rather than rename-swapped folders."""
        return is_versioned(self.uri)

    def partition_uri(self, dataset: str, day: dt.date) -> str:
        return f"{self.uri.rstrip('/')}/{partition_path(dataset, day)}"

    def dataset_uri(self, dataset: str) -> str:
        return f"{self.uri.rstrip('/')}/{dataset}"

    # --- write -----------------------------------------------------------------------

    @contextmanager
    def replace_partition(
        self, dataset: str, day: dt.date, extra: dict | None = None
    ) -> Iterator[Path]:
        """Yield an empty local folder; publish its Parquet files as the partition on exit.

        Nothing is visible to readers unless the block completes.
        """
        if self.versioned:
            staging = Path(tempfile.mkdtemp(prefix=f".{dataset}-", dir=self._cache_root()))
        else:
            target = Path(self.partition_uri(dataset, day))
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = target.parent / f".{target.name}.staging-{uuid.uuid4().hex[:8]}"
            staging.mkdir()
        try:
            yield staging
            manifest = _seal(staging, dataset, day, extra or {})
            if self.versioned:
                self._publish_versioned(staging, manifest)
            else:
                target = Path(self.partition_uri(dataset, day))
                _swap_in(staging, target)
                _remove_abandoned_staging(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def publish_folder(
        self, dataset: str, day: dt.date, source: Path, extra: dict | None = None
    ) -> None:
        """Publish the Parquet files of a local folder (e.g. one `date=` folder of a Spark
        write covering several days) as the day's partition; the files are moved."""
        with self.replace_partition(dataset, day, extra) as folder:
            for path in sorted(Path(source).glob("*.parquet")):
                shutil.move(path, folder / path.name)

    def scratch_folder(self) -> Path:
        """A private local folder for intermediate writes (on the lake's disk when local,
        so publishing is a rename)."""
        base = Path(self.uri) if not self.versioned else self._cache_root()
        base.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=".scratch-", dir=base))

    @contextmanager
    def spark_output(self) -> Iterator[str]:
        """Where Spark writes a multi-day output before each day is published: the lake's
        own `_scratch/` prefix when `spark_direct`, else a local folder. Removed on exit."""
        if self.spark_direct and self.versioned:
            from fraud_assets.resources.lake_direct import direct_scratch

            with direct_scratch(self) as uri:
                yield uri
            return
        scratch = self.scratch_folder()
        try:
            yield str(scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def publish_spark_folder(
        self, dataset: str, day: dt.date, folder: str, extra: dict | None = None
    ) -> None:
        """Publish one day's folder of a `spark_output()` write as the day's partition."""
        if self.spark_direct and self.versioned:
            from fraud_assets.resources.lake_direct import publish_direct

            publish_direct(self, dataset, day, folder, extra or {})
        else:
            self.publish_folder(dataset, day, Path(folder), extra)

    def _publish_versioned(self, staging: Path, manifest: Manifest) -> None:
        fs, root = filesystem_for(
            self.partition_uri(manifest.dataset, manifest.day), self.s3_endpoint_url
        )
        previous = self.manifest(manifest.dataset, manifest.day)
        version_dir = f"{root}/_v={manifest.version}"
        if self.is_s3:
            # boto3 writes (pyarrow cannot request SSE-KMS); the manifest last, as always.
            sse = encryption_args(self.s3_kms_key_id, self.s3_sse)
            for f in manifest.files:
                upload(f"{version_dir}/{f['name']}", staging / f["name"], self.s3_endpoint_url, sse)
        else:  # file://: the object-store layout on a local disk
            ensure_dir(fs, version_dir)
            for f in manifest.files:
                with (
                    open(staging / f["name"], "rb") as src,
                    fs.open_output_stream(f"{version_dir}/{f['name']}") as dst,
                ):
                    shutil.copyfileobj(src, dst, 8 << 20)
        self._finish_versioned(fs, root, manifest, previous)

    def _finish_versioned(
        self, fs: pafs.FileSystem, root: str, manifest: Manifest, previous: Manifest | None
    ) -> None:
        """Write the manifest (the publish), then drop versions no reader can still need."""
        if self.is_s3:
            sse = encryption_args(self.s3_kms_key_id, self.s3_sse)
            upload(f"{root}/{MANIFEST}", manifest.to_json().encode(), self.s3_endpoint_url, sse)
        else:
            with fs.open_output_stream(f"{root}/{MANIFEST}") as out:
                out.write(manifest.to_json().encode())
        if previous is not None and previous.version == manifest.version:
            return  # the live version did not change: nothing became stale
        # Older versions are removed once the new manifest is live; the one just replaced
        # stays one cycle so a reader that loaded the old manifest can finish. What to keep
        # comes from the manifests, not from listing times: S3 prefixes have no mtime.
        keep = {f"_v={manifest.version}"} | (
            set() if previous is None else {f"_v={previous.version}"}
        )
        for info in fs.get_file_info(pafs.FileSelector(root, allow_not_found=True)):
            if (
                info.type == pafs.FileType.Directory
                and info.base_name.startswith("_v=")
                and info.base_name not in keep
            ):
                fs.delete_dir(info.path)

    # --- read ------------------------------------------------------------------------

    def manifest(self, dataset: str, day: dt.date) -> Manifest | None:
        fs, root = filesystem_for(self.partition_uri(dataset, day), self.s3_endpoint_url)
        try:
            with fs.open_input_stream(f"{root}/{MANIFEST}") as f:
                return Manifest.from_json(f.read().decode())
        # Only "not there" means no partition: any other error (S3 access denied, network)
        # must fail the run rather than pass for a missing day.
        except (FileNotFoundError, NotADirectoryError):
            return None

    def local_partition(self, dataset: str, day: dt.date) -> Path | None:
        """A local folder holding the partition's files (S3: a cached copy), or None."""
        manifest = self.manifest(dataset, day)
        if manifest is None:
            return None
        if not self.versioned:
            return Path(self.partition_uri(dataset, day))
        cached = self._cache_root() / partition_path(dataset, day) / f"_v={manifest.version}"
        if not cached.exists():
            fs, root = filesystem_for(self.partition_uri(dataset, day), self.s3_endpoint_url)
            tmp = cached.with_name(cached.name + f".part-{uuid.uuid4().hex[:6]}")
            tmp.mkdir(parents=True)
            for f in manifest.files:
                with (
                    fs.open_input_stream(f"{root}/_v={manifest.version}/{f['name']}") as src,
                    open(tmp / f["name"], "wb") as dst,
                ):
                    shutil.copyfileobj(src, dst, 8 << 20)
            try:
                os.replace(tmp, cached)
            except OSError:
                # Another process cached the same version first (same content): use theirs.
                shutil.rmtree(tmp, ignore_errors=True)
                if not cached.is_dir():
                    raise
        return cached

    def spark_path(self, dataset: str, day: dt.date) -> str | None:
        """Where Spark reads the partition: on EMR the s3:// version folder, here a local folder."""
        if self.versioned and (self.spark_direct or os.environ.get("FRAUD_SPARK_READS_S3") == "1"):
            manifest = self.manifest(dataset, day)
            return (
                None
                if manifest is None
                else f"{self.partition_uri(dataset, day)}/_v={manifest.version}"
            )
        local = self.local_partition(dataset, day)
        return None if local is None else str(local)

    def _cache_root(self) -> Path:
        root = Path(
            self.cache_dir or os.path.join(tempfile.gettempdir(), "fraud_assets_lake_cache")
        )
        root.mkdir(parents=True, exist_ok=True)
        return root


def _seal(staging: Path, dataset: str, day: dt.date, extra: dict) -> Manifest:
    """Give the files deterministic names, drop writer droppings, write the manifest."""
    for junk in [
        p
        for p in staging.rglob("*")
        if p.is_file() and (p.name.startswith((".", "_")) or p.suffix == ".crc")
    ]:
        junk.unlink()
    parquet = sorted(p for p in staging.rglob("*.parquet"))
    files = []
    for i, path in enumerate(parquet):
        final = staging / f"part-{i:05d}.parquet"
        path.rename(final)
        digest = hashlib.sha256(final.read_bytes()).hexdigest()
        files.append(
            {
                "name": final.name,
                "rows": pq.ParquetFile(final).metadata.num_rows,
                "bytes": final.stat().st_size,
                "sha256": digest,
            }
        )
    for sub in sorted((p for p in staging.rglob("*") if p.is_dir()), reverse=True):
        sub.rmdir()
    manifest = Manifest.of_files(dataset, day, files, extra)
    (staging / MANIFEST).write_text(manifest.to_json())
    return manifest


_RENAME_EXCHANGE = 2
# A staging folder this old belongs to a writer that was killed, not to one still running.
ABANDONED_AFTER_SECONDS = 3600


def _remove_abandoned_staging(target: Path) -> None:
    """Readers never see staging folders (hidden names), but a killed writer's would stay
    forever: the next publish of the same partition removes the old ones."""
    now = time.time()
    for leftover in target.parent.glob(f".{target.name}.staging-*"):
        try:
            if now - leftover.stat().st_mtime > ABANDONED_AFTER_SECONDS:
                shutil.rmtree(leftover, ignore_errors=True)
        except FileNotFoundError:
            pass


def _swap_in(staging: Path, target: Path) -> None:
    if not target.exists():
        os.rename(staging, target)
        return
    if _rename_exchange(staging, target):
        return  # `staging` now holds the old partition and is removed by the caller
    # No RENAME_EXCHANGE (not Linux): two renames; the gap shows no partition, never a mixture.
    old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
    os.rename(target, old)
    os.rename(staging, target)
    shutil.rmtree(old, ignore_errors=True)


def _rename_exchange(a: Path, b: Path) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    return renameat2(at_fdcwd, bytes(a), at_fdcwd, bytes(b), _RENAME_EXCHANGE) == 0
