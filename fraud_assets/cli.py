"""`fraud-assets`: the commands around the Dagster code location.

fraud-assets demo           generate a week of demo data, run the daily job for each
                            day, print a summary (the README's first command)
fraud-assets generate       write demo landing feeds (and ground truth) for N days
fraud-assets materialize    run the daily job for a day or a date range
fraud-assets summary        transactions, alerts by risk level, top rules
fraud-assets db up|migrate|status|stop
fraud-assets ui             Dagster UI and daemon on 127.0.0.1
fraud-assets alerts review|history   an analyst's decision on an alert, and its trail
fraud-assets emr ...        package, create-cluster, submit, status, terminate (docs/emr.md)
fraud-assets evaluate       time-split evaluation of the scores on generated data
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def cmd_db(args: argparse.Namespace) -> int:
    from fraud_assets.db.local_cluster import cluster_status, stop_local_cluster
    from fraud_assets.environments import project_home
    from fraud_assets.local import prepare_local_environment

    root = project_home() / "postgres"
    if args.action == "stop":
        stop_local_cluster(root)
        print("local PostgreSQL stopped")
    elif args.action == "status":
        print(cluster_status(root) or "local PostgreSQL is not running")
    else:  # up / migrate
        env = prepare_local_environment()
        for key in sorted(env):
            value = "********" if "PASSWORD" in key else env[key]
            print(f"{key}={value}")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from fraud_assets.demo import GeneratorConfig, generate
    from fraud_assets.environments import project_home

    home = project_home()
    landing = Path(args.landing or os.environ.get("FRAUD_LANDING_URI") or home / "landing")
    truth = Path(args.truth or home / "ground_truth")
    config = GeneratorConfig(
        start=args.start, days=args.days, transactions_per_day=args.per_day, seed=args.seed
    )
    summary = generate(config, landing, truth)
    print(
        f"wrote {summary.transactions:,} transactions ({summary.frauds:,} fraudulent) for "
        f"{summary.days[0]} .. {summary.days[-1]} to {landing}; ground truth in {truth}"
    )
    return 0


def materialize_days(
    days: list[dt.date],
    source_mode: str = "landing",
    min_risk_level: str = "MEDIUM",
    one_run: bool = True,
) -> bool:
    """Run the daily job for consecutive days: by default one run for the whole range (a
    single-run backfill: one Spark session, one pass over the lake), else one run per day."""
    from dagster import DagsterInstance

    from fraud_assets.definitions import defs

    job = defs.resolve_job_def("daily_fraud_detection")
    instance = DagsterInstance.get()
    run_config = {
        "ops": {
            "postgres_transactions": {"config": {"source_mode": source_mode}},
            "fraud_alerts": {"config": {"min_risk_level": min_risk_level}},
        },
        # Step-by-step DEBUG events are in the UI; the terminal gets the story.
        "loggers": {"console": {"config": {"log_level": "WARNING"}}},
    }
    batches = [days] if one_run and len(days) > 1 else [[d] for d in days]
    for batch in batches:
        first, last = batch[0].isoformat(), batch[-1].isoformat()
        if len(batch) == 1:
            key, tags = first, None
        else:
            key = None
            tags = {
                "dagster/asset_partition_range_start": first,
                "dagster/asset_partition_range_end": last,
            }
        result = job.execute_in_process(
            partition_key=key,
            tags=tags,
            instance=instance,
            run_config=run_config,
            raise_on_error=False,
        )
        label = first if len(batch) == 1 else f"{first} .. {last}"
        print(f"{label}: run {result.run_id} {'ok' if result.success else 'FAILED'}", flush=True)
        if not result.success:
            for event in result.all_events:
                if event.is_failure or event.event_type_value == "ASSET_CHECK_EVALUATION":
                    print("   ", event.message)
            return False
    return True


def cmd_materialize(args: argparse.Namespace) -> int:
    from fraud_assets.local import prepare_local_environment

    prepare_local_environment()
    end = args.end or args.start
    return (
        0 if materialize_days(_days(args.start, end), args.source_mode, args.min_risk_level) else 1
    )


def cmd_summary(args: argparse.Namespace) -> int:
    from fraud_assets.local import database_conninfo, prepare_local_environment
    from fraud_assets.summary import summarize

    prepare_local_environment()
    print(
        summarize(
            database_conninfo(), args.start, args.end or args.start, os.environ["FRAUD_LAKE_URI"]
        )
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from fraud_assets.local import database_conninfo, prepare_local_environment
    from fraud_assets.summary import summarize

    env = prepare_local_environment()
    end = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    start = end - dt.timedelta(days=args.days - 1)
    args.start, args.landing, args.truth = start, None, None
    cmd_generate(args)
    if not materialize_days(_days(start, end)):
        return 1
    print()
    print(
        summarize(
            database_conninfo(), start, end, env.get("FRAUD_LAKE_URI", os.environ["FRAUD_LAKE_URI"])
        )
    )
    print()
    print(
        "Open these results in the Dagster UI:  .venv/bin/fraud-assets ui   (then http://127.0.0.1:3000)"
    )
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    from fraud_assets.ui_command import run_ui

    return run_ui(args.host, args.port)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from fraud_assets.evaluation import main as evaluate_main

    return evaluate_main(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fraud-assets",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="the embedded local PostgreSQL")
    db.add_argument("action", choices=["up", "migrate", "status", "stop"])
    db.set_defaults(func=cmd_db)

    def volume(p: argparse.ArgumentParser, days: int) -> None:
        p.add_argument("--days", type=int, default=days)
        p.add_argument("--per-day", type=int, default=2000, help="transactions per day")
        p.add_argument("--seed", type=int, default=42)

    gen = sub.add_parser("generate", help="write demo landing feeds")
    gen.add_argument("--start", type=_date, required=True)
    volume(gen, 7)
    gen.add_argument(
        "--landing", help="landing folder (default FRAUD_LANDING_URI or .local/landing)"
    )
    gen.add_argument("--truth", help="ground-truth folder (default .local/ground_truth)")
    gen.set_defaults(func=cmd_generate)

    demo = sub.add_parser("demo", help="generate a week and run the daily job for each day")
    volume(demo, 7)
    demo.set_defaults(func=cmd_demo)

    mat = sub.add_parser("materialize", help="run the daily job for a day or range")
    mat.add_argument("--start", type=_date, required=True)
    mat.add_argument("--end", type=_date)
    mat.add_argument("--source-mode", choices=["landing", "upstream"], default="landing")
    mat.add_argument(
        "--min-risk-level", choices=["LOW", "MEDIUM", "HIGH", "CRITICAL"], default="MEDIUM"
    )
    mat.set_defaults(func=cmd_materialize)

    summ = sub.add_parser("summary", help="what a day range produced")
    summ.add_argument("--start", type=_date, required=True)
    summ.add_argument("--end", type=_date)
    summ.set_defaults(func=cmd_summary)

    from fraud_assets.emr.commands import register as register_emr

    register_emr(sub, _date)

    ui = sub.add_parser("ui", help="Dagster UI + daemon on loopback")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)

    from fraud_assets.review import add_alerts_parser

    add_alerts_parser(sub)

    ev = sub.add_parser("evaluate", help="time-split evaluation on generated data (docs/model.md)")
    ev.add_argument("--start", type=_date, default=dt.date(2025, 1, 1))
    volume(ev, 35)
    ev.set_defaults(per_day=3000, func=cmd_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
