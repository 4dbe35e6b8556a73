"""Re-run Spark assets of the benchmark day over a home `bench_day.py run` already filled.

    .venv/bin/python benchmarks/rerun_assets.py --home /work/bench-1m-h7 [fraud_features fraud_alerts]

For trying one change at a time: a fresh Spark session with its event log on (extra
settings: `--conf key=value`), each asset timed as its own run over day D's inputs as
they are (D's transactions and feedback must already be in the lake), then the slowest
Spark stages of each. Uses the code this interpreter imports (the work tree), not a
snapshot; compare against the same harness on the code before, not against `bench_day.py`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_day  # noqa: E402 - beside this script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--day", type=dt.date.fromisoformat, default=bench_day.BENCH_DAY)
    parser.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("assets", nargs="*", default=["fraud_features", "fraud_alerts"])
    args = parser.parse_args()

    bench_day.setup_environment(args.home)
    from dagster import DagsterInstance
    from dagster_pyspark.resources import spark_session_from_config

    from fraud_assets.definitions import defs

    event_dir = args.home / "spark-events" / f"rerun-{dt.datetime.now():%Y%m%d-%H%M%S}"
    event_dir.mkdir(parents=True)
    spark = spark_session_from_config(
        {
            **defs.resources["pyspark"].spark_config,
            "spark.eventLog.enabled": "true",
            "spark.eventLog.dir": event_dir.as_uri(),
            "spark.eventLog.compress": "false",
            **dict(kv.split("=", 1) for kv in args.conf),
        }
    )
    spark.range(10).count()
    job = defs.resolve_job_def("daily_fraud_detection")
    instance = DagsterInstance.get()
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    windows = {}
    for asset in args.assets:
        started = time.time()
        seconds, result = bench_day.run_asset(job, instance, asset, args.day, quiet)
        windows[asset] = (started, time.time())
        print(f"{asset}: {seconds:.1f} s, success={result.success}", flush=True)
    spark.stop()  # flushes the event log
    print(f"event log: {event_dir} (benchmarks/spark_stage_cost.py {event_dir})")
    for asset, rows in bench_day.spark_stage_profile(event_dir, windows, top=10).items():
        for r in rows:
            print(f"  {asset} | {r['job'][:60]:60s} | {r['name'][:50]:50s} | {r['seconds']:6.2f} s")


if __name__ == "__main__":
    main()
