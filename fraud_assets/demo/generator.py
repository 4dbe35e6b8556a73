"""Deterministic demo data: the landing feeds of CONTRACT.md, as a bank would drop them,
with injected fraud whose ground truth is written elsewhere.

Layout written by `generate`:

- `<landing>/customers/date=<start>/customers.csv`
- `<landing>/transactions/date=YYYY-MM-DD/<source_system>.csv` (one per system per day)
- `<landing>/chargebacks/date=YYYY-MM-DD/chargebacks.csv` (by the day the report arrived)
- `<truth>/fraud_labels.csv` (never under landing)

The same config gives byte-identical files. Randomness comes from PCG64 streams keyed by
(seed, stream, day index): the population and the multi-day plan (trips, compromised
merchants, stolen cards) are drawn once, and each day has its own stream, so a day does
not depend on what other days drew.
"""

from __future__ import annotations

import datetime as dt
import pathlib
from dataclasses import dataclass

import numpy as np

from fraud_assets.contract.currency import supported_currencies
from fraud_assets.demo import reference as ref
from fraud_assets.demo.daily import build_day, write_day
from fraud_assets.demo.feeds import (
    CUSTOMER_COLUMNS,
    FIRST_CUSTOMER_NUMBER,
    TransactionText,
    customer_lines,
)
from fraud_assets.demo.outcomes import Outcomes
from fraud_assets.demo.plan import make_plan
from fraud_assets.demo.population import build_population
from fraud_assets.demo.writer import body, write_atomic

SCENARIOS = ref.SCENARIOS
_POPULATION, _PLAN, _DAY = 1, 2, 3  # random streams


@dataclass(frozen=True)
class GeneratorConfig:
    start: dt.date
    days: int = 7
    transactions_per_day: int = 2000
    customers: int | None = None  # default: max(200, transactions_per_day // 2)
    merchants: int | None = None  # default: max(50, transactions_per_day // 20)
    seed: int = 42
    source_systems: tuple[str, ...] = ("card_processor", "core_banking", "online_gateway")

    @property
    def customer_count(self) -> int:
        return (
            self.customers
            if self.customers is not None
            else max(200, self.transactions_per_day // 2)
        )

    @property
    def merchant_count(self) -> int:
        return (
            self.merchants
            if self.merchants is not None
            else max(50, self.transactions_per_day // 20)
        )

    def validate(self) -> None:
        if self.days < 1:
            raise ValueError("days must be at least 1")
        if isinstance(self.start, dt.datetime) or not isinstance(self.start, dt.date):
            raise ValueError("start must be a datetime.date")
        if not 1 <= self.transactions_per_day <= 999_999_999:
            raise ValueError("transactions_per_day must be between 1 and 999,999,999")
        if self.merchant_count < len(ref.MERCHANT_COUNTRIES):
            raise ValueError(f"merchants must be at least {len(ref.MERCHANT_COUNTRIES)}")
        if not 10 <= self.customer_count <= 99_999_999 - FIRST_CUSTOMER_NUMBER:
            raise ValueError("customers must be between 10 and 89,999,998")
        if self.seed < 0:
            raise ValueError("seed must be non-negative")
        systems = self.source_systems
        if not systems or len(set(systems)) != len(systems):
            raise ValueError("source_systems must be non-empty and unique")
        for name in systems:
            if not name or name.startswith(".") or any(ch in name for ch in '/\\,"\n\r'):
                raise ValueError(f"source system {name!r} is not usable as a file name")


@dataclass(frozen=True)
class GeneratorSummary:
    transactions: int
    frauds: int
    chargebacks: int  # chargeback rows written, reversals included
    days: list[dt.date]
    by_scenario: dict[str, int]


def _rng(seed: int, stream: int, index: int = 0) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, stream, index])))


def _rng(seed: int, stream: int, index: int = 0) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, stream, index])))


def generate(
    config: GeneratorConfig, landing_dir: pathlib.Path, truth_dir: pathlib.Path
) -> GeneratorSummary:
    config.validate()
    landing_dir, truth_dir = pathlib.Path(landing_dir), pathlib.Path(truth_dir)
    if truth_dir.resolve().is_relative_to(landing_dir.resolve()):
        raise ValueError("truth_dir must not be inside landing_dir (ground truth is not a feed)")
    missing = {ref.COUNTRY_CURRENCY[c] for c in ref.MERCHANT_COUNTRIES} - supported_currencies()
    if missing:
        raise ValueError(f"currencies without an FX rate: {sorted(missing)}")

    per_day, systems = config.transactions_per_day, config.source_systems
    pop = build_population(
        _rng(config.seed, _POPULATION), config.customer_count, config.merchant_count, config.start
    )
    plan = make_plan(_rng(config.seed, _PLAN), pop, config.days, per_day)
    text = TransactionText(pop, systems)
    write_atomic(
        landing_dir / "customers" / f"date={config.start.isoformat()}" / "customers.csv",
        CUSTOMER_COLUMNS,
        [body(customer_lines(pop, text))],
    )

    outcomes = Outcomes()
    days = [config.start + dt.timedelta(days=i) for i in range(config.days)]
    for index, date in enumerate(days):
        rng = _rng(config.seed, _DAY, index)
        feed = build_day(rng, index, date, pop, plan, per_day, text, systems)
        write_day(landing_dir / "transactions" / f"date={date.isoformat()}", text, systems, feed)
        outcomes.add_day(rng, feed)

    chargebacks = outcomes.write_chargebacks(landing_dir / "chargebacks")
    frauds = outcomes.write_labels(truth_dir / "fraud_labels.csv", text)
    return GeneratorSummary(
        transactions=per_day * config.days,
        frauds=frauds,
        chargebacks=chargebacks,
        days=days,
        by_scenario=outcomes.by_scenario(),
    )
