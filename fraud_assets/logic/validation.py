"""Contract validation of a landing feed (CONTRACT.md), vectorised with Arrow.

Input: the feed's 16 business columns as text plus `_source_file` and `_record_number`.
Output: the rows that honour the contract, typed for PostgreSQL, and one quarantine row
per rejected record with the first reason it failed, a human detail and the raw record.
Nothing is dropped: good + quarantined == input, always.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from fraud_assets.contract.currency import supported_currencies
from fraud_assets.contract.geography import SUPPORTED_COUNTRIES
from fraud_assets.contract.schema import (
    AMOUNT_TYPE,
    COLUMN_NAMES,
    FEED_COLUMNS,
    REQUIRED_COLUMNS,
    TRANSACTION_COLUMNS,
)

QUARANTINE_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("record_number", pa.int32()),
        ("reason", pa.string()),
        ("detail", pa.string()),
        ("raw_record", pa.string()),
    ]
)

# Whole-second UTC timestamps, optional fraction, optional explicit UTC designator.
_TIMESTAMP_RE = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]00:?00)?$"
# Positive or negative, at most 10 integral digits and 2 decimals: DECIMAL(12,2).
_AMOUNT_RE = r"^[+-]?\d{1,10}(\.\d{1,2})?$"
_NUMBER_RE = r"^[+-]?\d+(\.\d+)?$"
IPV4_RE = r"^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$"
_BOOLEANS = ("true", "false")
# Numbers a DECIMAL(38,2) sum holds exactly: up to 2 decimals, at most 30 integral digits.
_SUMMABLE_RE = r"^[+-]?\d{1,30}(\.\d{1,2})?$"
_SUM_TYPE = pa.decimal128(38, 2)


@dataclass(frozen=True)
class ValidationResult:
    good: pa.Table  # the 18 typed columns + _source_file, _record_number
    quarantine: pa.Table  # QUARANTINE_SCHEMA

    def reason_counts(self) -> dict[str, int]:
        counts = (
            pc.value_counts(self.quarantine["reason"]).to_pylist()
            if self.quarantine.num_rows
            else []
        )
        return {c["values"]: c["counts"] for c in counts}


class FirstReasons:
    """First failing reason per row: earlier checks win, later ones only fill the gaps."""

    def __init__(self, n: int) -> None:
        self.reason = pa.nulls(n, pa.string())
        self.detail = pa.nulls(n, pa.string())

    def add(self, failed: pa.Array, reason: str, detail: str) -> None:
        failed = pc.fill_null(failed, False)
        self.reason = pc.if_else(pc.and_(failed, pc.is_null(self.reason)), reason, self.reason)
        self.detail = pc.if_else(pc.and_(failed, pc.is_null(self.detail)), detail, self.detail)


def validate_transactions(feed: pa.Table, day: dt.date) -> ValidationResult:
    n = feed.num_rows
    reasons = FirstReasons(n)
    col = {name: feed[name] for name in FEED_COLUMNS}
    # JSON is checked row by row in Python (holding the GIL) while the Arrow kernels below
    # release it, so the two run side by side on two cores.
    with ThreadPoolExecutor(max_workers=1) as pool:
        bad_json = pool.submit(_invalid_json, col["raw_data"])
        return _validate(feed, day, col, reasons, bad_json)


def _validate(
    feed: pa.Table, day: dt.date, col: dict, reasons: FirstReasons, bad_json: Future
) -> ValidationResult:
    for name in REQUIRED_COLUMNS:
        if name in col:
            reasons.add(pc.is_null(col[name]), "missing_required_field", f"{name} is empty")
    for c in TRANSACTION_COLUMNS:
        if c.max_length and c.name in col:
            reasons.add(
                pc.greater(pc.utf8_length(col[c.name]), c.max_length),
                "field_too_long",
                f"{c.name} longer than {c.max_length} characters",
            )

    timestamps = _parse_timestamps(col["transaction_date"])
    reasons.add(
        pc.and_(pc.is_valid(col["transaction_date"]), pc.is_null(timestamps)),
        "bad_timestamp",
        "transaction_date is not an ISO 8601 UTC timestamp",
    )
    start = pa.scalar(dt.datetime.combine(day, dt.time()), pa.timestamp("us"))
    end = pa.scalar(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()), pa.timestamp("us"))
    reasons.add(
        pc.or_(pc.less(timestamps, start), pc.greater_equal(timestamps, end)),
        "outside_partition_day",
        f"transaction_date is not on {day.isoformat()} (UTC)",
    )

    amount_text = pc.utf8_trim_whitespace(col["amount"])
    is_number = pc.match_substring_regex(amount_text, _NUMBER_RE)
    reasons.add(pc.invert(is_number), "bad_amount", "amount is not a number")
    fits = pc.match_substring_regex(amount_text, _AMOUNT_RE)
    reasons.add(
        pc.and_(is_number, pc.invert(fits)),
        "amount_out_of_range",
        "amount needs more than DECIMAL(12,2) (10 digits, 2 decimals)",
    )
    amounts = pc.cast(pc.if_else(fits, amount_text, pa.scalar(None, pa.string())), AMOUNT_TYPE)
    reasons.add(
        pc.less_equal(amounts, pa.scalar(0, AMOUNT_TYPE)), "non_positive_amount", "amount <= 0"
    )

    currency = col["currency"]
    reasons.add(
        pc.and_(
            pc.is_valid(currency),
            pc.invert(pc.is_in(currency, pa.array(sorted(supported_currencies())))),
        ),
        "unsupported_currency",
        "currency is not an ISO 4217 code with a rate in the FX table",
    )
    country = col["location_country"]
    reasons.add(
        pc.and_(
            pc.is_valid(country),
            pc.invert(pc.is_in(country, pa.array(sorted(SUPPORTED_COUNTRIES)))),
        ),
        "unsupported_country",
        "location_country is not an ISO 3166 code with a time zone in the country table",
    )
    is_online = pc.utf8_lower(pc.utf8_trim_whitespace(col["is_online"]))
    reasons.add(
        pc.and_(pc.is_valid(is_online), pc.invert(pc.is_in(is_online, pa.array(_BOOLEANS)))),
        "bad_boolean",
        "is_online is not true/false",
    )
    reasons.add(
        _invalid_ips(col["ip_address"]), "bad_ip_address", "ip_address is not an IPv4/IPv6 address"
    )
    reasons.add(bad_json.result(), "bad_json", "raw_data is not valid JSON")
    reasons.add(
        pc.invert(pc.fill_null(pc.match_substring_regex(col["card_last_four"], r"^\d{4}$"), True)),
        "bad_card_last_four",
        "card_last_four is not 4 digits",
    )
    _flag_duplicate_ids(col["transaction_id"], reasons, feed)

    typed = pa.table(
        {
            **{name: col[name] for name in FEED_COLUMNS},
            "transaction_date": timestamps,
            "amount": amounts,
            "is_online": pc.equal(is_online, "true"),
            # The loader's two columns are the delivery time of the record's file, so loading
            # the same file again reproduces the same rows exactly.
            "normalized_at": feed["_received_at"],
            "created_at": feed["_received_at"],
            "_source_file": feed["_source_file"],
            "_record_number": feed["_record_number"],
        }
    )
    bad = pc.is_valid(reasons.reason)
    return ValidationResult(
        good=typed.filter(pc.invert(bad)).select([*COLUMN_NAMES, "_source_file", "_record_number"]),
        quarantine=quarantine_rows(
            feed.filter(bad), reasons.reason.filter(bad), reasons.detail.filter(bad)
        ),
    )


def _parse_timestamps(text: pa.Array) -> pa.Array:
    """ISO 8601 text -> timestamp[us] (UTC), null where the text is not a valid timestamp."""
    text = pc.utf8_trim_whitespace(text)
    well_formed = pc.match_substring_regex(text, _TIMESTAMP_RE)
    text = pc.if_else(well_formed, text, pa.scalar(None, pa.string()))
    naive = pc.replace_substring_regex(text, r"(Z|[+-]00:?00)$", "")
    try:
        # Arrow's ISO 8601 cast is strict (no Feb 30, no 24:00) but fails the whole array on
        # one bad value, so it is the fast path for the usual all-valid day.
        return pc.cast(naive, pa.timestamp("us"))
    except pa.ArrowInvalid:
        return _parse_timestamps_per_value(naive)


def _parse_timestamps_per_value(text: pa.Array) -> pa.Array:
    """Well-formed naive ISO text -> timestamp[us], null for impossible dates or times."""
    whole = pc.replace_substring(pc.utf8_slice_codeunits(text, 0, 19), "T", " ")
    seconds = pc.strptime(whole, format="%Y-%m-%d %H:%M:%S", unit="us", error_is_null=True)
    # strptime rolls impossible dates over (Feb 30 -> Mar 2): a round trip rejects them.
    printed = pc.utf8_slice_codeunits(pc.strftime(seconds, format="%Y-%m-%d %H:%M:%S"), 0, 19)
    exact = pc.equal(printed, whole)
    seconds = pc.if_else(exact, seconds, pa.scalar(None, pa.timestamp("us")))
    fraction = pc.extract_regex(text, r"\.(?P<f>\d{1,6})")
    digits = pc.utf8_rpad(pc.struct_field(fraction, "f"), 6, "0")
    micros = pc.fill_null(pc.cast(digits, pa.int64()), 0)
    return pc.add(seconds, pc.cast(micros, pa.duration("us")))


def _invalid_ips(text: pa.Array) -> pa.Array:
    candidates = pc.and_(pc.is_valid(text), pc.invert(pc.match_substring_regex(text, IPV4_RE)))
    flags = candidates.to_pylist()
    values = text.to_pylist()
    # Only non-IPv4 text reaches Python (IPv6 or garbage), so this stays cheap.
    return pa.array(
        [bool(f) and not _is_ip(v) for f, v in zip(flags, values, strict=True)], pa.bool_()
    )


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value.strip())
    except ValueError:
        return False
    return True


def _invalid_json(text: pa.Array) -> pa.Array:
    # jsonb cannot store U+0000, so such text is rejected here rather than by COPY.
    invalid = pc.fill_null(pc.match_substring(text, "\\u0000"), False).to_pylist()
    loads, error = orjson.loads, orjson.JSONDecodeError
    for i, value in enumerate(text.to_pylist()):
        if value is not None and not invalid[i]:
            try:
                loads(value)
            except error:
                invalid[i] = True
    return pa.array(invalid, pa.bool_())


def _flag_duplicate_ids(ids: pa.Array, reasons: FirstReasons, feed: pa.Table) -> None:
    """Keep the first record of an id (by file, then record); quarantine the later ones."""
    candidate = pc.is_null(reasons.reason)
    order = pa.table({"id": ids, "i": pa.array(range(len(ids)), pa.int64()), "ok": candidate})
    checked = pc.and_(candidate, pc.is_valid(ids))
    if pc.count_distinct(ids.filter(checked)).as_py() == pc.sum(checked).as_py():
        return  # the usual day: no id twice, and no need to find the first of each
    first = order.filter(checked).group_by("id").aggregate([("i", "min")])
    first_index = pc.index_in(ids, first["id"])
    keep_at = pc.take(first["i_min"], first_index)
    duplicate = pc.and_(candidate, pc.not_equal(keep_at, order["i"]))
    reasons.add(
        duplicate, "duplicate_transaction_id", "transaction_id appears earlier in this day's feed"
    )


def quarantine_rows(
    bad: pa.Table, reason: pa.Array, detail: pa.Array, columns: tuple[str, ...] = FEED_COLUMNS
) -> pa.Table:
    """Rejected records as QUARANTINE_SCHEMA rows: the record itself kept as JSON."""
    records = bad.select(list(columns)).to_pylist()
    return pa.table(
        {
            "source_file": bad["_source_file"],
            "record_number": bad["_record_number"],
            "reason": reason,
            "detail": detail,
            "raw_record": pa.array([orjson.dumps(r).decode() for r in records], pa.string()),
        },
        schema=QUARANTINE_SCHEMA,
    )


def control_totals(feed: pa.Table) -> tuple[int, Decimal]:
    """(records, sum of the amounts that are numbers): what a sender's control record states."""
    text = pc.utf8_trim_whitespace(feed["amount"])
    numeric = pc.fill_null(pc.match_substring_regex(text, _NUMBER_RE), False)
    values = pc.filter(text, numeric)
    if pc.all(pc.match_substring_regex(values, _SUMMABLE_RE)).as_py() is not False:
        # Exact decimal arithmetic in Arrow; 38 digits hold any day of DECIMAL(12,2) amounts.
        total = pc.sum(pc.cast(values, _SUM_TYPE)).as_py()
        return feed.num_rows, Decimal(total or 0)
    return feed.num_rows, sum((Decimal(v) for v in values.to_pylist()), Decimal(0))
