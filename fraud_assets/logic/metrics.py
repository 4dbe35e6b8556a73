"""Detection-quality metrics of the card-fraud field, over plain arrays (pure numpy).

- AUC-ROC: the probability that a random fraud scores above a random legit transaction
  (ties count one half), from midranks (Mann-Whitney U), exact with tied scores.
- Average precision: the area under the precision-recall curve as a step function,
  sum over distinct score thresholds of (recall gained) x (precision there); tied scores
  enter together (the definition scikit-learn uses).
- Card precision@k (Le Borgne et al., "Reproducible Machine Learning for Credit Card
  Fraud Detection"): for each day, a card's score is its highest transaction score and
  it is compromised when any of its transactions that day is fraud; cards already caught
  (compromised and in the top k) on an earlier day are left out; the k best remaining
  cards are checked, precision = compromised among them / k; averaged over days.

Scores are small floats: the metrics collect (score, label, card, day) to the driver,
a few MB even for a 1M-transaction day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def _arrays(scores: Sequence[float], labels: Sequence[bool]) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=bool)
    if s.shape != y.shape:
        raise ValueError(f"{len(s)} scores for {len(y)} labels")
    if np.isnan(s).any():
        raise ValueError("scores contain NaN")
    return s, y


def _midranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks; tied values share the mean of their ranks."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(ordered)]
    mean_rank = (starts + ends + 1) / 2.0  # mean of ranks starts+1 .. ends
    ranks = np.empty(len(values))
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


def auc_roc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """NaN when only one class is present (AUC is undefined there)."""
    s, y = _arrays(scores, labels)
    positives, negatives = int(y.sum()), int((~y).sum())
    if positives == 0 or negatives == 0:
        return float("nan")
    rank_sum = _midranks(s)[y].sum()
    return float((rank_sum - positives * (positives + 1) / 2) / (positives * negatives))


def average_precision(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """NaN without any positive."""
    s, y = _arrays(scores, labels)
    positives = int(y.sum())
    if positives == 0:
        return float("nan")
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    # The last index of each distinct score: tied scores are one threshold.
    last = np.r_[np.flatnonzero(s[1:] != s[:-1]), len(s) - 1]
    tp = np.cumsum(y)[last]
    precision = tp / (last + 1)
    recall_gain = np.diff(np.r_[0, tp]) / positives
    return float((precision * recall_gain).sum())


def card_precision_at_k(
    scores: Sequence[float],
    labels: Sequence[bool],
    cards: Sequence[str],
    days: Sequence[object],
    k: int = 100,
) -> float:
    """Mean over days of (compromised cards among the day's k best cards) / k.

    Ties between cards with the same score are broken by card id, so the result is
    reproducible. NaN without any day.
    """
    s, y = _arrays(scores, labels)
    cards_a = np.asarray(cards, dtype=object)
    days_a = np.asarray(days, dtype=object)
    caught: set = set()
    per_day = []
    for day in sorted(set(days_a.tolist())):
        on_day = days_a == day
        best: dict = {}
        fraud: dict = {}
        for card, score, label in zip(cards_a[on_day], s[on_day], y[on_day], strict=True):
            if card in caught:
                continue
            best[card] = max(best.get(card, -np.inf), score)
            fraud[card] = fraud.get(card, False) or bool(label)
        top = sorted(best, key=lambda c: (-best[c], c))[:k]
        detected = [c for c in top if fraud[c]]
        per_day.append(len(detected) / k)
        caught.update(detected)
    return float(np.mean(per_day)) if per_day else float("nan")


@dataclass(frozen=True)
class Quality:
    auc_roc: float
    average_precision: float
    card_precision_at_100: float

    def as_dict(self) -> dict[str, float]:
        return {
            "auc_roc": round(self.auc_roc, 4),
            "average_precision": round(self.average_precision, 4),
            "card_precision_at_100": round(self.card_precision_at_100, 4),
        }

    def not_worse_than(self, other: Quality, tolerance: float = 0.0) -> list[str]:
        """Why this is worse than `other` (empty: not worse). Compares AUC-ROC and average
        precision; a NaN here where `other` has a number is worse."""
        reasons = []
        for name in ("auc_roc", "average_precision"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if np.isnan(theirs):
                continue
            if np.isnan(mine) or mine < theirs - tolerance:
                reasons.append(f"{name} {mine:.4f} < current {theirs:.4f}")
        return reasons


def quality(
    scores: Sequence[float],
    labels: Sequence[bool],
    cards: Sequence[str],
    days: Sequence[object],
    k: int = 100,
) -> Quality:
    return Quality(
        auc_roc(scores, labels),
        average_precision(scores, labels),
        card_precision_at_k(scores, labels, cards, days, k),
    )
