"""Train / save / load / score round trip on a tiny frame; labels and explanations."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from pyspark.ml import PipelineModel
from pyspark.sql import functions as F

from fraud_assets.logic import model as ml
from fraud_assets.logic.metrics import auc_roc
from fraud_assets.logic.model_inputs import MODEL_INPUTS
from fraud_assets.logic.scoring import (
    RULES_AND_MODEL,
    RULES_ONLY,
    combine_with_model,
    fraud_score_of,
    score_transactions,
)
from fraud_assets_tests.model_rows import SIGNALS, feature_rows

DAY = dt.date(2025, 3, 10)
FRAUD = {3, 9, 17, 25, 33, 41, 49, 57}


@pytest.fixture(scope="module")
def rows(spark):
    table = feature_rows(DAY, 64, FRAUD)
    label = pa.array([1.0 if i in FRAUD else 0.0 for i in range(64)])
    frame = spark.createDataFrame(table.append_column(ml.LABEL, label))
    return score_transactions(frame).cache()


@pytest.fixture(scope="module")
def trained(rows):
    return ml.train(rows, MODEL_INPUTS, ml.ModelParams(max_iter=5, max_depth=2))


def test_a_saved_model_loads_and_scores_the_same(trained, rows, tmp_path):
    trained.pipeline.write().overwrite().save(str(tmp_path / "m"))
    loaded = PipelineModel.load(str(tmp_path / "m"))
    a = ml.score(trained.pipeline, rows).orderBy("transaction_id").toArrow()
    b = ml.score(loaded, rows).orderBy("transaction_id").toArrow()
    assert a[ml.PROBABILITY].to_pylist() == b[ml.PROBABILITY].to_pylist()
    assert a.column_names == [*rows.columns, ml.PROBABILITY]  # helper columns dropped
    assert auc_roc(a[ml.PROBABILITY].to_numpy(), a[ml.LABEL].to_numpy() > 0) == 1.0
    assert (trained.training_rows, trained.training_frauds) == (64, len(FRAUD))
    # The planted signal carries the importance.
    weights = dict(zip(trained.explainer.features, trained.explainer.weights, strict=True))
    assert sum(weights.get(s, 0.0) for s in SIGNALS) > 0.9


def test_training_needs_both_classes(rows):
    with pytest.raises(ValueError, match="need both classes"):
        ml.train(rows.where(F.col(ml.LABEL) == 0), MODEL_INPUTS, ml.ModelParams(max_iter=2))


def test_labels_follow_the_availability_rule_and_the_latest_report_wins(spark):
    at = lambda d, h: dt.datetime(2025, 3, d, h)  # noqa: E731
    reports = spark.createDataFrame(
        [
            ("T1", True, at(5, 10)),
            ("T1", False, at(6, 10)),  # reversal before the cutoff: T1 is legit
            ("T2", True, at(6, 23)),
            ("T3", True, at(7, 0)),  # reported at the cutoff itself: not yet known
            ("T4", True, at(5, 1)),
            ("T4", False, at(8, 1)),  # reversal after the cutoff: T4 still fraud
        ],
        "transaction_id string, is_fraud boolean, reported_at timestamp",
    )
    known = ml.labels_known_before(reports, dt.date(2025, 3, 7))
    assert {r["transaction_id"]: r["is_fraud"] for r in known.collect()} == {
        "T1": False,
        "T2": True,
        "T4": True,
    }


def test_model_scores_combine_with_rules_and_explain_themselves(trained, rows, spark):
    features = spark.createDataFrame(feature_rows(DAY, 64, FRAUD))
    model = ml.ScoringModel("gbt-test-1", trained.pipeline, trained.explainer)
    cold = combine_with_model(score_transactions(features), None).toArrow().to_pylist()
    warm = combine_with_model(score_transactions(features), model).toArrow().to_pylist()
    by_id = {r["transaction_id"]: r for r in warm}
    for r in cold:  # cold start: rules only, and it says so
        assert r["model_score"] is None and r["model_version"] is None
        assert r["scoring_mode"] == RULES_ONLY and r["fraud_score"] == r["rule_score"]
    for r in warm:
        assert r["scoring_mode"] == RULES_AND_MODEL and r["model_version"] == "gbt-test-1"
        assert r["fraud_score"] == min(100, r["rule_score"] + r["model_score"])
        assert 0 <= r["model_score"] <= 100
    first = by_id[f"T{DAY:%Y%m%d}000000"]  # velocity 5 at 03:xx: 45 rule points
    assert first["rule_score"] == 45 and first["fraud_score"] >= 45
    assert set(first["rules_triggered"]) == {"HIGH_VELOCITY", "UNUSUAL_TIME"}
    fraud = by_id[f"T{DAY:%Y%m%d}{min(FRAUD):06d}"]
    assert fraud["model_score"] > 50 and fraud["risk_level"] in ("MEDIUM", "HIGH", "CRITICAL")
    assert fraud["model_top_features"][0].split("=")[0] in SIGNALS
    assert "MODEL gbt-test-1:" in fraud["description"]
    assert fraud["alert_type"] == "RULES+MODEL"


def test_fraud_score_adds_the_model_to_the_rules_capped_at_100(spark):
    cases = [  # rule_score, model_score, fraud_score
        (0, "12.34", "12.34"),
        (45, "20.50", "65.50"),  # a rule alert is never lowered, the model raises it
        (90, "30.00", "100.00"),  # capped
        (100, "99.99", "100.00"),
        (30, None, "30.00"),  # no model score: the rules alone
    ]
    frame = spark.createDataFrame(
        [(r, m) for r, m, _ in cases], "rule_score int, model_score string"
    ).withColumn("model_score", F.col("model_score").cast("decimal(5,2)"))
    out = frame.select(fraud_score_of(F.col("rule_score"), F.col("model_score")).alias("f"))
    assert [str(r["f"]) for r in out.collect()] == [f for _, _, f in cases]


def test_heavier_fraud_weight_raises_the_probabilities(rows):
    # Some legit-looking rows labelled fraud: leaves mix both classes, so the weight shows
    # (on cleanly separable rows every leaf is pure and weights change nothing).
    noise = [f"T{DAY:%Y%m%d}{i:06d}" for i in (0, 7, 14, 21)]
    noisy = rows.withColumn(
        ml.LABEL, F.when(F.col("transaction_id").isin(noise), 1.0).otherwise(F.col(ml.LABEL))
    )
    probabilities = []
    for weight in (1.0, 5.0):
        params = ml.ModelParams(max_iter=3, max_depth=2, fraud_weight=weight)
        model = ml.train(noisy, MODEL_INPUTS, params)
        probabilities.append(ml.score(model.pipeline, noisy).toArrow()[ml.PROBABILITY].to_numpy())
    plain, heavy = probabilities
    assert heavy.mean() > plain.mean() + 0.05
