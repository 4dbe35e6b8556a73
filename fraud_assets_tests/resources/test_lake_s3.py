"""The lake and the landing area on a real S3 server (SeaweedFS on loopback).

On S3 a partition is replaced by writing `<partition>/_v=<version>/` and then publishing
`<partition>/_manifest.json`, which readers follow (CONTRACT.md, Lake).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import uuid

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import fraud_assets.resources.lake as lake_module
from fraud_assets.contract.schema import FEED_COLUMNS
from fraud_assets.resources.lake import LakeResource
from fraud_assets.resources.landing import FeedError, LandingResource
from fraud_assets_tests.feeds import good_record, write_feed

DAY = dt.date(2026, 3, 5)
TX = "transactions/year=2026/month=03/day=05"


@pytest.fixture
def s3(s3_lake):
    return boto3.client("s3", endpoint_url=s3_lake["endpoint"])


@pytest.fixture
def lake(s3_lake, tmp_path) -> LakeResource:
    """A lake of its own under the session bucket, with its own download cache."""
    return LakeResource(
        uri=f"{s3_lake['uri']}/{uuid.uuid4().hex[:10]}",
        s3_endpoint_url=s3_lake["endpoint"],
        cache_dir=str(tmp_path / "cache"),
    )


def _bucket_prefix(uri: str) -> tuple[str, str]:
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    return bucket, prefix.rstrip("/") + "/"


def _keys(s3, lake: LakeResource) -> set[str]:
    """Object keys under the lake root, relative to it (directory markers left out)."""
    bucket, prefix = _bucket_prefix(lake.uri)
    keys = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.update(o["Key"][len(prefix) :] for o in page.get("Contents", []))
    return {k for k in keys if not k.endswith("/")}


def _versions(s3, lake: LakeResource, partition: str = TX) -> set[str]:
    return {
        k.split("/")[len(partition.split("/"))].removeprefix("_v=")
        for k in _keys(s3, lake)
        if k.startswith(f"{partition}/_v=")
    }


def _write(lake: LakeResource, values: list[int], dataset: str = "transactions") -> None:
    with lake.replace_partition(dataset, DAY) as folder:
        pq.write_table(pa.table({"x": values}), folder / "part-00000.parquet", compression="zstd")


def _read(lake: LakeResource, dataset: str = "transactions") -> list[int]:
    return pq.read_table(lake.local_partition(dataset, DAY))["x"].to_pylist()


def test_a_partition_is_a_version_folder_published_by_its_manifest(lake, s3, monkeypatch):
    written: list[str] = []
    real = lake_module.upload

    def recording(path, *args, **kwargs):
        """The real upload, noting the order in which objects are written."""
        written.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(lake_module, "upload", recording)
    _write(lake, [1, 2, 3])
    _write(lake, [7], "fraud_features")

    tx, features = lake.manifest("transactions", DAY), lake.manifest("fraud_features", DAY)
    assert (tx.rows, features.rows) == (3, 1)
    assert [f["name"] for f in tx.files] == ["part-00000.parquet"]
    # Zero-padded partition paths; files under the version, the manifest beside it.
    assert _keys(s3, lake) == {
        f"{TX}/_v={tx.version}/part-00000.parquet",
        f"{TX}/_manifest.json",
        f"fraud_features/date=2026-03-05/_v={features.version}/part-00000.parquet",
        "fraud_features/date=2026-03-05/_manifest.json",
    }
    # The manifest is the last object written for each partition.
    assert [w.rsplit("/", 1)[-1] for w in written] == [
        "part-00000.parquet",
        "_manifest.json",
        "part-00000.parquet",
        "_manifest.json",
    ]
    bucket, prefix = _bucket_prefix(lake.uri)
    stored = json.loads(
        s3.get_object(Bucket=bucket, Key=f"{prefix}{TX}/_manifest.json")["Body"].read()
    )
    assert stored["version"] == tx.version and stored["partition"] == "2026-03-05"
    assert stored["rows"] == 3 and stored["files"] == tx.files


def test_local_partition_is_a_cached_copy_of_the_live_version(lake, tmp_path):
    _write(lake, [1, 2, 3])
    version = lake.manifest("transactions", DAY).version
    local = lake.local_partition("transactions", DAY)
    assert local == tmp_path / "cache" / TX / f"_v={version}"
    assert sorted(p.name for p in local.iterdir()) == ["part-00000.parquet"]
    assert pq.read_table(local)["x"].to_pylist() == [1, 2, 3]
    assert lake.spark_path("transactions", DAY) == str(local)
    assert lake.local_partition("transactions", DAY + dt.timedelta(days=1)) is None
    assert lake.manifest("transactions", DAY + dt.timedelta(days=1)) is None


def test_replacing_switches_the_manifest_and_keeps_only_the_previous_version(lake, s3):
    _write(lake, [1, 2, 3])
    a = lake.manifest("transactions", DAY).version
    _write(lake, [4, 5])
    b = lake.manifest("transactions", DAY).version
    assert _versions(s3, lake) == {a, b}  # the replaced version stays one cycle
    assert _read(lake) == [4, 5]
    _write(lake, [6])
    c = lake.manifest("transactions", DAY).version
    assert len({a, b, c}) == 3
    assert _versions(s3, lake) == {b, c}
    assert _read(lake) == [6]
    _write(lake, [7, 8])
    d = lake.manifest("transactions", DAY)
    assert _versions(s3, lake) == {c, d.version}
    assert d.rows == 2 and _read(lake) == [7, 8]


def test_a_failed_write_publishes_nothing(lake, s3, tmp_path):
    _write(lake, [1, 2, 3])
    before_manifest = lake.manifest("transactions", DAY).to_json()
    before_keys = _keys(s3, lake)
    with pytest.raises(RuntimeError), lake.replace_partition("transactions", DAY) as folder:
        pq.write_table(pa.table({"x": [9]}), folder / "part-00000.parquet")
        raise RuntimeError("killed mid-write")
    assert lake.manifest("transactions", DAY).to_json() == before_manifest
    assert _keys(s3, lake) == before_keys
    assert _read(lake) == [1, 2, 3]
    # The local staging folder is gone too.
    assert [p.name for p in (tmp_path / "cache").iterdir() if p.name.startswith(".")] == []


def test_same_data_gives_the_same_version_and_objects(lake, s3, s3_lake):
    _write(lake, [1, 2, 3], "scored_transactions")
    first = lake.manifest("scored_transactions", DAY)
    keys = _keys(s3, lake)
    _write(lake, [1, 2, 3], "scored_transactions")
    assert lake.manifest("scored_transactions", DAY) == first
    assert _keys(s3, lake) == keys
    other = LakeResource(
        uri=f"{s3_lake['uri']}/{uuid.uuid4().hex[:10]}", s3_endpoint_url=s3_lake["endpoint"]
    )
    _write(other, [1, 2, 3], "scored_transactions")
    assert other.manifest("scored_transactions", DAY).to_json() == first.to_json()


def test_an_unreadable_manifest_is_an_error_not_a_missing_partition(lake, monkeypatch):
    _write(lake, [1])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-key")
    with pytest.raises(OSError):
        lake.manifest("transactions", DAY)


# --- landing --------------------------------------------------------------------------


def test_landing_reads_a_days_feed_from_s3(s3_lake, s3, tmp_path):
    bucket, prefix = _bucket_prefix(f"{s3_lake['landing_uri']}/{uuid.uuid4().hex[:10]}")
    landing = LandingResource(
        uri=f"s3://{bucket}/{prefix}".rstrip("/"), s3_endpoint_url=s3_lake["endpoint"]
    )
    folder = f"{prefix}transactions/date=2026-03-05"
    first = write_feed(
        tmp_path / "card.csv",
        [good_record("T1"), good_record("T2", location_city=None)],
    )
    second = write_feed(tmp_path / "atm.csv", [good_record("T3", amount="99.00")])
    s3.upload_file(str(first), bucket, f"{folder}/card_processor.csv")
    s3.put_object(
        Bucket=bucket, Key=f"{folder}/atm.csv.gz", Body=gzip.compress(second.read_bytes())
    )
    s3.put_object(Bucket=bucket, Key=f"{folder}/README.txt", Body=b"not a feed")

    assert landing.list_day_files("transactions", DAY) == [
        f"{bucket}/{folder}/atm.csv.gz",
        f"{bucket}/{folder}/card_processor.csv",
    ]
    batch = landing.read_day("transactions", DAY, FEED_COLUMNS)
    rows = batch.table.to_pylist()
    assert [(r["transaction_id"], r["_source_file"], r["_record_number"]) for r in rows] == [
        ("T3", "atm.csv.gz", 1),
        ("T1", "card_processor.csv", 1),
        ("T2", "card_processor.csv", 2),
    ]
    assert rows[0]["amount"] == "99.00" and rows[2]["location_city"] is None
    assert json.loads(rows[1]["raw_data"]) == {"auth_code": "A1B2C3", "entry_mode": "chip"}
    assert all(r["_received_at"] is not None for r in rows)
    assert batch.bytes_read > 0

    with pytest.raises(FeedError, match=r"no transactions feed for 2026-03-06.*s3://"):
        landing.read_day("transactions", DAY + dt.timedelta(days=1), FEED_COLUMNS)
