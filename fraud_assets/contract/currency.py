"""Dated FX rates kept in the repo (fx_rates.csv): rules compare amounts in USD.

A rate is valid from its `valid_from` day until the next row for the same currency. The
table is deliberately coarse (one row per currency per year): it is reference data for
thresholds, not for accounting. Replace the CSV with the bank's daily reference rates.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from functools import cache
from importlib import resources


@cache
def _table() -> dict[str, list[tuple[dt.date, Decimal]]]:
    table: dict[str, list[tuple[dt.date, Decimal]]] = {}
    text = resources.files(__package__).joinpath("fx_rates.csv").read_text(encoding="utf-8")
    for row in csv.DictReader(text.splitlines()):
        table.setdefault(row["currency"], []).append(
            (dt.date.fromisoformat(row["valid_from"]), Decimal(row["usd_per_unit"]))
        )
    for rows in table.values():
        rows.sort()
    return table


def supported_currencies() -> frozenset[str]:
    return frozenset(_table())


def usd_rates_on(day: dt.date) -> dict[str, Decimal]:
    """USD per unit of each currency on `day` (the newest rate with valid_from <= day)."""
    rates: dict[str, Decimal] = {}
    for currency, rows in _table().items():
        valid = [rate for valid_from, rate in rows if valid_from <= day]
        if valid:
            rates[currency] = valid[-1]
    return rates
