"""Spark writing the lake itself (EMR's route to s3://) vs staging locally (this machine's).

Both lakes here are `file://` URIs: the object-store layout (versioned folders, manifest
last) on a local disk, driven through the same pyarrow filesystem calls as s3://.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import functions as F

from fraud_assets.defs.detection.lake_inputs import write_days
from fraud_assets.resources.lake import LakeResource

DAYS = [dt.date(2026, 4, 1), dt.date(2026, 4, 2), dt.date(2026, 4, 3)]


def test_direct_and_staged_writes_publish_identical_partitions(spark, tmp_path):
    rows = [(f"T{i:03d}", DAYS[i % 2], float(i)) for i in range(30)]  # nothing on 04-03
    df = spark.createDataFrame(rows, "transaction_id string, day date, amount double")
    direct = LakeResource(uri=f"file://{tmp_path}/direct", spark_direct=True)
    staged = LakeResource(uri=f"file://{tmp_path}/staged", cache_dir=str(tmp_path / "cache"))

    for lake in (direct, staged, direct):  # direct twice: a re-run
        write_days(df, lake, "example", DAYS, F.col("day"), "transaction_id", {DAYS[0]: {"k": 1}})

    for day in DAYS:
        a, b = direct.manifest("example", day), staged.manifest("example", day)
        assert a is not None and b is not None
        assert (a.version, a.rows, a.files, a.extra) == (b.version, b.rows, b.files, b.extra)
        # Only the live version is left, no scratch, and Spark reads it back.
        folder = tmp_path / "direct" / "example" / f"date={day}"
        assert sorted(p.name for p in folder.iterdir()) == ["_manifest.json", f"_v={a.version}"]
        if a.rows:
            assert spark.read.parquet(direct.spark_path("example", day)).count() == a.rows
    assert [direct.manifest("example", d).rows for d in DAYS] == [15, 15, 0]
    assert direct.manifest("example", DAYS[0]).extra == {"k": 1}
    assert not list((tmp_path / "direct" / "_scratch").iterdir())
