"""The learned fraud score: Spark MLlib pipelines over feature rows, pure functions.

A model is one `PipelineModel`: a SQLTransformer that turns every feature into a double
(NULL -> -1.0: every feature is >= 0, so trees can split the "unknown" value off), a
VectorAssembler, and the classifier:
- `gbt` (default): gradient-boosted trees, `GBTClassifier`;
- `logreg`: `StandardScaler` + `LogisticRegression` (the linear baseline).
Both run unchanged on EMR executors (nothing but MLlib), and save to / load from any
Hadoop path (a local folder here, `s3://` on EMR).

`model_score` = 100 x the model's probability of fraud (an estimate, not a rule score).

Explanation of a score, per row: contribution_i = w_i x (x_i - mean_i) / std_i with the
training mean and stddev of feature i;
- logreg: w_i is the coefficient on the standardised feature, so the contributions are
  exactly the terms of the log-odds (the score's own decomposition);
- gbt: w_i is the tree ensemble's feature importance and the deviation is taken in
  absolute value: "an important feature far from its usual value" - a cheap proxy, not
  an exact attribution (no SHAP here).
The top 3 positive contributions are kept with each scored transaction.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import asdict, dataclass, field

from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import GBTClassifier, LogisticRegression
from pyspark.ml.feature import SQLTransformer, StandardScaler, VectorAssembler
from pyspark.ml.functions import vector_to_array
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

MODEL_KINDS = ("gbt", "logreg")
MISSING = -1.0
LABEL = "_label"
WEIGHT = "_weight"
PROBABILITY = "model_probability"
TOP_FEATURES = 3


@dataclass(frozen=True)
class ModelParams:
    kind: str = "gbt"
    max_iter: int = 60  # trees (gbt) or iterations (logreg)
    max_depth: int = 4
    # Chosen on a validation week before the evaluation's test week (docs/model.md).
    step_size: float = 0.05
    reg_param: float = 0.001  # logreg only
    seed: int = 7
    # Weight of a known fraud row relative to a legit one (1.0: unweighted); the
    # training rows hold well under 1% frauds.
    fraud_weight: float = 1.0
    min_instances_per_node: int = 1  # gbt only
    subsampling_rate: float = 1.0  # gbt only: share of rows each tree sees

    def __post_init__(self) -> None:
        if self.kind not in MODEL_KINDS:
            raise ValueError(f"unknown model kind {self.kind!r}; expected one of {MODEL_KINDS}")


@dataclass(frozen=True)
class Explainer:
    """Per-feature weight, training mean and stddev: the explanation's inputs."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    means: tuple[float, ...]
    stds: tuple[float, ...]
    absolute: bool  # trees: |deviation|; logreg: signed

    def to_json(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_json(d: dict) -> Explainer:
        return Explainer(
            tuple(d["features"]),
            tuple(d["weights"]),
            tuple(d["means"]),
            tuple(d["stds"]),
            bool(d["absolute"]),
        )


@dataclass
class TrainedModel:
    pipeline: PipelineModel
    params: ModelParams
    explainer: Explainer
    training_rows: int = 0
    training_frauds: int = 0
    notes: dict = field(default_factory=dict)


def _prepared(name: str) -> str:
    return f"_x_{name}"


def preparation(features: tuple[str, ...]) -> SQLTransformer:
    """Every feature as a double, NULL -> MISSING (booleans: 1.0 / 0.0)."""
    bad = [f for f in features if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", f)]
    if bad:
        raise ValueError(f"feature names must be plain identifiers: {bad}")
    columns = ", ".join(
        f"coalesce(CAST(`{f}` AS DOUBLE), {MISSING}) AS `{_prepared(f)}`" for f in features
    )
    # Names are checked identifiers from MODEL_FEATURES, never data.
    return SQLTransformer(statement=f"SELECT *, {columns} FROM __THIS__")  # noqa: S608


def build_pipeline(features: tuple[str, ...], params: ModelParams) -> Pipeline:
    assembled = VectorAssembler(
        inputCols=[_prepared(f) for f in features], outputCol="_vector", handleInvalid="keep"
    )
    if params.kind == "gbt":
        classifier = GBTClassifier(
            featuresCol="_vector",
            labelCol=LABEL,
            maxIter=params.max_iter,
            maxDepth=params.max_depth,
            stepSize=params.step_size,
            minInstancesPerNode=params.min_instances_per_node,
            subsamplingRate=params.subsampling_rate,
            seed=params.seed,
            weightCol=WEIGHT,
        )
        stages = [classifier]
    else:
        classifier = LogisticRegression(
            featuresCol="_scaled",
            labelCol=LABEL,
            maxIter=params.max_iter,
            regParam=params.reg_param,
            weightCol=WEIGHT,
        )
        stages = [
            StandardScaler(inputCol="_vector", outputCol="_scaled", withMean=True, withStd=True),
            classifier,
        ]
    # Private output names: a feature row never has them.
    classifier.setProbabilityCol("_probability").setRawPredictionCol("_raw").setPredictionCol(
        "_prediction"
    )
    return Pipeline(stages=[preparation(features), assembled, *stages])


def labels_known_before(reports: DataFrame, day: dt.date) -> DataFrame:
    """(transaction_id, is_fraud) usable for `day`, from reports (transaction_id, is_fraud,
    reported_at[, source]): the one availability rule of fraud_assets/logic/labels.py
    (reported before `day` began; the latest report wins, a reversal too)."""
    from fraud_assets.logic.labels import labels_available_on

    if "source" not in reports.columns:
        reports = reports.withColumn("source", F.lit(None).cast("string"))
    reports = reports.select("transaction_id", "is_fraud", "reported_at", "source")
    return labels_available_on(reports.sparkSession, reports, day).select(
        "transaction_id", "is_fraud"
    )


def labelled(features: DataFrame, labels: DataFrame) -> DataFrame:
    """Feature rows with `_label` 1.0 for known fraud, 0.0 otherwise (an unreported
    transaction counts as legit, as a bank's training data must assume)."""
    known = labels.select("transaction_id", F.col("is_fraud").alias("_is_fraud"))
    return (
        features.join(known, "transaction_id", "left")
        .withColumn(LABEL, F.when(F.col("_is_fraud"), 1.0).otherwise(0.0))
        .drop("_is_fraud")
    )


def train(rows: DataFrame, features: tuple[str, ...], params: ModelParams) -> TrainedModel:
    """Fit on labelled rows (`_label`), plus what explanations need. One pass to count,
    one to fit, one for the feature statistics."""
    features = tuple(features)
    rows = rows.select(LABEL, *features)
    counts = rows.agg(F.count(F.lit(1)).alias("n"), F.sum(LABEL).alias("frauds")).first()
    n, frauds = int(counts["n"]), int(counts["frauds"] or 0)
    if frauds == 0 or frauds == n:
        raise ValueError(f"cannot train on {n} rows with {frauds} known frauds: need both classes")
    weighted = rows.withColumn(
        WEIGHT, F.when(F.col(LABEL) == 1.0, F.lit(params.fraud_weight)).otherwise(F.lit(1.0))
    )
    pipeline = build_pipeline(features, params).fit(weighted)
    prepared = pipeline.stages[0].transform(rows)
    stats = prepared.agg(
        *[F.mean(_prepared(f)).alias(f"m{i}") for i, f in enumerate(features)],
        *[F.stddev_samp(_prepared(f)).alias(f"s{i}") for i, f in enumerate(features)],
    ).first()
    means = tuple(float(stats[f"m{i}"] or 0.0) for i in range(len(features)))
    stds = tuple(_usable_std(stats[f"s{i}"]) for i in range(len(features)))
    classifier = pipeline.stages[-1]
    if params.kind == "gbt":
        weights = tuple(float(w) for w in classifier.featureImportances.toArray())
    else:
        weights = tuple(float(w) for w in classifier.coefficients.toArray())
    explainer = Explainer(features, weights, means, stds, absolute=params.kind == "gbt")
    return TrainedModel(pipeline, params, explainer, n, frauds)


def _usable_std(value: float | None) -> float:
    return float(value) if value is not None and not math.isnan(value) and value > 0 else 1.0


def score(pipeline: PipelineModel, rows: DataFrame) -> DataFrame:
    """`rows` plus `model_probability` (of fraud, 0..1); the pipeline's helper columns
    are dropped."""
    before = rows.columns
    out = pipeline.transform(rows)
    return out.withColumn(PROBABILITY, vector_to_array("_probability")[1]).select(
        *before, PROBABILITY
    )


def model_score(probability: Column) -> Column:
    """0..100, two decimals (fits fraud_alerts.model_score DECIMAL(5,2))."""
    return F.round(probability * 100, 2).cast("decimal(5,2)")


def top_features(explainer: Explainer, n: int = TOP_FEATURES) -> Column:
    """The `n` features pushing the score up most, as text `name=value (+contribution)`,
    strongest first; only positive contributions."""
    terms = []
    for f, w, m, s in zip(
        explainer.features, explainer.weights, explainer.means, explainer.stds, strict=True
    ):
        x = F.coalesce(F.col(f).cast("double"), F.lit(MISSING))
        deviation = (x - F.lit(m)) / F.lit(s)
        if explainer.absolute:
            deviation = F.abs(deviation)
        terms.append(
            F.struct(
                (F.lit(w) * deviation).alias("c"),
                F.format_string("%s=%.4g (+%.2f)", F.lit(f), x, F.lit(w) * deviation).alias("t"),
            )
        )
    ranked = F.sort_array(F.array(*terms), asc=False)
    positive = F.filter(ranked, lambda t: t["c"] > 0)
    return F.transform(F.slice(positive, 1, n), lambda t: t["t"])


@dataclass(frozen=True)
class ScoringModel:
    """A promoted model as scoring uses it."""

    version: str
    pipeline: PipelineModel
    explainer: Explainer
