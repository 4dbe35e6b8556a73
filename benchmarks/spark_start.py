"""Local Spark session start and first query, with and without the JVM class archive.

    .venv/bin/python benchmarks/spark_start.py [--runs 3]

Each try is a fresh Python process (a fresh JVM), as each Dagster step is. Prints the
median of the session's start (`local_spark_session()`) and of a first tiny aggregation.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

_TRY = r"""
import json, sys, time
from fraud_assets.resources.spark import local_spark_session
# The archive is the driver's only extra Java option: an empty one leaves it out.
overrides = {"spark.driver.extraJavaOptions": ""} if sys.argv[1] == "without" else {}
t0 = time.perf_counter()
spark = local_spark_session(**overrides)
t1 = time.perf_counter()
spark.range(1000).selectExpr("id % 7 AS k").groupBy("k").count().collect()
t2 = time.perf_counter()
print(json.dumps({"start": t1 - t0, "first_query": t2 - t1}))
spark.stop()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from fraud_assets.resources.spark_archive import archive_path

    path = archive_path()
    if path is None or not path.is_file():
        sys.exit("no archive: run bin/setup (or python -m fraud_assets.resources.spark_archive)")
    results: dict[str, list[dict]] = {"without": [], "with": []}
    for _ in range(args.runs):
        for variant in results:  # alternated, so a busy moment hits both
            out = subprocess.run(
                [sys.executable, "-c", _TRY, variant],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            results[variant].append(json.loads(out.strip().splitlines()[-1]))
    print(f"archive {path} ({path.stat().st_size / 2**20:.0f} MiB), {args.runs} runs each")
    print("| archive | session start s | first query s |")
    print("| --- | ---: | ---: |")
    for variant, rows in results.items():
        start = statistics.median(r["start"] for r in rows)
        first = statistics.median(r["first_query"] for r in rows)
        print(f"| {variant} | {start:.1f} | {first:.1f} |")


if __name__ == "__main__":
    main()
