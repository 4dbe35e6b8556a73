"""The landing feeds' columns as text: transactions, customers, chargebacks, labels."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fraud_assets.demo import reference as ref
from fraud_assets.demo.population import CITY_NAMES, Population
from fraud_assets.demo.writer import (
    BOOLEANS,
    csv_lines,
    decimal_text,
    digits,
    fixed,
    hex_text,
    ipv4_text,
    take,
    timestamp_text,
    to_arrow,
)

CUSTOMER_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "account_created_date",
    "risk_level",
    "home_country",
    "home_city",
)
CHARGEBACK_COLUMNS: tuple[str, ...] = ("transaction_id", "is_fraud", "reported_at")
LABEL_COLUMNS: tuple[str, ...] = (
    "transaction_id",
    "transaction_date",
    "customer_id",
    "merchant_name",
    "scenario",
)
FIRST_CUSTOMER_NUMBER = 10_000_001
MESSAGE_TYPES = pa.array(["0100", "0200", "0200", "0220"])  # by TRANSACTION_TYPES


def _strings(values) -> pa.StringArray:
    return pa.array(list(values), pa.string())


def _flat_names(table: dict[str, tuple[str, ...]]) -> tuple[pa.Array, np.ndarray]:
    names = [n for lang in ref.LANGUAGES for n in table[lang]]
    offsets = np.cumsum([0] + [len(table[lang]) for lang in ref.LANGUAGES])[:-1]
    return _strings(names), offsets


def _email_safe(names: pa.Array) -> pa.Array:
    return pc.replace_substring_regex(pc.utf8_lower(names), "[^a-z]", "")


class TransactionText:
    """Per-customer and per-merchant text, computed once, taken per row."""

    def __init__(self, pop: Population, source_systems: tuple[str, ...]) -> None:
        c, m = pop.customers, pop.merchants
        self.customer_id = to_arrow(
            fixed([b"C", digits(FIRST_CUSTOMER_NUMBER + np.arange(c.count), 8)], c.count)
        )
        self.last_four = to_arrow(digits(c.last_four, 4))
        network = take(_strings(ref.NETWORKS), c.network)
        self.card_raw = pc.binary_join_element_wise(
            '""network"":""',
            network,
            '"",""card_bin"":""',
            to_arrow(digits(c.card_bin, 6)),
            '""',
            "",
        )
        width = max(4, len(str(m.count)))
        brands = [b for cat in ref.CATEGORIES for b in cat.brands]
        brand_offset = np.cumsum([0] + [len(cat.brands) for cat in ref.CATEGORIES])[:-1]
        brand = take(_strings(brands), brand_offset[m.category] + m.brand)
        self.merchant_name = pc.binary_join_element_wise(
            brand, to_arrow(fixed([b" #", digits(m.number, width)], m.count)), ""
        )
        self.merchant_category = take(_strings(c.name for c in ref.CATEGORIES), m.category)
        self.merchant_country = take(_strings(ref.COUNTRIES), m.country)
        self.merchant_city = take(_strings(CITY_NAMES), m.city)
        currencies = [ref.COUNTRY_CURRENCY[c] for c in ref.COUNTRIES]
        self.merchant_currency = take(_strings(currencies), m.country)
        mcc = take(_strings(c.mcc for c in ref.CATEGORIES), m.category)
        terminal = to_arrow(
            fixed(
                [b'""terminal_id"":""TRM', digits(m.number, 8), b'"",""merchant_id"":""MID'],
                m.count,
            )
        )
        self.merchant_raw = pc.binary_join_element_wise(
            terminal,
            to_arrow(digits(m.number * 7_919 + 104_729, 12)),
            '"",""mcc"":""',
            mcc,
            '"",""acquirer"":""',
            take(_strings(ref.ACQUIRERS), m.acquirer),
            '""',
            "",
        )
        self.systems = _strings(source_systems)
        self.types = _strings(ref.TRANSACTION_TYPES)
        self.entry = _strings(ref.ENTRY_MODES)
        self.cvm = _strings(ref.ENTRY_CVM)

    def transaction_ids(self, day: dt.date, seq: np.ndarray) -> np.ndarray:
        """`T` + YYYYMMDD + 9-digit sequence, as an (n, 18) uint8 matrix."""
        return fixed([f"T{day:%Y%m%d}".encode(), digits(seq, 9)], len(seq))

    def lines(
        self,
        *,
        ids: np.ndarray,
        stamps: pa.Array,
        sec: np.ndarray,
        cust: np.ndarray,
        merch: np.ndarray,
        cents: np.ndarray,
        ttype: np.ndarray,
        online: np.ndarray,
        entry: np.ndarray,
        ip: np.ndarray,
        ip_null: np.ndarray,
        dev_hi: np.ndarray,
        dev_lo: np.ndarray,
        dev_null: np.ndarray,
        system: np.ndarray,
        noise: np.ndarray,
        rrn_prefix: bytes,
    ) -> pa.StringArray:
        n = len(sec)
        amount = decimal_text(cents)
        currency = take(self.merchant_currency, merch)
        source = take(self.systems, system)
        stan = noise % 1_000_000
        auth = hex_text(noise, noise >> np.uint64(40), upper=True)[:, -6:]
        codes = to_arrow(
            fixed(
                [
                    b'"",""auth_code"":""',
                    auth,
                    b'"",""response_code"":""00"",""stan"":""',
                    digits(stan.astype(np.int64), 6),
                    b'"",""rrn"":""',
                    rrn_prefix,
                    digits(sec // 3600, 2),
                    digits(stan.astype(np.int64), 6),
                    b'"",',
                ],
                n,
            )
        )
        raw = pc.binary_join_element_wise(
            '"{""source"":""',
            source,
            '"",',
            take(self.card_raw, cust),
            ',""message_type"":""',
            take(MESSAGE_TYPES, ttype),
            codes,
            take(self.merchant_raw, merch),
            ',""entry_mode"":""',
            take(self.entry, entry),
            '"",""cvm"":""',
            take(self.cvm, entry),
            '"",""amount"":""',
            amount,
            '"",""currency"":""',
            currency,
            '""}"',
            "",
        )
        return csv_lines(
            [
                to_arrow(ids),
                take(self.customer_id, cust),
                take(stamps, sec),
                amount,
                currency,
                take(self.merchant_name, merch),
                take(self.merchant_category, merch),
                take(self.types, ttype),
                take(self.last_four, cust),
                take(self.merchant_country, merch),
                take(self.merchant_city, merch),
                ipv4_text(ip, ip_null),
                to_arrow(hex_text(dev_hi, dev_lo), dev_null),
                take(BOOLEANS, online.astype(np.int64)),
                source,
                raw,
            ]
        )


def customer_lines(pop: Population, text: TransactionText) -> pa.StringArray:
    c = pop.customers
    first_names, first_offset = _flat_names(ref.FIRST_NAMES)
    last_names, last_offset = _flat_names(ref.LAST_NAMES)
    first = take(first_names, first_offset[c.language] + c.first_name)
    last = take(last_names, last_offset[c.language] + c.last_name)
    email = pc.binary_join_element_wise(
        take(_email_safe(first_names), first_offset[c.language] + c.first_name),
        ".",
        take(_email_safe(last_names), last_offset[c.language] + c.last_name),
        pc.cast(pa.array(c.email_number), pa.string()),
        "@",
        take(_strings(ref.EMAIL_DOMAINS), c.email_domain),
        "",
    )
    codes = _strings(ref.CALLING_CODES.get(country, "+1") for country in ref.COUNTRIES)
    phone = pc.binary_join_element_wise(take(codes, c.home), to_arrow(digits(c.phone, 10)), " ")
    return csv_lines(
        [
            text.customer_id,
            first,
            last,
            email,
            phone,
            pa.array(np.datetime_as_string(c.created, unit="D")),
            take(_strings(ref.RISK_LEVELS), c.risk_level),
            take(_strings(ref.COUNTRIES), c.home),
            take(_strings(CITY_NAMES), c.city),
        ]
    )


def chargeback_lines(ids: np.ndarray, is_fraud: np.ndarray, reported: np.ndarray):
    return csv_lines(
        [to_arrow(ids), take(BOOLEANS, is_fraud.astype(np.int64)), timestamp_text(reported)]
    )


def label_lines(
    text: TransactionText,
    ids: np.ndarray,
    at: np.ndarray,
    cust: np.ndarray,
    merch: np.ndarray,
    scenario: np.ndarray,
) -> pa.StringArray:
    return csv_lines(
        [
            to_arrow(ids),
            timestamp_text(at),
            take(text.customer_id, cust),
            take(text.merchant_name, merch),
            take(_strings(ref.SCENARIOS), scenario),
        ]
    )
