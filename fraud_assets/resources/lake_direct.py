"""The lake when Spark writes the object store itself (EMR: s3:// through EMRFS).

A cluster's executors cannot write to the driver's local disk, so the local-staging route
of `LakeResource` does not work there. Instead Spark writes a multi-day output under
`<lake>/_scratch/<id>/`, and each day is published from there, with no local copy:

1. list the day's Parquet files (writer droppings such as `.crc`/`_SUCCESS` ignored),
   in Spark's part order;
2. read each file once to get its SHA-256 and row count (the version is the hash of the
   hashes, as for every other partition, so identical data gives the identical version);
3. copy them to `<partition>/_v=<version>/part-NNNNN.parquet` (a server-side copy on S3);
4. write `_manifest.json` last (the publish), then drop versions no reader needs.

Everything goes through a pyarrow filesystem, so the same code runs on `s3://` and on a
`file://` lake (how the tests drive it on this machine).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

import pyarrow.fs as pafs
import pyarrow.parquet as pq

from fraud_assets.resources.storage import ensure_dir, filesystem_for

if TYPE_CHECKING:
    from fraud_assets.resources.lake import LakeResource

SCRATCH = "_scratch"


@contextmanager
def direct_scratch(lake: LakeResource) -> Iterator[str]:
    uri = f"{lake.uri.rstrip('/')}/{SCRATCH}/{uuid.uuid4().hex}"
    try:
        yield uri
    finally:
        fs, root = filesystem_for(uri, lake.s3_endpoint_url)
        with suppress(FileNotFoundError):
            fs.delete_dir(root)


def _day_files(fs: pafs.FileSystem, folder: str) -> list[pafs.FileInfo]:
    infos = fs.get_file_info(pafs.FileSelector(folder, allow_not_found=True, recursive=True))
    return sorted(
        (
            i
            for i in infos
            if i.type == pafs.FileType.File
            and i.base_name.endswith(".parquet")
            and not i.base_name.startswith((".", "_"))
        ),
        key=lambda i: i.path,
    )


def publish_direct(
    lake: LakeResource, dataset: str, day: dt.date, folder_uri: str, extra: dict
) -> None:
    from fraud_assets.resources.lake import Manifest

    fs, folder = filesystem_for(folder_uri, lake.s3_endpoint_url)
    files, sources = [], []
    for i, info in enumerate(_day_files(fs, folder)):
        digest = hashlib.sha256()
        with fs.open_input_stream(info.path) as src:
            while chunk := src.read(8 << 20):
                digest.update(chunk)
        with fs.open_input_file(info.path) as src:
            rows = pq.ParquetFile(src).metadata.num_rows
        files.append(
            {
                "name": f"part-{i:05d}.parquet",
                "rows": rows,
                "bytes": info.size,
                "sha256": digest.hexdigest(),
            }
        )
        sources.append(info.path)
    manifest = Manifest.of_files(dataset, day, files, extra)
    version = manifest.version
    _, root = filesystem_for(lake.partition_uri(dataset, day), lake.s3_endpoint_url)
    previous = lake.manifest(dataset, day)
    if previous is None or previous.version != version:
        ensure_dir(fs, f"{root}/_v={version}")
        for source, f in zip(sources, files, strict=True):
            fs.copy_file(source, f"{root}/_v={version}/{f['name']}")
    lake._finish_versioned(fs, root, manifest, previous)
