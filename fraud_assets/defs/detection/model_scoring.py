"""Which promoted model scores which day, and the day's scores (rules + model)."""

from __future__ import annotations

import datetime as dt
from itertools import groupby

from pyspark.sql import DataFrame, SparkSession

from fraud_assets.logic.features import MODEL_FEATURES
from fraud_assets.logic.model import Explainer, ScoringModel
from fraud_assets.logic.scoring import combine_with_model, score_transactions
from fraud_assets.resources import model_store
from fraud_assets.resources.lake import LakeResource


def models_for_days(lake: LakeResource, days: list[dt.date]) -> dict[dt.date, ScoringModel | None]:
    """Day -> the newest model promoted on or before it (None: cold start, rules only).
    A model is loaded once however many days it scores."""
    history = model_store.promotions(lake)
    loaded: dict[str, ScoringModel] = {}
    out: dict[dt.date, ScoringModel | None] = {}
    for day in days:
        record = model_store.promoted_for(lake, day, history)
        if record is None:
            out[day] = None
            continue
        if record["version"] not in loaded:
            loaded[record["version"]] = ScoringModel(
                record["version"],
                model_store.load_model(lake, record),
                Explainer.from_json(record["explainer"]),
            )
        out[day] = loaded[record["version"]]
    return out


def score_days(
    spark: SparkSession, lake: LakeResource, models: dict[dt.date, ScoringModel | None]
) -> DataFrame:
    """Every transaction of the days scored: consecutive days sharing a model are read
    and scored together, then the groups are unioned (same columns).

    The rows keep the transaction, the rule inputs that explain its points and the scores;
    the model's ~30 inputs stay in fraud_features (same transaction_id) rather than being
    decoded and written a second time, which was most of this step's cost at 1M rows."""
    parts = []
    for model, group in groupby(sorted(models), key=lambda d: models[d]):
        days = list(group)
        features = spark.read.parquet(*[lake.spark_path("fraud_features", d) for d in days])
        parts.append(combine_with_model(score_transactions(features), model).drop(*MODEL_FEATURES))
    scored = parts[0]
    for part in parts[1:]:
        scored = scored.unionByName(part)
    return scored
