"""The chargeback feed (CONTRACT.md): `transaction_id,is_fraud,reported_at`, one folder per
UTC day the reports arrived. Pure parsing: good reports, and rejected records with reasons."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from fraud_assets.logic.validation import _parse_timestamps

CHARGEBACK_COLUMNS: tuple[str, ...] = ("transaction_id", "is_fraud", "reported_at")

REJECT_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("record_number", pa.int32()),
        ("reason", pa.string()),
        ("transaction_id", pa.string()),
        ("is_fraud", pa.string()),
        ("reported_at", pa.string()),
    ]
)


@dataclass(frozen=True)
class ParsedChargebacks:
    reports: pa.Table  # transaction_id, is_fraud (bool), reported_at (timestamp[us], UTC)
    rejects: pa.Table  # REJECT_SCHEMA


def parse_chargebacks(feed: pa.Table, day: dt.date) -> ParsedChargebacks:
    """Type the text columns of a day's feed (LandingResource.read_day). A record is
    rejected for: missing_transaction_id, bad_boolean (not true/false), bad_timestamp
    (not ISO 8601 UTC), outside_partition_day (reported on another day than its folder)."""
    tid = pc.utf8_trim_whitespace(feed["transaction_id"])
    flag = pc.utf8_lower(pc.utf8_trim_whitespace(feed["is_fraud"]))
    reported = _parse_timestamps(feed["reported_at"])
    start = pa.scalar(dt.datetime.combine(day, dt.time()), pa.timestamp("us"))
    end = pa.scalar(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()), pa.timestamp("us"))
    reasons = [
        ("missing_transaction_id", pc.or_kleene(pc.is_null(tid), pc.equal(tid, ""))),
        (
            "bad_boolean",
            pc.invert(pc.fill_null(pc.is_in(flag, pa.array(["true", "false"])), False)),
        ),
        ("bad_timestamp", pc.is_null(reported)),
        (
            "outside_partition_day",
            pc.fill_null(pc.or_(pc.less(reported, start), pc.greater_equal(reported, end)), False),
        ),
    ]
    reason = pa.nulls(feed.num_rows, pa.string())
    for name, hit in reversed(reasons):  # the first reason in the list wins
        reason = pc.if_else(pc.fill_null(hit, True), pa.scalar(name), reason)
    bad = pc.is_valid(reason)
    good = pc.invert(bad)
    reports = pa.table(
        {
            "transaction_id": tid.filter(good),
            "is_fraud": pc.equal(flag.filter(good), "true"),
            "reported_at": reported.filter(good),
        }
    )
    rejects = pa.table(
        {
            "source_file": feed["_source_file"].filter(bad),
            "record_number": feed["_record_number"].filter(bad),
            "reason": reason.filter(bad),
            "transaction_id": feed["transaction_id"].filter(bad),
            "is_fraud": feed["is_fraud"].filter(bad),
            "reported_at": feed["reported_at"].filter(bad),
        },
        schema=REJECT_SCHEMA,
    )
    return ParsedChargebacks(reports, rejects)
