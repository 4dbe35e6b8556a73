"""What the learned model reads: the model features of fraud_features.

Tried and not kept: adding each seed rule's points (RULE_POINT_COLUMNS, rules as
features). On the evaluation of docs/model.md it lowered average precision (0.451 ->
0.335, with 40 trees of depth 5 instead of 60 of depth 4); the columns stay named here so
the experiment is one line away.
"""

from __future__ import annotations

from fraud_assets.logic.features import MODEL_FEATURES
from fraud_assets.logic.rules import RULES
from fraud_assets.logic.scoring import rule_points_column

RULE_POINT_COLUMNS: tuple[str, ...] = tuple(rule_points_column(name) for name in RULES)
MODEL_INPUTS: tuple[str, ...] = MODEL_FEATURES
