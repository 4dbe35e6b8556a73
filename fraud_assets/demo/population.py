"""The bank's customers (cards) and merchants (terminals), drawn once per seed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from fraud_assets.demo import reference as ref
from fraud_assets.demo.sampling import GroupSampler, normalised_cdf, pick_weighted

N_CATEGORIES = len(ref.CATEGORIES)
N_COUNTRIES = len(ref.COUNTRIES)

# Global city table: CITY_NAMES[i] lies in COUNTRIES[CITY_COUNTRY[i]].
CITY_NAMES: tuple[str, ...] = tuple(city for c in ref.MERCHANT_COUNTRIES for city in ref.CITIES[c])
CITY_COUNTRY = np.array(
    [ref.COUNTRY_INDEX[c] for c in ref.MERCHANT_COUNTRIES for _ in ref.CITIES[c]], dtype=np.int64
)
# Bigger cities first: the i-th city of a country has weight 1 / (i + 1).
CITY_WEIGHT = np.array(
    [1.0 / (i + 1) for c in ref.MERCHANT_COUNTRIES for i in range(len(ref.CITIES[c]))]
)
CITY_SAMPLER = GroupSampler(CITY_COUNTRY, CITY_WEIGHT, N_COUNTRIES)


def country_indices(codes) -> np.ndarray:
    return np.array([ref.COUNTRY_INDEX[c] for c in codes], dtype=np.int64)


def country_cdf(weights: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """(country indices, normalised cdf) of a weighted country table."""
    return country_indices(weights), normalised_cdf(np.array(list(weights.values())))


HOME_IDX, HOME_CDF = country_cdf(ref.HOME_COUNTRIES)
TRAVEL_IDX, TRAVEL_CDF = country_cdf(ref.TRAVEL_DESTINATIONS)
HUB_IDX, HUB_CDF = country_cdf(ref.ONLINE_HUBS)
FRAUD_IDX = country_indices(ref.FRAUD_COUNTRIES)
LANGUAGE_OF_COUNTRY = np.zeros(N_COUNTRIES, np.int64)
for _country, _language in ref.COUNTRY_LANGUAGE.items():
    LANGUAGE_OF_COUNTRY[ref.COUNTRY_INDEX[_country]] = ref.LANGUAGES.index(_language)


@dataclass(frozen=True)
class Customers:
    count: int
    home: np.ndarray  # country index
    city: np.ndarray  # index into CITY_NAMES
    activity_cdf: np.ndarray  # who transacts how often
    mean_usd: np.ndarray  # usual amount
    category_cdf: np.ndarray  # (count, N_CATEGORIES) preferred kinds of merchants
    online_factor: np.ndarray  # times the category's online share
    device_hi: np.ndarray  # (count, 2) two 64-bit halves of each device fingerprint
    device_lo: np.ndarray
    devices: np.ndarray  # 1 or 2
    ip: np.ndarray  # home IPv4 as uint32
    last_four: np.ndarray  # 0..9999
    network: np.ndarray  # index into NETWORKS
    card_bin: np.ndarray  # 6-digit BIN
    first_name: np.ndarray  # index into FIRST_NAMES[language]
    last_name: np.ndarray
    language: np.ndarray  # index into LANGUAGES
    email_domain: np.ndarray
    email_number: np.ndarray
    phone: np.ndarray  # 10 random digits
    created: np.ndarray  # datetime64[D]
    risk_level: np.ndarray  # index into RISK_LEVELS


@dataclass(frozen=True)
class Merchants:
    count: int
    country: np.ndarray
    city: np.ndarray
    category: np.ndarray
    popularity: np.ndarray
    brand: np.ndarray  # index into the category's brands
    acquirer: np.ndarray
    number: np.ndarray  # unique store number (merchant index + 1)


@dataclass(frozen=True)
class Population:
    customers: Customers
    merchants: Merchants
    customers_by_home: GroupSampler


def random_public_ipv4(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random IPv4 addresses outside private, loopback and multicast ranges."""
    first = np.array(
        [o for o in range(1, 224) if o not in (10, 100, 127, 169, 172, 192)], dtype=np.uint32
    )
    octets = rng.integers(0, 256, (n, 3), dtype=np.uint32)
    octets[:, 2] = np.maximum(octets[:, 2], 1)
    return (
        (first[rng.integers(0, len(first), n)] << 24)
        | (octets[:, 0] << 16)
        | (octets[:, 1] << 8)
        | octets[:, 2]
    )


def random_devices(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    bits = rng.integers(0, 2**63, (2, n), dtype=np.int64).astype(np.uint64)
    bits[0] |= rng.integers(0, 2, n, dtype=np.uint64) << np.uint64(63)
    return bits[0], bits[1]


def _customers(rng: np.random.Generator, n: int, start: dt.date) -> Customers:
    home = HOME_IDX[pick_weighted(rng, HOME_CDF, n)]
    city = CITY_SAMPLER.sample(rng, home)
    activity = rng.gamma(1.5, 1.0, n)
    mean_usd = np.exp(rng.normal(np.log(38.0), 0.55, n))
    prefs = rng.dirichlet(ref.CATEGORY_WEIGHTS * 0.6, n) * 0.85 + 0.15 * (
        ref.CATEGORY_WEIGHTS / ref.CATEGORY_WEIGHTS.sum()
    )
    category_cdf = np.cumsum(prefs, axis=1)
    category_cdf /= category_cdf[:, -1:]
    online_factor = rng.beta(2.0, 2.0, n) * 2.0
    hi, lo = random_devices(rng, 2 * n)
    devices = np.where(rng.random(n) < 0.4, 2, 1)
    network = rng.integers(0, len(ref.NETWORKS), n)
    bins = np.array(ref.NETWORK_BINS)
    card_bin = bins[network, rng.integers(0, bins.shape[1], n)]
    newest = np.datetime64(start, "D") - np.timedelta64(30, "D")
    oldest = min(np.datetime64("2008-01-01"), newest - np.timedelta64(365, "D"))
    span = int((newest - oldest) / np.timedelta64(1, "D"))
    created = newest - np.minimum(rng.exponential(span / 3.0, n).astype(np.int64), span)
    return Customers(
        count=n,
        home=home,
        city=city,
        activity_cdf=normalised_cdf(activity),
        mean_usd=mean_usd,
        category_cdf=category_cdf,
        online_factor=online_factor,
        device_hi=hi.reshape(n, 2),
        device_lo=lo.reshape(n, 2),
        devices=devices,
        ip=random_public_ipv4(rng, n),
        last_four=rng.integers(0, 10_000, n),
        network=network,
        card_bin=card_bin,
        first_name=rng.integers(0, min(map(len, ref.FIRST_NAMES.values())), n),
        last_name=rng.integers(0, min(map(len, ref.LAST_NAMES.values())), n),
        language=LANGUAGE_OF_COUNTRY[home],
        email_domain=rng.integers(0, len(ref.EMAIL_DOMAINS), n),
        email_number=rng.integers(1, 100, n),
        phone=rng.integers(2_000_000_000, 9_999_999_999, n),
        created=created.astype("datetime64[D]"),
        risk_level=pick_weighted(rng, normalised_cdf(ref.RISK_LEVEL_WEIGHTS), n),
    )


def _merchant_country_weights() -> tuple[np.ndarray, np.ndarray]:
    """(country index, share of merchants) of every merchant country."""
    share = np.zeros(N_COUNTRIES)
    for table, part in (
        (ref.HOME_COUNTRIES, 0.82),
        (ref.TRAVEL_DESTINATIONS, 0.10),
        (ref.ONLINE_HUBS, 0.05),
        (dict.fromkeys(ref.FRAUD_COUNTRIES, 1.0), 0.03),
    ):
        total = sum(table.values())
        for c, w in table.items():
            share[ref.COUNTRY_INDEX[c]] += part * w / total
    idx = country_indices(ref.MERCHANT_COUNTRIES)
    return idx, share[idx]


def _anchor_category(country: str) -> int:
    if country in ref.HOME_COUNTRIES:
        return ref.ANCHOR_CATEGORY["home"]
    if country in ref.TRAVEL_DESTINATIONS:
        return ref.ANCHOR_CATEGORY["travel"]
    if country in ref.ONLINE_HUBS:
        return ref.ANCHOR_CATEGORY["hub"]
    return ref.ANCHOR_CATEGORY["fraud"]


def _merchants(rng: np.random.Generator, n: int) -> Merchants:
    idx, weight = _merchant_country_weights()
    k = len(idx)
    if n < k:
        raise ValueError(f"merchants must be at least {k} (one per merchant country)")
    # One anchor merchant per country, the rest by weight.
    extra = idx[pick_weighted(rng, normalised_cdf(weight), n - k)]
    country = np.concatenate([idx, extra])
    category = pick_weighted(rng, normalised_cdf(ref.CATEGORY_WEIGHTS), n)
    category[:k] = [_anchor_category(c) for c in ref.MERCHANT_COUNTRIES]
    # Web shops cluster in the hubs; cash-out terminals in the fraud countries.
    hub = np.isin(country, HUB_IDX) & ~np.isin(country, HOME_IDX)
    hub[:k] = False
    online_cats = np.array(ref.ONLINE_CATEGORIES)
    category[hub] = online_cats[rng.integers(0, len(online_cats), int(hub.sum()))]
    fraud = np.isin(country, FRAUD_IDX)
    fraud[:k] = False
    cash = np.array(ref.CASH_OUT_CATEGORIES)
    category[fraud] = cash[rng.integers(0, len(cash), int(fraud.sum()))]
    # Shuffle so that store numbers do not reveal the anchors.
    perm = rng.permutation(n)
    country, category = country[perm], category[perm]
    n_brands = np.array([len(c.brands) for c in ref.CATEGORIES])
    return Merchants(
        count=n,
        country=country,
        city=CITY_SAMPLER.sample(rng, country),
        category=category,
        popularity=np.exp(rng.normal(0.0, 1.0, n)),
        brand=(rng.random(n) * n_brands[category]).astype(np.int64),
        acquirer=rng.integers(0, len(ref.ACQUIRERS), n),
        number=np.arange(1, n + 1),
    )


def build_population(rng: np.random.Generator, customers: int, merchants: int, start: dt.date):
    cust = _customers(rng, customers, start)
    merch = _merchants(rng, merchants)
    by_home = GroupSampler(
        cust.home, np.diff(np.concatenate(([0.0], cust.activity_cdf))), N_COUNTRIES
    )
    return Population(customers=cust, merchants=merch, customers_by_home=by_home)


class MerchantPicker:
    """Picks a merchant of a country and category, by popularity, skipping the excluded
    ones. An empty (country, category) falls back to the busiest category of the country,
    and an empty country to the busiest group overall."""

    def __init__(self, merchants: Merchants, excluded: np.ndarray | None = None) -> None:
        weight = merchants.popularity.copy()
        if excluded is not None and len(excluded):
            weight[excluded] = 0.0
        group = merchants.country * N_CATEGORIES + merchants.category
        self.sampler = GroupSampler(group, weight, N_COUNTRIES * N_CATEGORIES)
        totals = self.sampler.total.reshape(N_COUNTRIES, N_CATEGORIES)
        best_in_country = np.argmax(totals, axis=1) + np.arange(N_COUNTRIES) * N_CATEGORIES
        best_overall = int(np.argmax(self.sampler.total))
        fallback = np.where(totals.max(axis=1) > 0, best_in_country, best_overall)
        own = np.arange(N_COUNTRIES * N_CATEGORIES)
        self.remap = np.where(self.sampler.total > 0, own, np.repeat(fallback, N_CATEGORIES))
        self.weight = weight
        self.merchants = merchants

    def pick(self, rng: np.random.Generator, country: np.ndarray, category: np.ndarray):
        group = self.remap[np.asarray(country) * N_CATEGORIES + np.asarray(category)]
        return self.sampler.sample(rng, group)

    def pool(self, mask: np.ndarray) -> np.ndarray:
        """Merchants allowed by `mask` and not excluded."""
        return np.flatnonzero(mask & (self.weight > 0))
