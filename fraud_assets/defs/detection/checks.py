"""Checks on fraud_features and fraud_alerts, returned with their materializations."""

from __future__ import annotations

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fraud_assets.defs.metadata import explanation
from fraud_assets.logic.scoring import RISK_THRESHOLDS

FEATURES_CHECK = dg.AssetCheckSpec(
    "one_row_per_transaction",
    asset="fraud_features",
    blocking=True,
    description="Exactly one feature row per transaction of the day, required features non-null.",
)

ALERTS_CHECK = dg.AssetCheckSpec(
    "scores_and_levels_consistent",
    asset="fraud_alerts",
    blocking=True,
    description="Scores within 0..100 and every alert's risk level follows from its score.",
)


def features_cover_days_result(
    features: DataFrame, expected_rows: dict, model_nulls: dict | None = None
) -> dg.AssetCheckResult:
    """Per day: as many feature rows as transactions, one per id, required features set,
    value ranges held (velocity >= 1, local hour 0-23, history count >= 0), and no NULL in
    a model feature (`model_nulls`: day -> {column: NULLs}, from the files' footers)."""
    rows = (
        features.groupBy(F.to_date("transaction_date").alias("day"))
        .agg(
            F.count(F.lit(1)).alias("rows"),
            F.countDistinct("transaction_id").alias("ids"),
            F.sum(
                F.when(
                    F.col("amount_usd").isNull()
                    | F.col("velocity_1h").isNull()
                    | F.col("customer_id").isNull(),
                    1,
                ).otherwise(0)
            ).alias("nulls"),
            F.sum(
                F.when(
                    (F.col("velocity_1h") < 1)
                    | ~F.coalesce(F.col("local_hour").between(0, 23), F.lit(True))
                    | (F.col("hist_txn_count_30d") < 0),
                    1,
                ).otherwise(0)
            ).alias("out_of_range"),
        )
        .collect()
    )
    found = {r["day"]: r for r in rows}
    problems = {}
    for day, expected in sorted(expected_rows.items()):
        r = found.get(day)
        got = (r["rows"], r["ids"], r["nulls"], r["out_of_range"]) if r else (0, 0, 0, 0)
        if got != (expected, expected, 0, 0):
            problems[day.isoformat()] = {
                "expected": expected,
                "rows": got[0],
                "distinct_ids": got[1],
                "missing_required": got[2],
                "out_of_range": got[3],
            }
    for day, nulls in sorted((model_nulls or {}).items()):
        if any(nulls.values()):
            problems.setdefault(day.isoformat(), {})["model_feature_nulls"] = {
                c: n for c, n in nulls.items() if n
            }
    return dg.AssetCheckResult(
        check_name=FEATURES_CHECK.name,
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "days": len(expected_rows),
            "feature_rows": sum(r["rows"] for r in rows),
            "transactions": sum(expected_rows.values()),
            "problem_days": dg.MetadataValue.json(problems),
            "explanation": explanation(problems, "one complete row per transaction"),
        },
    )


def expected_level(score: float) -> str:
    for name, threshold in RISK_THRESHOLDS:
        if score >= threshold:
            return name
    return "LOW"


def alerts_consistency_result(alerts: pa.Table) -> dg.AssetCheckResult:
    scores = alerts["fraud_score"].to_pylist()
    levels = alerts["risk_level"].to_pylist()
    ids = alerts["transaction_id"].to_pylist()
    bad = [
        i
        for i, s, lvl in zip(ids, scores, levels, strict=True)
        if not (0 <= s <= 100) or expected_level(float(s)) != lvl
    ]
    duplicated = (
        alerts.num_rows - len(pc.unique(alerts["transaction_id"])) if alerts.num_rows else 0
    )
    return dg.AssetCheckResult(
        check_name=ALERTS_CHECK.name,
        passed=not bad and duplicated == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "alerts": alerts.num_rows,
            "inconsistent": len(bad),
            "sample": dg.MetadataValue.json(bad[:10]),
            "duplicated_ids": duplicated,
            "explanation": explanation(
                {
                    k: v
                    for k, v in {"inconsistent": bad[:10], "duplicated_ids": duplicated}.items()
                    if v
                },
                "scores and levels consistent",
            ),
        },
    )


REFERENCES_CHECK = dg.AssetCheckSpec(
    "alerts_reference_the_days_transactions",
    asset="fraud_alerts",
    blocking=True,
    description="Every alert of the day names a transaction stored for that day in PostgreSQL.",
)

RATE_CHECK = dg.AssetCheckSpec(
    "alert_rate_within_band",
    asset="fraud_alerts",
    description=(
        "The share of transactions that became alerts stays within the configured band "
        "(WARN): a rule that suddenly fires on everything, or on nothing, is noticed."
    ),
)


def references_result(conn, days: list) -> dg.AssetCheckResult:
    import datetime as dt

    orphans = {}
    for day in days:
        start = dt.datetime.combine(day, dt.time())
        rows = conn.execute(
            """SELECT a.transaction_id FROM fraud_alerts a
                WHERE a.transaction_date >= %(s)s AND a.transaction_date < %(e)s AND a.is_produced
                  AND NOT EXISTS (SELECT 1 FROM transactions t
                                   WHERE t.transaction_id = a.transaction_id
                                     AND t.transaction_date >= %(s)s AND t.transaction_date < %(e)s)
                ORDER BY 1""",
            {"s": start, "e": start + dt.timedelta(days=1)},
        ).fetchall()
        if rows:
            orphans[day.isoformat()] = {"count": len(rows), "sample": [r[0] for r in rows[:5]]}
    return dg.AssetCheckResult(
        check_name=REFERENCES_CHECK.name,
        passed=not orphans,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "days": len(days),
            "alerts_without_transaction": dg.MetadataValue.json(orphans),
            "explanation": explanation(orphans, "every alert references its transaction"),
        },
    )


def rate_result(
    alerts_by_day: dict, scored_by_day: dict, low: float, high: float
) -> dg.AssetCheckResult:
    rates = {
        d.isoformat(): (alerts_by_day.get(d, 0) / n if n else 0.0) for d, n in scored_by_day.items()
    }
    outside = {d: r for d, r in rates.items() if not low <= r <= high}
    return dg.AssetCheckResult(
        check_name=RATE_CHECK.name,
        passed=not outside,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "band": f"{low:.4%} .. {high:.4%}",
            "rates": dg.MetadataValue.json(rates),
            "outside": dg.MetadataValue.json(outside),
            "explanation": explanation(outside, "every day within the band"),
        },
    )
