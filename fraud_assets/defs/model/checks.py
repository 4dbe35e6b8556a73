"""The promotion gate: a new model replaces the promoted one only if it is not worse."""

from __future__ import annotations

import dagster as dg

from fraud_assets.defs.metadata import per_day_table
from fraud_assets.logic.metrics import Quality

PROMOTION_CHECK = dg.AssetCheckSpec(
    "promotion_gate",
    asset="fraud_model",
    description=(
        "Passes when the day's new model was promoted: its validation AUC-ROC and average "
        "precision are not below the promoted model's on the same validation day. Otherwise "
        "the promoted model stays and the metadata says why (WARN: scoring goes on)."
    ),
)


def promotion_decision(
    new: Quality, current: Quality | None, tolerance: float = 0.0
) -> tuple[bool, str]:
    """(promote?, why) - plain so tests can call it."""
    if current is None:
        return True, "no model promoted before: the first one is promoted"
    reasons = new.not_worse_than(current, tolerance)
    if reasons:
        return False, "worse than the promoted model: " + "; ".join(reasons)
    return True, "not worse than the promoted model on the same validation day"


def promotion_result(decisions: dict) -> dg.AssetCheckResult:
    """`decisions`: day -> {"promoted": bool, "reason": str, ...}."""
    refused = {d: v for d, v in decisions.items() if not v["promoted"]}
    return dg.AssetCheckResult(
        check_name="promotion_gate",
        passed=not refused,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            "every new model promoted"
            if not refused
            else "; ".join(f"{d}: {v['reason']}" for d, v in sorted(refused.items()))
        ),
        metadata={
            "models_promoted": len(decisions) - len(refused),
            "models_refused_or_not_trained": len(refused),
            "per_day": per_day_table(
                {
                    d: {k: v.get(k, "-") for k in ("version", "promoted", "reason")}
                    for d, v in decisions.items()
                }
            ),
        },
    )
