"""Parsing the chargeback feed: every reject reason, the first one winning (pure pyarrow)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from fraud_assets.logic.chargebacks import parse_chargebacks

DAY = dt.date(2026, 5, 10)


def _feed(records: list[tuple]) -> pa.Table:
    ids, flags, times = (list(c) for c in zip(*records, strict=True))
    n = len(records)
    return pa.table(
        {
            "transaction_id": pa.array(ids, pa.string()),
            "is_fraud": pa.array(flags, pa.string()),
            "reported_at": pa.array(times, pa.string()),
            "_source_file": pa.array(["cb.csv"] * n),
            "_record_number": pa.array(range(1, n + 1), pa.int32()),
        }
    )


def test_good_records_are_typed_and_bad_ones_rejected_with_their_first_reason():
    parsed = parse_chargebacks(
        _feed(
            [
                ("T1", "true", "2026-05-10T08:00:00Z"),
                (" T2 ", "FALSE", "2026-05-10 23:59:59.5+00:00"),
                (None, "true", "2026-05-10T08:00:00Z"),
                ("", "maybe", "garbage"),
                ("T3", None, "2026-05-10T08:00:00Z"),
                ("T4", "true", "2026-05-10T08:00:00+02:00"),
                ("T5", "true", "2026-02-30T08:00:00Z"),
                ("T6", "true", "2026-05-11T00:00:00Z"),
                ("T7", "false", "2026-05-09T23:59:59Z"),
            ]
        ),
        DAY,
    )
    assert parsed.reports.to_pylist() == [
        {"transaction_id": "T1", "is_fraud": True, "reported_at": dt.datetime(2026, 5, 10, 8)},
        {
            "transaction_id": "T2",
            "is_fraud": False,
            "reported_at": dt.datetime(2026, 5, 10, 23, 59, 59, 500000),
        },
    ]
    assert [(r["record_number"], r["reason"]) for r in parsed.rejects.to_pylist()] == [
        (3, "missing_transaction_id"),
        (4, "missing_transaction_id"),
        (5, "bad_boolean"),
        (6, "bad_timestamp"),
        (7, "bad_timestamp"),
        (8, "outside_partition_day"),
        (9, "outside_partition_day"),
    ]
