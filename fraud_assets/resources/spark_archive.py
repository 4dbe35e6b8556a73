"""A class-data-sharing (AppCDS) archive for the local Spark driver JVM.

Why: a local Spark session spends most of its start, and much of its first queries,
loading and verifying thousands of classes from the Spark jars, again in every process
(each Dagster step, each EMR-emulator step). The JVM can instead map them from an archive
written once (`-XX:ArchiveClassesAtExit`, then `-XX:SharedArchiveFile`; JDK 13+). Measured
on this 2-core machine with `benchmarks/spark_start.py`: see README "Benchmark".

The archive belongs to one java binary and one set of Spark jars (one virtualenv), so it
lives in the virtualenv and its name carries a digest of both. `bin/setup` builds it
(`python -m fraud_assets.resources.spark_archive`). A JVM given an archive that does not
match its classpath ignores it and loads classes as before: the archive only ever saves
time, it never changes what runs. Local and test environments only; EMR steps run the
cluster's own JVM.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# Unified-logging selectors silenced so a mismatched archive does not print warnings
# into every step's log (it is then simply not used).
CDS_QUIET = "-Xlog:cds=off -Xlog:cds+dynamic=off"


def java_binary() -> Path | None:
    # The binary PySpark's launcher will run: JAVA_HOME's, else the one on PATH.
    home = os.environ.get("JAVA_HOME")
    found = Path(home) / "bin" / "java" if home else shutil.which("java")
    return Path(found).resolve() if found and Path(found).exists() else None


def archive_path() -> Path | None:
    """Where this virtualenv's archive is (or would be); None without a java binary."""
    java = java_binary()
    if java is None:
        return None
    import pyspark

    stat = java.stat()
    key = "|".join(
        [
            str(java),
            str(stat.st_size),
            str(int(stat.st_mtime)),
            pyspark.__version__,
            str(Path(pyspark.__file__).parent),
        ]
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    folder = Path(os.environ.get("FRAUD_SPARK_ARCHIVE_DIR") or Path(sys.prefix) / "spark-cds")
    return folder / f"spark-{pyspark.__version__}-{digest}.jsa"


def driver_java_options() -> dict[str, str]:
    """The Spark setting that makes the driver JVM use the archive, when it was built."""
    path = archive_path()
    if path is None or not path.is_file():
        return {}
    return {"spark.driver.extraJavaOptions": f"-XX:SharedArchiveFile={path} {CDS_QUIET}"}


def build_archive(force: bool = False) -> Path | None:
    """Write the archive once: a JVM runs a small query of every kind the assets use
    (Parquet zstd, aggregations with sets, windows, joins, Arrow) and dumps the classes it
    loaded when it exits. Written aside and renamed, so a reader never maps half a file."""
    path = archive_path()
    if path is None:
        return None
    if path.is_file() and not force:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        partial = Path(scratch) / path.name
        done = subprocess.run(
            [sys.executable, "-m", "fraud_assets.resources.spark_archive", "--dump", str(partial)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        if done.returncode != 0 or not partial.is_file():
            # Only time is lost without it: say so and go on.
            print(f"Spark class archive not built:\n{done.stderr[-2000:]}", file=sys.stderr)
            return None
        os.replace(partial, path)
    # An archive of a previous JDK or Spark would never match again: ~170 MB freed.
    for old in path.parent.glob("spark-*.jsa"):
        if old != path:
            old.unlink()
    return path


def _dump(target: str) -> None:
    import datetime as dt
    from decimal import Decimal

    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from fraud_assets.resources.spark import local_spark_session

    spark = local_spark_session(
        **{"spark.driver.extraJavaOptions": f"-XX:ArchiveClassesAtExit={target} {CDS_QUIET}"}
    )
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = [
        (f"T{i}", f"C{i % 7}", base + dt.timedelta(minutes=i), Decimal(i) / 3, f"M{i % 5}", "FR")
        for i in range(200)
    ]
    df = spark.createDataFrame(
        rows,
        "id string, card string, ts timestamp, amount decimal(14,2), merchant string, country string",
    )
    with tempfile.TemporaryDirectory() as folder:
        df.repartition(2, "card").sortWithinPartitions("id").write.option(
            "compression", "zstd"
        ).parquet(folder + "/t")
        t = spark.read.parquet(folder + "/t")
        by_time = (
            Window.partitionBy("card").orderBy(F.col("ts").cast("long")).rangeBetween(-3600, 0)
        )
        per_card = t.groupBy("card").agg(
            F.count("*").alias("n"),
            F.sum("amount").alias("s"),
            F.collect_set("merchant").alias("m"),
        )
        out = (
            t.withColumn("v", F.count("*").over(by_time))
            .withColumn("prev", F.lag("country").over(Window.partitionBy("card").orderBy("ts")))
            .join(F.broadcast(per_card), "card")
            .withColumn("k", F.size(F.array_distinct(F.concat(F.col("m"), F.array("merchant")))))
        )
        out.write.option("compression", "zstd").parquet(folder + "/o")
        spark.read.parquet(folder + "/o").where(F.col("v") > 1).toArrow()
    jvm = spark.sparkContext._gateway.proc
    spark.stop()
    # The JVM writes the archive as it exits, which it does when its stdin closes: wait
    # for it, so the caller never publishes a file still being written.
    jvm.stdin.close()
    if jvm.wait(timeout=600) != 0:
        sys.exit(f"the Spark JVM exited with {jvm.returncode}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--dump"]:
        _dump(sys.argv[2])
    else:
        built = build_archive(force="--force" in sys.argv)
        print(built or "no java binary: no Spark class archive")
