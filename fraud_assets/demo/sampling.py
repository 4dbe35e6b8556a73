"""Vectorised weighted sampling of items inside groups (merchants by country and category,
customers by home country)."""

from __future__ import annotations

import numpy as np


class GroupSampler:
    """Draws, for each requested group, one item of that group with probability
    proportional to its weight. Items of weight 0 are never drawn."""

    def __init__(self, group_of_item: np.ndarray, weight: np.ndarray, n_groups: int) -> None:
        group_of_item = np.asarray(group_of_item, dtype=np.int64)
        weight = np.asarray(weight, dtype=np.float64)
        order = np.lexsort((np.arange(len(group_of_item)), group_of_item))
        groups = group_of_item[order]
        w = weight[order]
        cum = np.cumsum(w)
        first = np.searchsorted(groups, groups, side="left")
        base = np.where(first > 0, cum[np.maximum(first - 1, 0)], 0.0)
        within = cum - base  # cumulative weight inside the item's group
        group_total = np.zeros(n_groups)
        # The last item of a group holds the group's cumulative weight.
        np.maximum.at(group_total, groups, within)
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(group_total[groups] > 0, within / group_total[groups], 0.0)
        self.items = order
        self.flat = groups + np.minimum(frac, 1.0)
        self.start = np.searchsorted(groups, np.arange(n_groups), side="left")
        self.stop = np.searchsorted(groups, np.arange(n_groups), side="right")
        self.total = group_total

    def has(self, group: np.ndarray) -> np.ndarray:
        return self.total[group] > 0

    def sample(self, rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
        """Item index per group; every requested group must have weight (see `has`)."""
        group = np.asarray(group, dtype=np.int64)
        if len(group) == 0:
            return np.empty(0, dtype=np.int64)
        u = np.minimum(rng.random(len(group)), 1.0 - 1e-9)
        pos = np.searchsorted(self.flat, group + u, side="right")
        pos = np.clip(pos, self.start[group], self.stop[group] - 1)
        return self.items[pos]


def pick_weighted(rng: np.random.Generator, cdf: np.ndarray, n: int) -> np.ndarray:
    """n indices drawn from a normalised cumulative distribution."""
    u = rng.random(n)
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)


def normalised_cdf(weights: np.ndarray) -> np.ndarray:
    cum = np.cumsum(np.asarray(weights, dtype=np.float64))
    return cum / cum[-1]
