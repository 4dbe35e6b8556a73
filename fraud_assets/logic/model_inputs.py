"""What the learned model reads: the model features of fraud_features.

Tried and not kept: adding each seed rule's points (RULE_POINT_COLUMNS, rules as
features), or rule_score. On the validation week of docs/model.md the model then re-learns
the rules and fraud_score (rules + model) ranks worse on average precision (0.377 ->
0.361 with the points, 0.336 with rule_score); the columns stay named here so the
experiment is one line away.
"""

from __future__ import annotations

from fraud_assets.logic.features import MODEL_FEATURES
from fraud_assets.logic.rules import RULES
from fraud_assets.logic.scoring import rule_points_column

RULE_POINT_COLUMNS: tuple[str, ...] = tuple(rule_points_column(name) for name in RULES)
MODEL_INPUTS: tuple[str, ...] = MODEL_FEATURES
