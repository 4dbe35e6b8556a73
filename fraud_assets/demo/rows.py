"""A day's transactions as parallel numpy columns (before formatting)."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

LEGIT = -1


@dataclass
class Rows:
    sec: np.ndarray  # int64, UTC seconds since the start of the day
    cust: np.ndarray  # int64 customer index
    merch: np.ndarray  # int64 merchant index
    usd: np.ndarray  # float64 amount in USD (converted to the merchant's currency later)
    online: np.ndarray  # bool, card not present
    refund: np.ndarray  # bool
    entry: np.ndarray  # int8, index into ENTRY_MODES
    ip: np.ndarray  # uint32
    ip_null: np.ndarray  # bool
    dev_hi: np.ndarray  # uint64
    dev_lo: np.ndarray  # uint64
    dev_null: np.ndarray  # bool
    scenario: np.ndarray  # int8, LEGIT or index into SCENARIOS

    def __len__(self) -> int:
        return len(self.sec)

    @classmethod
    def empty(cls, n: int = 0) -> Rows:
        return cls(
            sec=np.zeros(n, np.int64),
            cust=np.zeros(n, np.int64),
            merch=np.zeros(n, np.int64),
            usd=np.zeros(n, np.float64),
            online=np.zeros(n, bool),
            refund=np.zeros(n, bool),
            entry=np.zeros(n, np.int8),
            ip=np.zeros(n, np.uint32),
            ip_null=np.ones(n, bool),
            dev_hi=np.zeros(n, np.uint64),
            dev_lo=np.zeros(n, np.uint64),
            dev_null=np.ones(n, bool),
            scenario=np.full(n, LEGIT, np.int8),
        )

    @classmethod
    def concat(cls, parts: list[Rows]) -> Rows:
        if not parts:
            return cls.empty()
        return cls(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)}
        )

    def take(self, index: np.ndarray) -> Rows:
        return Rows(**{f.name: getattr(self, f.name)[index] for f in fields(self)})
