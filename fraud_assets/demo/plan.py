"""What happens across days, drawn once per run: legit trips abroad, compromised merchants
and stolen cards (each with a window of days)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fraud_assets.demo import reference as ref
from fraud_assets.demo.population import (
    HOME_IDX,
    TRAVEL_CDF,
    TRAVEL_IDX,
    Population,
    random_devices,
    random_public_ipv4,
)
from fraud_assets.demo.sampling import pick_weighted

# Target share of a day's transactions per multi-day scenario.
COMPROMISED_SHARE = 0.0015
STOLEN_SHARE = 0.0015
COMPROMISED_RATE = (2.0, 8.0)  # defrauded transactions per day at one merchant
STOLEN_RATE = 2.0  # thief transactions per day on one card
ABROAD_SHARE = 0.015  # customers abroad on a given day


@dataclass(frozen=True)
class Plan:
    days: int
    trip_of: np.ndarray  # per customer: index of its trip, or -1
    trip_start: np.ndarray  # first day index (inclusive)
    trip_end: np.ndarray  # last day index (inclusive)
    trip_dest: np.ndarray  # country index
    trip_depart: np.ndarray  # UTC second of the first day when the customer lands abroad
    trip_return: np.ndarray  # UTC second of the last day when the customer is back home
    comp_merchant: np.ndarray
    comp_start: np.ndarray
    comp_end: np.ndarray
    comp_rate: np.ndarray
    stolen_cust: np.ndarray
    stolen_start: np.ndarray
    stolen_end: np.ndarray
    stolen_dev_hi: np.ndarray
    stolen_dev_lo: np.ndarray
    stolen_ip: np.ndarray

    def compromised_on(self, day: int) -> np.ndarray:
        """Indices (into comp_*) of the merchants compromised on `day`."""
        return np.flatnonzero((self.comp_start <= day) & (self.comp_end >= day))

    def stolen_on(self, day: int) -> np.ndarray:
        return np.flatnonzero((self.stolen_start <= day) & (self.stolen_end >= day))


def _starts(rng: np.random.Generator, n: int, days: int) -> np.ndarray:
    """Window starts within the run; the first one on day 0 so every run has one."""
    starts = rng.integers(0, days, n)
    if n:
        starts[0] = 0
    return starts


def make_plan(rng: np.random.Generator, pop: Population, days: int, per_day: int) -> Plan:
    cust, merch = pop.customers, pop.merchants

    n_trips = min(cust.count // 2, round(ABROAD_SHARE * cust.count * (days + 10) / 7.5))
    travellers = rng.choice(cust.count, size=n_trips, replace=False)
    trip_start = rng.integers(-10, days, n_trips)
    trip_end = trip_start + rng.integers(3, 13, n_trips) - 1
    home = cust.home[travellers]
    dest = TRAVEL_IDX[pick_weighted(rng, TRAVEL_CDF, n_trips)]
    for _ in range(5):
        same = dest == home
        if not same.any():
            break
        dest[same] = TRAVEL_IDX[pick_weighted(rng, TRAVEL_CDF, int(same.sum()))]
    same = dest == home
    dest[same] = np.where(home[same] == TRAVEL_IDX[0], TRAVEL_IDX[1], TRAVEL_IDX[0])
    trip_of = np.full(cust.count, -1, np.int64)
    trip_of[travellers] = np.arange(n_trips)

    # Compromised merchants: skimmable shops of the home countries, never a country's
    # only merchant.
    per_country = np.bincount(merch.country, minlength=len(ref.COUNTRIES))
    home_shop = np.isin(merch.country, HOME_IDX) & (per_country[merch.country] >= 3)
    candidates = np.flatnonzero(home_shop & np.isin(merch.category, ref.SKIMMING_CATEGORIES))
    if len(candidates) == 0:
        candidates = np.flatnonzero(home_shop)
    active = max(1, round(COMPROMISED_SHARE * per_day / np.mean(COMPROMISED_RATE)))
    n_comp = min(max(1, round(active * (1 + days / 21))), max(1, len(candidates) // 2))
    comp_merchant = np.sort(rng.choice(candidates, size=n_comp, replace=False))
    comp_start = _starts(rng, n_comp, days)
    comp_end = comp_start + rng.integers(14, 29, n_comp) - 1
    comp_rate = rng.uniform(*COMPROMISED_RATE, n_comp)

    active = max(1, round(STOLEN_SHARE * per_day / STOLEN_RATE))
    n_stolen = min(max(1, round(active * (1 + days / 10.5))), max(1, cust.count // 10))
    stolen_cust = rng.choice(cust.count, size=n_stolen, replace=False)
    stolen_start = _starts(rng, n_stolen, days)
    stolen_end = stolen_start + rng.integers(7, 15, n_stolen) - 1
    dev_hi, dev_lo = random_devices(rng, n_stolen)

    return Plan(
        days=days,
        trip_of=trip_of,
        trip_start=trip_start,
        trip_end=trip_end,
        trip_dest=dest,
        trip_depart=rng.integers(6 * 3600, 20 * 3600, n_trips),
        trip_return=rng.integers(6 * 3600, 20 * 3600, n_trips),
        comp_merchant=comp_merchant,
        comp_start=comp_start,
        comp_end=comp_end,
        comp_rate=comp_rate,
        stolen_cust=stolen_cust,
        stolen_start=stolen_start,
        stolen_end=stolen_end,
        stolen_dev_hi=dev_hi,
        stolen_dev_lo=dev_lo,
        stolen_ip=random_public_ipv4(rng, n_stolen),
    )
