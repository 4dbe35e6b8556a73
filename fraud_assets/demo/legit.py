"""Ordinary card spending of one day, vectorised."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from fraud_assets.demo import reference as ref
from fraud_assets.demo.clock import DayClock
from fraud_assets.demo.plan import Plan
from fraud_assets.demo.population import (
    HUB_CDF,
    HUB_IDX,
    MerchantPicker,
    Population,
    random_public_ipv4,
)
from fraud_assets.demo.rows import Rows
from fraud_assets.demo.sampling import pick_weighted

AMOUNT_SIGMA = 0.7  # spread of one customer's amounts (lognormal)
CROSS_BORDER_ONLINE = 0.06  # online purchases at a foreign web shop
MOBILE_IP = 0.2  # online purchases from a mobile network instead of the home IP
WALLET = 0.3  # contactless payments made with a phone (device fingerprint known)
REFUND = 0.01
MAX_LEGIT_USD = 30_000.0


@dataclass(frozen=True)
class Day:
    index: int
    date: dt.date
    clock: DayClock
    picker: MerchantPicker
    pop: Population
    plan: Plan


def usual_amounts(
    rng: np.random.Generator, pop: Population, cust: np.ndarray, category: np.ndarray
) -> np.ndarray:
    """USD amounts following each customer's habit at this kind of merchant."""
    noise = np.exp(rng.normal(-(AMOUNT_SIGMA**2) / 2, AMOUNT_SIGMA, len(cust)))
    usd = pop.customers.mean_usd[cust] * ref.CATEGORY_AMOUNT_FACTOR[category] * noise
    return np.clip(usd, 0.5, MAX_LEGIT_USD)


def preferred_categories(rng: np.random.Generator, pop: Population, cust: np.ndarray):
    cdf = pop.customers.category_cdf[cust]
    cat = (cdf <= rng.random(len(cust))[:, None]).sum(axis=1)
    return np.minimum(cat, len(ref.CATEGORIES) - 1)


def channel(
    rng: np.random.Generator, pop: Population, cust: np.ndarray, category: np.ndarray
) -> np.ndarray:
    """True for card-not-present, from the category and the customer's habit."""
    share = ref.CATEGORY_ONLINE_SHARE[category]
    p = np.where(share >= 1.0, 1.0, np.clip(share * pop.customers.online_factor[cust], 0, 0.97))
    online = rng.random(len(cust)) < p
    online[category == ref.ATM] = False
    online[category == ref.MONEY_TRANSFER] = True
    return online


def card_present_entry(rng: np.random.Generator, category: np.ndarray) -> np.ndarray:
    u = rng.random(len(category))
    entry = np.where(u < 0.55, ref.CONTACTLESS, np.where(u < 0.95, ref.CHIP, ref.SWIPE))
    entry[category == ref.ATM] = ref.CHIP
    return entry.astype(np.int8)


def own_device(
    rng: np.random.Generator, pop: Population, rows: Rows, mask: np.ndarray, first_only=False
) -> None:
    """Sets the customer's own device fingerprint on the rows of `mask`."""
    c = rows.cust[mask]
    which = np.zeros(len(c), np.int64)
    if not first_only:
        which = np.where(rng.random(len(c)) < 0.7, 0, pop.customers.devices[c] - 1)
    rows.dev_hi[mask] = pop.customers.device_hi[c, which]
    rows.dev_lo[mask] = pop.customers.device_lo[c, which]
    rows.dev_null[mask] = False


def legit_rows(rng: np.random.Generator, day: Day, n: int) -> Rows:
    pop, plan, d = day.pop, day.plan, day.index
    customers, merchants = pop.customers, pop.merchants
    rows = Rows.empty(n)
    cust = pick_weighted(rng, customers.activity_cdf, n)
    rows.cust = cust
    category = preferred_categories(rng, pop, cust)
    online = channel(rng, pop, cust, category)

    # Trips abroad: the whole day abroad inside a trip, part of it on the travel days.
    home = customers.home[cust]
    trip = plan.trip_of[cust]
    t = np.maximum(trip, 0)
    on_trip = (trip >= 0) & (plan.trip_start[t] <= d) & (plan.trip_end[t] >= d)
    inside = on_trip & (plan.trip_start[t] < d) & (plan.trip_end[t] > d)
    pattern_country = np.where(inside, plan.trip_dest[t], home)
    sec = np.empty(n, np.int64)
    sec[online] = day.clock.sample(rng, pattern_country[online], ref.HOUR_WEIGHTS_ONLINE)
    sec[~online] = day.clock.sample(rng, pattern_country[~online], ref.HOUR_WEIGHTS_CARD_PRESENT)
    rows.sec = sec
    abroad = (
        on_trip
        & ((plan.trip_start[t] < d) | (sec >= plan.trip_depart[t]))
        & ((plan.trip_end[t] > d) | (sec < plan.trip_return[t]))
    )
    presence = np.where(abroad, plan.trip_dest[t], home)

    # Card present: where the customer is. Online: a home web shop, sometimes foreign.
    foreign_shop = online & (rng.random(n) < CROSS_BORDER_ONLINE)
    shop_country = np.where(online, home, presence)
    shop_country[foreign_shop] = HUB_IDX[pick_weighted(rng, HUB_CDF, int(foreign_shop.sum()))]
    merch = day.picker.pick(rng, shop_country, category)
    rows.merch = merch
    mcat = merchants.category[merch]
    online = (online & (mcat != ref.ATM)) | (mcat == ref.MONEY_TRANSFER)
    rows.online = online

    rows.usd = usual_amounts(rng, pop, cust, mcat)
    purchase = (mcat != ref.ATM) & (mcat != ref.MONEY_TRANSFER)
    rows.refund = purchase & (rng.random(n) < REFUND)
    rows.entry = np.where(online, ref.ECOM, card_present_entry(rng, mcat)).astype(np.int8)

    # Online: home IP (a random one abroad or on a mobile network) and own device.
    rows.ip_null = ~online
    random_ip = online & (abroad | (rng.random(n) < MOBILE_IP))
    rows.ip = np.where(online, customers.ip[cust], 0).astype(np.uint32)
    rows.ip[random_ip] = random_public_ipv4(rng, int(random_ip.sum()))
    own_device(rng, pop, rows, online)
    wallet = (rows.entry == ref.CONTACTLESS) & (rng.random(n) < WALLET)
    own_device(rng, pop, rows, wallet, first_only=True)
    return rows
