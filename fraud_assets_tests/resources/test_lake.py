"""Lake partitions: zero-padded paths, atomic replacement, deterministic files."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fraud_assets.resources.lake import LakeResource, partition_path

DAY = dt.date(2026, 3, 5)


def _write(lake: LakeResource, values: list[int], dataset: str = "transactions") -> None:
    with lake.replace_partition(dataset, DAY) as folder:
        pq.write_table(pa.table({"x": values}), folder / "part-00000.parquet", compression="zstd")


def test_paths_are_zero_padded():
    assert partition_path("transactions", DAY) == "transactions/year=2026/month=03/day=05"
    assert partition_path("fraud_features", DAY) == "fraud_features/date=2026-03-05"


def test_replacing_a_partition_swaps_it_whole(tmp_path):
    lake = LakeResource(uri=str(tmp_path))
    _write(lake, [1, 2, 3])
    first = lake.manifest("transactions", DAY)
    _write(lake, [4, 5])
    second = lake.manifest("transactions", DAY)
    assert (first.rows, second.rows) == (3, 2)
    assert pq.read_table(lake.local_partition("transactions", DAY))["x"].to_pylist() == [4, 5]
    # Nothing is left beside the partition: no staging folders, no old copies.
    assert sorted(p.name for p in (tmp_path / "transactions/year=2026/month=03").iterdir()) == [
        "day=05"
    ]


def test_a_failed_write_leaves_the_old_partition_untouched(tmp_path):
    lake = LakeResource(uri=str(tmp_path))
    _write(lake, [1, 2, 3])
    before = lake.manifest("transactions", DAY).to_json()
    with pytest.raises(RuntimeError), lake.replace_partition("transactions", DAY) as folder:
        pq.write_table(pa.table({"x": [9]}), folder / "part-00000.parquet")
        raise RuntimeError("killed mid-write")
    assert lake.manifest("transactions", DAY).to_json() == before
    assert pq.read_table(lake.local_partition("transactions", DAY))["x"].to_pylist() == [1, 2, 3]
    assert sorted(p.name for p in (tmp_path / "transactions/year=2026/month=03").iterdir()) == [
        "day=05"
    ]


def test_same_data_gives_the_same_files_and_version(tmp_path):
    lake = LakeResource(uri=str(tmp_path))
    _write(lake, [1, 2, 3], "scored_transactions")
    first = lake.manifest("scored_transactions", DAY)
    _write(lake, [1, 2, 3], "scored_transactions")
    assert lake.manifest("scored_transactions", DAY) == first
    assert [f["name"] for f in first.files] == ["part-00000.parquet"]


def test_writer_droppings_are_removed_and_files_renamed(tmp_path):
    lake = LakeResource(uri=str(tmp_path))
    with lake.replace_partition("fraud_features", DAY) as folder:
        pq.write_table(pa.table({"x": [1]}), folder / "part-b-uuid.zstd.parquet")
        pq.write_table(pa.table({"x": [2]}), folder / "part-a-uuid.zstd.parquet")
        (folder / "_SUCCESS").write_text("")
        (folder / ".part-a-uuid.zstd.parquet.crc").write_text("")
    names = sorted(p.name for p in lake.local_partition("fraud_features", DAY).iterdir())
    assert names == ["_manifest.json", "part-00000.parquet", "part-00001.parquet"]
    assert lake.manifest("fraud_features", DAY).rows == 2


def test_a_killed_writers_staging_folder_is_removed_by_the_next_publish(tmp_path):
    import os
    import time

    from fraud_assets.resources.lake import ABANDONED_AFTER_SECONDS

    lake = LakeResource(uri=str(tmp_path))
    _write(lake, [1])
    month = tmp_path / "transactions/year=2026/month=03"
    abandoned = month / ".day=05.staging-dead0001"
    running = month / ".day=05.staging-live0002"
    for folder in (abandoned, running):
        folder.mkdir()
        (folder / "part-00000.parquet").write_bytes(b"")
    old = time.time() - ABANDONED_AFTER_SECONDS - 60
    os.utime(abandoned, (old, old))
    _write(lake, [2])
    assert not abandoned.exists()
    assert running.exists()  # could belong to a writer still at work
