"""Contract validation of the customers feed, vectorised with Arrow.

Input: the feed's 9 columns as text plus `_source_file` and `_record_number`. Output:
the records to upsert, typed, and one quarantine row per rejected record with its reason.
good + quarantined == input, always. An id that appears twice in a day's feed is
ambiguous (which record is the customer now?): every record of it is quarantined.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from fraud_assets.contract.customers import (
    CUSTOMER_COLUMNS,
    CUSTOMER_FEED_COLUMNS,
    CUSTOMER_RISK_LEVELS,
    DEFAULT_RISK_LEVEL,
)
from fraud_assets.contract.geography import SUPPORTED_COUNTRIES
from fraud_assets.logic.validation import FirstReasons, quarantine_rows

_DATE_RE = r"^\d{4}-\d{2}-\d{2}$"


@dataclass(frozen=True)
class CustomerValidation:
    good: pa.Table  # CUSTOMER_FEED_COLUMNS typed
    quarantine: pa.Table  # QUARANTINE_SCHEMA

    def reason_counts(self) -> dict[str, int]:
        if not self.quarantine.num_rows:
            return {}
        counts = pc.value_counts(self.quarantine["reason"]).to_pylist()
        return {c["values"]: c["counts"] for c in counts}


def validate_customers(feed: pa.Table) -> CustomerValidation:
    reasons = FirstReasons(feed.num_rows)
    col = {name: pc.utf8_trim_whitespace(feed[name]) for name in CUSTOMER_FEED_COLUMNS}
    for c in CUSTOMER_COLUMNS:
        if c.required:
            reasons.add(
                pc.or_kleene(pc.is_null(col[c.name]), pc.equal(col[c.name], "")),
                "missing_required_field",
                f"{c.name} is empty",
            )
        if c.max_length:
            reasons.add(
                pc.greater(pc.utf8_length(col[c.name]), c.max_length),
                "field_too_long",
                f"{c.name} longer than {c.max_length} characters",
            )
    created = _dates(col["account_created_date"])
    reasons.add(
        pc.and_(pc.is_valid(col["account_created_date"]), pc.is_null(created)),
        "bad_date",
        "account_created_date is not an ISO date (YYYY-MM-DD)",
    )
    risk = pc.utf8_upper(col["risk_level"])
    reasons.add(
        pc.and_(pc.is_valid(risk), pc.invert(pc.is_in(risk, pa.array(CUSTOMER_RISK_LEVELS)))),
        "unknown_risk_level",
        f"risk_level is not one of {', '.join(CUSTOMER_RISK_LEVELS)}",
    )
    country = col["home_country"]
    reasons.add(
        pc.and_(
            pc.is_valid(country),
            pc.invert(pc.is_in(country, pa.array(sorted(SUPPORTED_COUNTRIES)))),
        ),
        "unsupported_country",
        "home_country is not an ISO 3166 code of the country table",
    )
    reasons.add(
        _repeated(col["customer_id"]),
        "duplicate_customer_id",
        "customer_id appears more than once in this day's feed",
    )

    typed = pa.table(
        {
            **{name: col[name] for name in CUSTOMER_FEED_COLUMNS},
            "account_created_date": created,
            "risk_level": pc.fill_null(risk, DEFAULT_RISK_LEVEL),
        }
    ).select(list(CUSTOMER_FEED_COLUMNS))
    bad = pc.is_valid(reasons.reason)
    return CustomerValidation(
        good=typed.filter(pc.invert(bad)),
        quarantine=quarantine_rows(
            feed.filter(bad),
            reasons.reason.filter(bad),
            reasons.detail.filter(bad),
            CUSTOMER_FEED_COLUMNS,
        ),
    )


def _dates(text: pa.ChunkedArray) -> pa.Array:
    """ISO dates -> date32; null for malformed or impossible dates (no Feb 30)."""
    well_formed = pc.fill_null(pc.match_substring_regex(text, _DATE_RE), False)
    text = pc.if_else(well_formed, text, pa.scalar(None, pa.string()))
    parsed = pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls impossible dates over (Feb 30 -> Mar 2): a round trip rejects them.
    exact = pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), text)
    return pc.cast(pc.if_else(exact, parsed, pa.scalar(None, pa.timestamp("s"))), pa.date32())


def _repeated(ids: pa.ChunkedArray) -> pa.Array:
    counts = pa.table({"id": ids}).group_by("id").aggregate([("id", "count")])
    repeated = counts.filter(pc.greater(counts["id_count"], 1))["id"]
    return pc.and_(pc.is_valid(ids), pc.is_in(ids, repeated))
