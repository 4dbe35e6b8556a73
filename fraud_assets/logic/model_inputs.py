"""What the learned model reads: every model feature of fraud_features plus each seed
rule's points (rules as features: what the rules already know is a starting point the
trees refine, e.g. a rule that fires on a card whose merchant is known to be defrauded)."""

from __future__ import annotations

from fraud_assets.logic.features import MODEL_FEATURES
from fraud_assets.logic.rules import RULES
from fraud_assets.logic.scoring import rule_points_column

RULE_POINT_COLUMNS: tuple[str, ...] = tuple(rule_points_column(name) for name in RULES)
MODEL_INPUTS: tuple[str, ...] = (*MODEL_FEATURES, *RULE_POINT_COLUMNS)
