"""fraud_model: one model per UTC day D, trained only on labels reported before D.

Window (defaults): the 14 days ending `label_delay_days` before D (D-21 .. D-8): fit on
the first 13, validate on the last (one week held too few known frauds: docs/model.md). Recent days are left out because their labels are
still mostly unknown (chargebacks arrive 2-20 days late). The promotion gate compares
the new model with the promoted one on the same validation rows.
"""

import datetime as dt
import hashlib
import json
from typing import Any

import dagster as dg
from dagster_pyspark import LazyPySparkResource
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fraud_assets.defs.metadata import OWNERS, per_day_table
from fraud_assets.defs.model.checks import PROMOTION_CHECK, promotion_decision, promotion_result
from fraud_assets.defs.model.labels import FEEDBACK, feedback_reports
from fraud_assets.logic import model as ml
from fraud_assets.logic.metrics import Quality, quality
from fraud_assets.logic.model_inputs import MODEL_INPUTS
from fraud_assets.logic.scoring import score_transactions
from fraud_assets.partitions import daily_partitions, days_before, partition_days
from fraud_assets.resources import model_store
from fraud_assets.resources.lake import LakeResource

WINDOW_DAYS = 14
LABEL_DELAY_DAYS = 7

# fraud_model for D reads fraud_features of D-21 .. D-8 and the labels reported on
# D-21 .. D-1 (the UI shows both windows).
FEATURE_WINDOW = days_before(-(WINDOW_DAYS + LABEL_DELAY_DAYS), -(LABEL_DELAY_DAYS + 1))
LABEL_WINDOW = days_before(-(WINDOW_DAYS + LABEL_DELAY_DAYS), -1)


class ModelConfig(dg.Config):
    window_days: int = WINDOW_DAYS  # fit on all but the last, validate on the last
    label_delay_days: int = LABEL_DELAY_DAYS
    kind: str = "gbt"  # or "logreg"
    max_iter: int = ml.ModelParams.max_iter
    max_depth: int = ml.ModelParams.max_depth
    step_size: float = ml.ModelParams.step_size
    # A new model is promoted unless a validation metric falls more than this below.
    tolerance: float = 0.0


def training_window(day: dt.date, window_days: int, delay: int) -> list[dt.date]:
    last = day - dt.timedelta(days=delay + 1)
    return [last - dt.timedelta(days=i) for i in range(window_days - 1, -1, -1)]


def _quality_on(rows: DataFrame, probability: str = ml.PROBABILITY) -> Quality:
    t = rows.select(probability, ml.LABEL, "customer_id", "_day").toArrow()
    return quality(
        t[probability].to_numpy(),
        t[ml.LABEL].to_numpy() > 0.5,
        t["customer_id"].to_pylist(),
        t["_day"].to_pylist(),
    )


def _version(kind: str, day: dt.date, inputs: dict) -> str:
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode())
    return f"{kind}-{day:%Y%m%d}-{digest.hexdigest()[:10]}"


def train_for_day(spark, lake: LakeResource, day: dt.date, config: ModelConfig) -> dict:
    """Train, validate, gate and store the model for `day`; returns its decision."""
    window = training_window(day, config.window_days, config.label_delay_days)
    present = [d for d in window if lake.manifest("fraud_features", d) is not None]
    fit_days, validation_day = present[:-1], present[-1] if present else None
    if not fit_days or validation_day != window[-1]:
        return {"promoted": False, "reason": f"not trained: fraud_features missing in {window}"}
    label_days = [window[0] + dt.timedelta(days=i) for i in range((day - window[0]).days)]
    reports = feedback_reports(spark, lake, label_days)
    if reports is None:
        return {"promoted": False, "reason": f"not trained: no {FEEDBACK} before {day}"}
    cutoff = dt.datetime.combine(day, dt.time())
    rows = (
        ml.labelled(
            score_transactions(
                spark.read.parquet(*[lake.spark_path("fraud_features", d) for d in present])
            ),
            ml.labels_known_before(reports, day),
        )
        .withColumn("_day", F.to_date("transaction_date"))
        .cache()
    )
    try:
        params = ml.ModelParams(
            kind=config.kind,
            max_iter=config.max_iter,
            max_depth=config.max_depth,
            step_size=config.step_size,
        )
        try:
            trained = ml.train(rows.where(F.col("_day") != validation_day), MODEL_INPUTS, params)
        except ValueError as exc:
            return {"promoted": False, "reason": f"not trained: {exc}"}
        validation = rows.where(F.col("_day") == validation_day)
        new_q = _quality_on(ml.score(trained.pipeline, validation))
        current = model_store.promoted_for(lake, day - dt.timedelta(days=1))
        current_q = None
        if current is not None:
            current_pipeline = model_store.load_model(lake, current)
            current_q = _quality_on(ml.score(current_pipeline, validation))
    finally:
        rows.unpersist()
    promote, reason = promotion_decision(new_q, current_q, config.tolerance)
    inputs = {
        "features": {d.isoformat(): lake.manifest("fraud_features", d).version for d in present},
        "feedback": {
            d.isoformat(): m.version
            for d in label_days
            if (m := lake.manifest(FEEDBACK, d)) is not None
        },
        "params": vars(params),
        "model_features": MODEL_INPUTS,
    }
    record = {
        "version": _version(config.kind, day, inputs),
        "day": day.isoformat(),
        "kind": config.kind,
        "params": vars(params),
        "features": list(MODEL_INPUTS),
        "training_window": {
            "fit_days": [d.isoformat() for d in fit_days],
            "validation_day": validation_day.isoformat(),
            "labels_reported_before": cutoff.isoformat() + "Z",
        },
        "training_rows": trained.training_rows,
        "training_known_frauds": trained.training_frauds,
        "validation": new_q.as_dict(),
        "compared_with": None if current is None else current["version"],
        "compared_with_validation": None if current_q is None else current_q.as_dict(),
        "promoted": promote,
        "reason": reason,
        "explainer": trained.explainer.to_json(),
    }
    model_store.save_model(lake, day, trained.pipeline, record)
    model_store.set_promotion(lake, day, record if promote else None)
    return {
        "promoted": promote,
        "reason": reason,
        "version": record["version"],
        "auc_roc": new_q.as_dict()["auc_roc"],
        "average_precision": new_q.as_dict()["average_precision"],
        "current": record["compared_with"] or "-",
    }


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    ins={
        "fraud_features": dg.AssetIn(partition_mapping=FEATURE_WINDOW, dagster_type=dg.Nothing),
        "fraud_feedback": dg.AssetIn(partition_mapping=LABEL_WINDOW, dagster_type=dg.Nothing),
    },
    group_name="model",
    kinds={"pyspark", "spark_ml"},
    owners=OWNERS,
    description=(
        "The learned fraud model for scoring day D (Spark MLlib gradient-boosted trees over "
        "MODEL_FEATURES), trained on the fraud_features of "
        "D-21 .. D-8 (window_days 14) with the labels "
        "reported before D began, validated on D-8, versioned in the lake "
        "(`fraud_model/date=D/_v=<version>/`, record `_model.json`). Promoted "
        "(`fraud_model/_promoted.json`) only if not worse than the promoted model."
    ),
    check_specs=[PROMOTION_CHECK],
)
def fraud_model(
    context: dg.AssetExecutionContext,
    config: ModelConfig,
    pyspark: LazyPySparkResource,
    pyspark_step_launcher: dg.ResourceParam[Any],
    lake: LakeResource,
) -> dg.MaterializeResult:
    spark = pyspark.spark_session
    # Oldest first: each day's gate compares with what the days before promoted.
    decisions = {d: train_for_day(spark, lake, d, config) for d in partition_days(context)}
    last_day = max(decisions)
    last = decisions[last_day]
    promoted = model_store.promoted_for(lake, last_day)
    return dg.MaterializeResult(
        metadata={
            "model_version": last.get("version", "-"),
            "promoted": last["promoted"],
            "reason": last["reason"],
            "validation_auc_roc": last.get("auc_roc", float("nan")),
            "validation_average_precision": last.get("average_precision", float("nan")),
            "promoted_version_now": promoted["version"] if promoted else "none (rules only)",
            "features": dg.MetadataValue.json(list(MODEL_INPUTS)),
            "per_day": per_day_table(
                {
                    d: {k: v.get(k, "-") for k in ("version", "promoted", "reason")}
                    for d, v in decisions.items()
                }
            ),
            "path": dg.MetadataValue.path(lake.dataset_uri(model_store.DATASET)),
        },
        check_results=[promotion_result(decisions)],
    )
