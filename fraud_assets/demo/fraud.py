"""Injected fraud of one day: the six scenarios of SCENARIOS, vectorised per scenario."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fraud_assets.demo import reference as ref
from fraud_assets.demo.legit import (
    Day,
    card_present_entry,
    channel,
    own_device,
    preferred_categories,
    usual_amounts,
)
from fraud_assets.demo.population import (
    FRAUD_IDX,
    HUB_CDF,
    HUB_IDX,
    random_devices,
    random_public_ipv4,
)
from fraud_assets.demo.rows import Rows
from fraud_assets.demo.sampling import normalised_cdf, pick_weighted

S = ref.SCENARIO_INDEX
# Expected events per transaction of the day, for the one-day scenarios.
HIGH_VALUE_RATE = 0.0006
VELOCITY_RATE = 0.0015 / 5  # bursts of 3-7
NIGHT_RATE = 0.001
GEO_RATE = 0.0008
VELOCITY_SPAN = 3300  # seconds from the first to the last transaction of a burst
HIGH_VALUE_MIN_USD = 5200.0  # above the 5000 USD rule even after rounding


@dataclass
class FraudDay:
    """How many rows each scenario injects on one day."""

    high_value: int
    velocity: np.ndarray  # size of each burst
    night: int
    geo: int  # each event is 2 rows: the owner's genuine purchase, then the clone abroad
    comp: np.ndarray  # indices into plan.comp_*
    comp_rows: np.ndarray
    stolen: np.ndarray  # indices into plan.stolen_*
    stolen_rows: np.ndarray

    @property
    def rows(self) -> int:
        return (
            self.high_value
            + int(self.velocity.sum())
            + self.night
            + 2 * self.geo
            + int(self.comp_rows.sum())
            + int(self.stolen_rows.sum())
        )

    @property
    def events(self) -> int:
        return self.high_value + len(self.velocity) + self.night + self.geo


def plan_day(rng: np.random.Generator, day: Day, per_day: int) -> FraudDay:
    guarantee = 1 if day.index == 0 else 0  # every scenario shows up on the first day
    plan = day.plan

    def count(rate: float) -> int:
        return max(guarantee, int(rng.poisson(rate * per_day)))

    high, n_velocity, night, geo = (
        count(r) for r in (HIGH_VALUE_RATE, VELOCITY_RATE, NIGHT_RATE, GEO_RATE)
    )
    velocity = rng.integers(3, 8, n_velocity)
    comp = plan.compromised_on(day.index)
    comp_rows = np.maximum(1, rng.poisson(plan.comp_rate[comp]))
    stolen = plan.stolen_on(day.index)
    stolen_rows = rng.poisson(2.0, len(stolen))
    first_day = plan.stolen_start[stolen] == day.index
    stolen_rows[first_day] = np.maximum(1, stolen_rows[first_day])
    fd = FraudDay(high, velocity, night, geo, comp, comp_rows, stolen, stolen_rows)
    return _trim(fd, per_day // 2, day.pop.customers.count - len(stolen))


def _trim(fd: FraudDay, budget: int, customers: int) -> FraudDay:
    """Keeps fraud at most `budget` rows (tiny volumes only), dropping events round-robin
    across scenarios, and at most one event per available customer."""
    if fd.rows <= budget and fd.events <= customers:
        return fd
    sizes = [
        np.ones(fd.high_value, np.int64),
        fd.velocity,
        np.ones(fd.night, np.int64),
        np.full(fd.geo, 2),
        fd.comp_rows,
        fd.stolen_rows,
    ]
    rank = np.concatenate([np.arange(len(s)) for s in sizes])
    kind = np.concatenate([np.full(len(s), k) for k, s in enumerate(sizes)])
    size = np.concatenate(sizes).astype(np.int64)
    order = np.lexsort((kind, rank))
    keep = np.zeros(len(size), bool)
    keep[order[np.cumsum(size[order]) <= budget]] = True
    event = kind < 4
    keep[event] &= np.cumsum(keep & event)[event] <= customers
    kept = [keep[kind == k] for k in range(6)]
    return FraudDay(
        high_value=int(kept[0].sum()),
        velocity=fd.velocity[kept[1]],
        night=int(kept[2].sum()),
        geo=int(kept[3].sum()),
        comp=fd.comp[kept[4]],
        comp_rows=fd.comp_rows[kept[4]],
        stolen=fd.stolen[kept[5]],
        stolen_rows=fd.stolen_rows[kept[5]],
    )


def _thief(rng: np.random.Generator, rows: Rows) -> None:
    """Card not present, from the fraudster's own device and IP."""
    n = len(rows)
    rows.online[:] = True
    rows.entry[:] = ref.ECOM
    rows.ip = random_public_ipv4(rng, n)
    rows.ip_null[:] = False
    rows.dev_hi, rows.dev_lo = random_devices(rng, n)
    rows.dev_null[:] = False


def _pool_pick(rng: np.random.Generator, day: Day, pool: np.ndarray, n: int) -> np.ndarray:
    if n == 0:
        return np.empty(0, np.int64)
    if len(pool) == 0:
        raise ValueError("no merchant can host this fraud scenario")
    weight = day.pop.merchants.popularity[pool]
    return pool[pick_weighted(rng, normalised_cdf(weight), n)]


def _online_pool(day: Day) -> np.ndarray:
    m = day.pop.merchants
    return day.picker.pool(
        np.isin(m.category, ref.ONLINE_CATEGORIES) & ~np.isin(m.country, FRAUD_IDX)
    )


def _high_value(rng: np.random.Generator, day: Day, cust: np.ndarray) -> Rows:
    n = len(cust)
    m = day.pop.merchants
    rows = Rows.empty(n)
    rows.cust = cust
    category = np.array(ref.HIGH_VALUE_CATEGORIES)[rng.integers(0, 3, n)]
    hub = HUB_IDX[pick_weighted(rng, HUB_CDF, n)]
    country = np.where(rng.random(n) < 0.6, day.pop.customers.home[cust], hub)
    merch = day.picker.pick(rng, country, category)
    wrong = ~np.isin(m.category[merch], ref.HIGH_VALUE_CATEGORIES)
    pool = day.picker.pool(np.isin(m.category, ref.HIGH_VALUE_CATEGORIES))
    if len(pool):
        merch[wrong] = _pool_pick(rng, day, pool, int(wrong.sum()))
    rows.merch = merch
    rows.sec = day.clock.sample(rng, m.country[merch], ref.HOUR_WEIGHTS_DAYTIME)
    rows.usd = np.minimum(HIGH_VALUE_MIN_USD * np.exp(np.abs(rng.normal(0, 0.6, n))), 40_000.0)
    online = channel(rng, day.pop, cust, m.category[merch])
    _thief(rng, rows)
    rows.online = online
    rows.entry = np.where(online, ref.ECOM, np.where(rng.random(n) < 0.7, ref.CHIP, ref.SWIPE))
    rows.entry = rows.entry.astype(np.int8)
    rows.ip_null = ~online
    rows.dev_null = ~online
    rows.scenario[:] = S["high_value"]
    return rows


def _velocity(rng: np.random.Generator, day: Day, cust: np.ndarray, sizes: np.ndarray) -> Rows:
    n = int(sizes.sum())
    event = np.repeat(np.arange(len(sizes)), sizes)
    first = (np.cumsum(sizes) - sizes).astype(np.int64)
    rows = Rows.empty(n)
    rows.cust = cust[event]
    pool = _online_pool(day)
    rows.merch = _pool_pick(rng, day, pool, n)
    start = rng.integers(0, 86_400 - 3_600, len(sizes))
    offset = rng.integers(1, VELOCITY_SPAN + 1, n)
    offset[first] = 0
    order = np.lexsort((offset, event))
    rows.sec = start[event] + offset[order]
    # Card testing: a tiny amount first, then real purchases.
    usd = np.minimum(np.exp(rng.normal(np.log(250.0), 0.6, n)), 4_900.0)
    usd[first] = rng.uniform(1.0, 5.0, len(sizes))
    rows.usd = usd
    _thief(rng, rows)
    # One fraudster per burst: the same device and IP across it.
    for name in ("ip", "dev_hi", "dev_lo"):
        col = getattr(rows, name)
        setattr(rows, name, col[first][event])
    rows.scenario[:] = S["velocity_burst"]
    return rows


def _night(rng: np.random.Generator, day: Day, cust: np.ndarray) -> Rows:
    n = len(cust)
    rows = Rows.empty(n)
    rows.cust = cust
    rows.merch = _pool_pick(rng, day, _online_pool(day), n)
    country = day.pop.merchants.country[rows.merch]
    rows.sec = day.clock.sample(rng, country, ref.HOUR_WEIGHTS_NIGHT)
    rows.usd = np.clip(np.exp(rng.normal(np.log(400.0), 0.6, n)), 20.0, 4_900.0)
    _thief(rng, rows)
    rows.scenario[:] = S["night_activity"]
    return rows


def _geo(rng: np.random.Generator, day: Day, cust: np.ndarray) -> Rows:
    """The owner pays at home, then a clone of the card is used abroad 1-5 h later."""
    n = len(cust)
    pop, m = day.pop, day.pop.merchants
    owner = Rows.empty(n)
    owner.cust = cust
    category = preferred_categories(rng, pop, cust)
    web_only = ref.CATEGORY_ONLINE_SHARE[category] >= 1.0
    category[web_only] = ref.CATEGORY_INDEX["grocery"]
    home = pop.customers.home[cust]
    owner.merch = day.picker.pick(rng, home, category)
    mcat = m.category[owner.merch]
    owner.sec = np.minimum(
        day.clock.sample(rng, m.country[owner.merch], ref.HOUR_WEIGHTS_DAYTIME), 86_400 - 3_660
    )
    owner.usd = usual_amounts(rng, pop, cust, mcat)
    owner.entry = card_present_entry(rng, mcat)
    own_device(rng, pop, owner, owner.entry == ref.CONTACTLESS, first_only=True)

    clone = Rows.empty(n)
    clone.cust = cust
    pool = day.picker.pool(np.isin(m.country, FRAUD_IDX))
    clone.merch = _pool_pick(rng, day, pool, n)
    latest = np.minimum(5 * 3_600, 86_399 - owner.sec)
    clone.sec = owner.sec + rng.integers(3_600, latest + 1)
    clone.usd = np.clip(np.exp(rng.normal(np.log(600.0), 0.5, n)), 100.0, 4_900.0)
    clone.entry[:] = ref.SWIPE  # a magnetic-stripe clone
    clone.scenario[:] = S["geo_impossible"]
    return Rows.concat([owner, clone])


def _compromised(rng: np.random.Generator, day: Day, fd: FraudDay) -> Rows:
    """Genuine-looking purchases at a compromised merchant: all of them are fraud."""
    pop, m = day.pop, day.pop.merchants
    merch = np.repeat(day.plan.comp_merchant[fd.comp], fd.comp_rows)
    n = len(merch)
    rows = Rows.empty(n)
    rows.merch = merch
    country = m.country[merch]
    by_home = pop.customers_by_home
    cust = rng.integers(0, pop.customers.count, n)
    known = by_home.has(country)
    cust[known] = by_home.sample(rng, country[known])
    rows.cust = cust
    mcat = m.category[merch]
    online = channel(rng, pop, cust, mcat)
    rows.online = online
    rows.sec = day.clock.sample(rng, country, ref.HOUR_WEIGHTS_CARD_PRESENT)
    rows.usd = usual_amounts(rng, pop, cust, mcat)
    rows.entry = np.where(online, ref.ECOM, card_present_entry(rng, mcat)).astype(np.int8)
    rows.ip = np.where(online, pop.customers.ip[cust], 0).astype(np.uint32)
    rows.ip_null = ~online
    own_device(rng, pop, rows, online)
    rows.scenario[:] = S["compromised_merchant"]
    return rows


def _stolen(rng: np.random.Generator, day: Day, fd: FraudDay) -> Rows:
    """A thief spends like the owner: same kinds of shops, home country, daytime."""
    pop, plan, m = day.pop, day.plan, day.pop.merchants
    card = np.repeat(fd.stolen, fd.stolen_rows)
    n = len(card)
    rows = Rows.empty(n)
    cust = plan.stolen_cust[card]
    rows.cust = cust
    category = preferred_categories(rng, pop, cust)
    home = pop.customers.home[cust]
    rows.merch = day.picker.pick(rng, home, category)
    mcat = m.category[rows.merch]
    online = channel(rng, pop, cust, mcat)
    rows.online = online
    rows.sec = day.clock.sample(rng, home, ref.HOUR_WEIGHTS_DAYTIME)
    usd = usual_amounts(rng, pop, cust, mcat)
    big = rng.random(n) < 0.5
    usd[big] = pop.customers.mean_usd[cust[big]] * rng.uniform(3.0, 6.0, int(big.sum()))
    rows.usd = usd
    rows.entry = np.where(online, ref.ECOM, card_present_entry(rng, mcat)).astype(np.int8)
    rows.ip = np.where(online, plan.stolen_ip[card], 0).astype(np.uint32)
    rows.ip_null = ~online
    rows.dev_hi = np.where(online, plan.stolen_dev_hi[card], 0).astype(np.uint64)
    rows.dev_lo = np.where(online, plan.stolen_dev_lo[card], 0).astype(np.uint64)
    rows.dev_null = ~online
    rows.scenario[:] = S["stolen_card"]
    return rows


def fraud_rows(rng: np.random.Generator, day: Day, fd: FraudDay) -> Rows:
    """The injected rows of the day (fraud, plus the owners' genuine purchases that a
    geo_impossible clone follows). One customer per one-day event; stolen cards excluded."""
    taken = np.zeros(day.pop.customers.count, bool)
    taken[day.plan.stolen_cust[fd.stolen]] = True
    free = np.flatnonzero(~taken)
    cust = rng.permutation(free)[: fd.events] if fd.events else np.empty(0, np.int64)
    cuts = np.cumsum([fd.high_value, len(fd.velocity), fd.night])
    high, velocity, night, geo = np.split(cust, cuts)
    parts = [
        _high_value(rng, day, high),
        _velocity(rng, day, velocity, fd.velocity),
        _night(rng, day, night),
        _geo(rng, day, geo),
        _compromised(rng, day, fd),
        _stolen(rng, day, fd),
    ]
    return Rows.concat(parts)
