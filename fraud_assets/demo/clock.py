"""Local time of one UTC day in every country, exact across DST changes.

The day is cut into 96 UTC slots of 15 minutes. Every offset of the contract's time zones
is a multiple of 15 minutes and every DST change happens on a slot boundary, so the local
hour is constant inside a slot: sampling a slot by the weight of its local hour, then a
second inside it, gives times whose local hour follows any 24-hour pattern exactly.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np

from fraud_assets.contract.geography import COUNTRY_TIME_ZONES
from fraud_assets.demo.reference import COUNTRIES

SLOT_SECONDS = 900
SLOTS = 86_400 // SLOT_SECONDS


class DayClock:
    def __init__(self, day: dt.date) -> None:
        self.day = day
        start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        self.epoch = int(start.timestamp())
        instants = [start + dt.timedelta(seconds=s * SLOT_SECONDS) for s in range(SLOTS)]
        offsets = np.empty((len(COUNTRIES), SLOTS), dtype=np.int64)
        for ci, country in enumerate(COUNTRIES):
            zone = ZoneInfo(COUNTRY_TIME_ZONES[country])
            offsets[ci] = [int(t.astimezone(zone).utcoffset().total_seconds()) for t in instants]
        if np.any(offsets % SLOT_SECONDS):
            raise ValueError("a time zone offset is not a multiple of 15 minutes")
        slot_start = np.arange(SLOTS, dtype=np.int64) * SLOT_SECONDS
        self.offsets = offsets
        self.slot_hour = ((slot_start[None, :] + offsets) // 3600) % 24
        self._cdf_cache: dict[bytes, np.ndarray] = {}

    def _flat_cdf(self, hour_weights: np.ndarray) -> np.ndarray:
        key = hour_weights.tobytes()
        cached = self._cdf_cache.get(key)
        if cached is None:
            weights = hour_weights[self.slot_hour]
            cum = np.cumsum(weights, axis=1)
            total = cum[:, -1:]
            if np.any(total <= 0):
                raise ValueError("an hour pattern has no weight in some country")
            cached = (np.arange(len(COUNTRIES))[:, None] + cum / total).ravel()
            self._cdf_cache[key] = cached
        return cached

    def sample(
        self, rng: np.random.Generator, country: np.ndarray, hour_weights: np.ndarray
    ) -> np.ndarray:
        """UTC seconds of the day whose local hour in `country` follows `hour_weights`."""
        country = np.asarray(country, dtype=np.int64)
        n = len(country)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        flat = self._flat_cdf(hour_weights)
        u = np.minimum(rng.random(n), 1.0 - 1e-9)
        pos = np.searchsorted(flat, country + u, side="right")
        slot = np.clip(pos - country * SLOTS, 0, SLOTS - 1)
        return slot * SLOT_SECONDS + rng.integers(0, SLOT_SECONDS, n)

    def local_hour(self, country: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        country = np.asarray(country, dtype=np.int64)
        seconds = np.asarray(seconds, dtype=np.int64)
        return self.slot_hour[country, seconds // SLOT_SECONDS]
