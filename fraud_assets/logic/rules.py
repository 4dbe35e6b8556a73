"""The fraud rules of CONTRACT.md, one function each.

A rule reads feature columns and returns its score (0 when it does not fire) and a short
explanation. To add a rule: write a function decorated with `@rule("NAME")`, give it a
test in fraud_assets_tests/logic/test_rules.py, and bump RULES_VERSION.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import Column
from pyspark.sql import functions as F

RULES_VERSION = "rules-v2"  # v2: PROFILE_DEVIATION added


@dataclass(frozen=True)
class RuleOutcome:
    score: Column  # integer points, 0 when the rule does not fire
    explanation: Column  # text shown in the alert when it fires


RULES: dict[str, Callable[[], RuleOutcome]] = {}


def rule(name: str) -> Callable[[Callable[[], RuleOutcome]], Callable[[], RuleOutcome]]:
    def register(fn: Callable[[], RuleOutcome]) -> Callable[[], RuleOutcome]:
        RULES[name] = fn
        return fn

    return register


def _points(condition: Column, points: int) -> Column:
    return F.when(F.coalesce(condition, F.lit(False)), F.lit(points)).otherwise(F.lit(0))


@rule("HIGH_VALUE")
def high_value() -> RuleOutcome:
    """USD amount > 5000: 25."""
    return RuleOutcome(
        _points(F.col("amount_usd") > 5000, 25),
        F.format_string("amount %s USD is over 5,000 USD", F.format_number("amount_usd", 2)),
    )


@rule("HIGH_VELOCITY")
def high_velocity() -> RuleOutcome:
    """>= 3 of the customer's transactions in [t - 3600 s, t]: 20; >= 5: 30."""
    v = F.col("velocity_1h")
    return RuleOutcome(
        F.when(v >= 5, 30).when(v >= 3, 20).otherwise(0),
        F.format_string("%d transactions of this card within 60 minutes", v),
    )


@rule("STATISTICAL_ANOMALY")
def statistical_anomaly() -> RuleOutcome:
    """z >= 2 against the customer's previous 30 days: 15; z >= 3: 25."""
    z = F.col("amount_zscore_30d")
    return RuleOutcome(
        F.when(z >= 3, 25).when(z >= 2, 15).otherwise(0),
        F.format_string(
            "amount is %.1f standard deviations from the card's 30-day mean of %s USD (%d transactions)",
            z,
            F.format_number("hist_mean_usd_30d", 2),
            F.col("hist_txn_count_30d"),
        ),
    )


@rule("UNUSUAL_TIME")
def unusual_time() -> RuleOutcome:
    """Local hour 2, 3, 4 or 5 (02:00-05:59) at the transaction's country: 15."""
    hour = F.col("local_hour")
    return RuleOutcome(
        _points(hour.between(2, 5), 15),
        F.format_string("at %02d:xx local time in %s", hour, F.col("location_country")),
    )


@rule("GEOGRAPHIC_ANOMALY")
def geographic_anomaly() -> RuleOutcome:
    """Previous transaction in another country less than 6 h earlier: 20."""
    moved = (F.col("prev_country") != F.col("location_country")) & (
        F.col("prev_gap_seconds") < 6 * 3600
    )
    return RuleOutcome(
        _points(moved, 20),
        F.format_string(
            "previous transaction in %s %.1f h earlier, now in %s",
            F.col("prev_country"),
            F.col("prev_gap_seconds") / 3600,
            F.col("location_country"),
        ),
    )


@rule("PROFILE_DEVIATION")
def profile_deviation() -> RuleOutcome:
    """The seed's deviation rule, only where the customer has a KYC expected maximum
    (customer_profiles.expected_max_amount, USD): z > 4 or amount > 2x the expected maximum
    is critical: 30; z > 3 or amount > the expected maximum is an anomaly: 15. z is the
    card's 30-day z-score (amount_zscore_30d; not evaluable counts as 0)."""
    expected = F.col("expected_max_amount")
    z = F.coalesce(F.col("amount_zscore_30d"), F.lit(0.0))
    amount = F.col("amount_usd")
    critical = expected.isNotNull() & ((z > 4) | (amount > 2 * expected))
    anomaly = expected.isNotNull() & ((z > 3) | (amount > expected))
    return RuleOutcome(
        F.when(critical, 30).when(anomaly, 15).otherwise(0),
        F.format_string(
            "%s deviation from the customer's profile: amount %s USD against an expected "
            "maximum of %s USD, z = %.1f",
            F.when(critical, F.lit("critical")).otherwise(F.lit("amount")),
            F.format_number("amount_usd", 2),
            F.format_number(expected, 2),
            z,
        ),
    )
