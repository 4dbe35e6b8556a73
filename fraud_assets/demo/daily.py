"""One day of the transactions feed: draw, order, price, route to a source system, write."""

from __future__ import annotations

import datetime as dt
import pathlib
from dataclasses import dataclass

import numpy as np

from fraud_assets.contract.currency import usd_rates_on
from fraud_assets.contract.schema import FEED_COLUMNS, MAX_AMOUNT
from fraud_assets.demo import reference as ref
from fraud_assets.demo.clock import DayClock
from fraud_assets.demo.feeds import TransactionText
from fraud_assets.demo.fraud import fraud_rows, plan_day
from fraud_assets.demo.legit import Day, legit_rows
from fraud_assets.demo.plan import Plan
from fraud_assets.demo.population import MerchantPicker, Population
from fraud_assets.demo.rows import Rows
from fraud_assets.demo.writer import body, day_timestamps, ordered_map, write_atomic

CHUNK_ROWS = 200_000
# Which feed delivers which kind of transaction, when the configured systems include it.
ONLINE_SYSTEM, BANKING_SYSTEM, CARD_SYSTEM = "online_gateway", "core_banking", "card_processor"


@dataclass(frozen=True)
class DayFeed:
    """A day's rows grouped by source system, each group in (time, id) order."""

    date: dt.date
    epoch: int  # UTC epoch second of the day's start
    rows: Rows
    ids: np.ndarray  # (n, 18) uint8 text of the transaction ids
    seq: np.ndarray  # the ids' sequence numbers (time order)
    ttype: np.ndarray  # index into TRANSACTION_TYPES
    system: np.ndarray  # index into the configured source systems (sorted)
    cents: np.ndarray  # amount in the merchant's currency, minor units
    noise: np.ndarray  # uint64 feeding auth codes and trace numbers


def local_cents(rows: Rows, country: np.ndarray, category: np.ndarray, day: dt.date):
    """USD amounts converted to the merchant's currency with the day's rate, minor units."""
    rates = usd_rates_on(day)
    missing = sorted({ref.COUNTRY_CURRENCY[c] for c in ref.MERCHANT_COUNTRIES} - rates.keys())
    if missing:
        raise ValueError(f"no FX rate on {day} for {missing}")
    usd_per_unit = np.array(
        [float(rates.get(ref.COUNTRY_CURRENCY[c], "nan")) for c in ref.COUNTRIES]
    )
    zero_decimal = np.array(
        [ref.COUNTRY_CURRENCY[c] in ref.ZERO_DECIMAL_CURRENCIES for c in ref.COUNTRIES]
    )
    local = rows.usd / usd_per_unit[country]
    cents = np.maximum(np.round(local * 100), 1)
    whole = zero_decimal[country]
    cents[whole] = np.maximum(np.round(local[whole]), 1) * 100
    # Cash comes in round notes: 137.42 -> 150, 37.10 -> 35.
    atm = category == ref.ATM
    step = np.maximum(5 * 10 ** np.floor(np.log10(np.maximum(local[atm], 1)) - 1), 1)
    cents[atm] = np.maximum(np.round(local[atm] / step), 1) * step * 100
    return np.minimum(cents, round(MAX_AMOUNT * 100)).astype(np.int64)


def transaction_types(rows: Rows, category: np.ndarray) -> np.ndarray:
    ttype = np.where(
        category == ref.ATM,
        ref.WITHDRAWAL,
        np.where(category == ref.MONEY_TRANSFER, ref.TRANSFER, ref.PURCHASE),
    )
    ttype[rows.refund & (ttype == ref.PURCHASE)] = ref.REFUND
    return ttype


def route(rng: np.random.Generator, rows: Rows, ttype: np.ndarray, names: tuple[str, ...]):
    """Source system per row: cash and transfers via core banking, card-not-present via
    the online gateway, the rest via the card processor; rows whose system is not
    configured are spread over the other configured systems (all, if there are none)."""
    index = {name: i for i, name in enumerate(names)}
    known = (ONLINE_SYSTEM, BANKING_SYSTEM, CARD_SYSTEM)
    others = np.array([i for i, name in enumerate(names) if name not in known] or range(len(names)))
    banking = (ttype == ref.WITHDRAWAL) | (ttype == ref.TRANSFER)
    preferred = np.where(
        banking,
        index.get(BANKING_SYSTEM, -1),
        np.where(rows.online, index.get(ONLINE_SYSTEM, -1), index.get(CARD_SYSTEM, -1)),
    )
    spread = others[rng.integers(0, len(others), len(rows))]
    return np.where(preferred >= 0, preferred, spread)


def build_day(
    rng: np.random.Generator,
    index: int,
    date: dt.date,
    pop: Population,
    plan: Plan,
    per_day: int,
    text: TransactionText,
    systems: tuple[str, ...],
) -> DayFeed:
    m = pop.merchants
    picker = MerchantPicker(m, excluded=plan.comp_merchant[plan.compromised_on(index)])
    day = Day(index, date, DayClock(date), picker, pop, plan)
    injected = fraud_rows(rng, day, plan_day(rng, day, per_day))
    rows = Rows.concat([legit_rows(rng, day, per_day - len(injected)), injected])
    if len(rows) != per_day:
        raise AssertionError(f"{len(rows)} rows drawn for {per_day}")
    # Sequence numbers follow time, so ordering by sequence is ordering by (time, id).
    rows = rows.take(np.argsort(rows.sec, kind="stable"))
    seq = np.arange(1, per_day + 1)
    ttype = transaction_types(rows, m.category[rows.merch])
    system = route(rng, rows, ttype, systems)
    by_system = np.argsort(system, kind="stable")
    rows, seq, ttype, system = (
        rows.take(by_system),
        seq[by_system],
        ttype[by_system],
        system[by_system],
    )
    return DayFeed(
        date=date,
        epoch=day.clock.epoch,
        rows=rows,
        ids=text.transaction_ids(date, seq),
        seq=seq,
        ttype=ttype,
        system=system,
        cents=local_cents(rows, m.country[rows.merch], m.category[rows.merch], date),
        noise=rng.integers(0, 2**63, per_day, dtype=np.int64).astype(np.uint64),
    )


def write_day(
    folder: pathlib.Path, text: TransactionText, systems: tuple[str, ...], feed: DayFeed
) -> None:
    """One CSV per source system (header only when it has no rows that day)."""
    stamps = day_timestamps(feed.date.isoformat())
    rrn_prefix = f"{feed.date.year % 10}{feed.date.timetuple().tm_yday:03d}".encode()
    rows = feed.rows
    bounds = np.searchsorted(feed.system, np.arange(len(systems) + 1))

    def chunk(span: tuple[int, int]) -> memoryview:
        sl = slice(*span)
        return body(
            text.lines(
                ids=feed.ids[sl],
                stamps=stamps,
                sec=rows.sec[sl],
                cust=rows.cust[sl],
                merch=rows.merch[sl],
                cents=feed.cents[sl],
                ttype=feed.ttype[sl],
                online=rows.online[sl],
                entry=rows.entry[sl],
                ip=rows.ip[sl],
                ip_null=rows.ip_null[sl],
                dev_hi=rows.dev_hi[sl],
                dev_lo=rows.dev_lo[sl],
                dev_null=rows.dev_null[sl],
                system=feed.system[sl],
                noise=feed.noise[sl],
                rrn_prefix=rrn_prefix,
            )
        )

    for s, name in enumerate(systems):
        lo, hi = int(bounds[s]), int(bounds[s + 1])
        spans = [(a, min(a + CHUNK_ROWS, hi)) for a in range(lo, hi, CHUNK_ROWS)]
        write_atomic(folder / f"{name}.csv", FEED_COLUMNS, ordered_map(chunk, spans))
