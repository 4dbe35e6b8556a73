"""The metrics on hand-made cases whose answers are known."""

from __future__ import annotations

import math

import pytest

from fraud_assets.defs.model.checks import promotion_decision
from fraud_assets.logic.metrics import (
    Quality,
    auc_roc,
    average_precision,
    card_precision_at_k,
)


def test_auc_roc_counts_ordered_pairs_and_half_ties():
    # Pairs (fraud, legit): 0.35>0.1, 0.35<0.4, 0.8>0.1, 0.8>0.4 -> 3 of 4.
    assert auc_roc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)
    assert auc_roc([1, 2, 3], [0, 1, 1]) == 1.0
    assert auc_roc([3, 2, 1], [0, 1, 1]) == 0.0
    assert auc_roc([5, 5, 5, 5], [0, 1, 0, 1]) == 0.5  # all tied: a coin toss
    assert auc_roc([1, 2, 2], [0, 0, 1]) == pytest.approx(0.75)  # one win, one tie
    assert math.isnan(auc_roc([1, 2], [1, 1]))


def test_average_precision_is_the_step_area_with_ties_together():
    # Ranked: 0.8 F (P=1, R=.5), 0.4 L, 0.35 F (P=2/3, R=1) -> .5*1 + .5*2/3.
    assert average_precision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(5 / 6)
    assert average_precision([3, 2, 1], [1, 1, 0]) == 1.0
    # A fraud tied with a legit at the top: precision 1/2 at that threshold.
    assert average_precision([9, 9, 1], [1, 0, 0]) == pytest.approx(0.5)
    assert math.isnan(average_precision([1, 2], [0, 0]))


def test_card_precision_ranks_cards_by_their_best_transaction_and_drops_caught_cards():
    rows = [
        # day 1: A best 0.9 (one fraud), B 0.8 legit, C 0.1 fraud
        ("d1", "A", 0.2, True),
        ("d1", "A", 0.9, False),
        ("d1", "B", 0.8, False),
        ("d1", "C", 0.1, True),
        # day 2: A (caught on day 1) is left out; C 0.7 fraud, B 0.2 legit, D 0.1 legit
        ("d2", "A", 0.95, True),
        ("d2", "C", 0.7, True),
        ("d2", "B", 0.2, False),
        ("d2", "D", 0.1, False),
    ]
    days, cards, scores, labels = zip(*rows, strict=True)
    # day 1 top 2 = A (fraud), B -> 1/2; day 2 top 2 = C (fraud), B -> 1/2.
    assert card_precision_at_k(scores, labels, cards, days, k=2) == pytest.approx(0.5)
    # k larger than the cards: still divided by k; A and C caught on day 1, so day 2
    # has only legit cards left.
    assert card_precision_at_k(scores, labels, cards, days, k=4) == pytest.approx((2 / 4 + 0) / 2)
    # Ties are broken by card id: B before C at the same score.
    assert card_precision_at_k([0.5, 0.5], [False, True], ["C", "B"], [1, 1], k=1) == 1.0


def test_promotion_refuses_a_worse_model_and_says_why():
    current = Quality(0.90, 0.40, 0.10)
    promote, why = promotion_decision(Quality(0.91, 0.35, 0.20), current)
    assert not promote and "average_precision 0.3500 < current 0.4000" in why
    assert promotion_decision(Quality(0.90, 0.40, 0.0), current)[0]  # equal is not worse
    assert promotion_decision(Quality(0.89, 0.39, 0.0), current, tolerance=0.02)[0]
    assert promotion_decision(Quality(0.5, 0.01, 0.0), None) == (
        True,
        "no model promoted before: the first one is promoted",
    )
    assert not promotion_decision(Quality(float("nan"), 0.5, 0.0), current)[0]
