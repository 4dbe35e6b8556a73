"""A failed check explains itself in one line of text: counts and sample keys."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from fraud_assets.defs.ingest.checks import quarantine_rate_result, quarantine_samples
from fraud_assets.logic.validation import QUARANTINE_SCHEMA

DAY = dt.date(2026, 11, 20)


def test_quarantine_check_names_counts_reasons_and_sample_records():
    quarantine = pa.table(
        {
            "source_file": ["/landing/transactions/date=2026-11-20/a.csv"] * 2,
            "record_number": [7, 9],
            "reason": ["non_positive_amount", "bad_json"],
            "detail": ["", ""],
            "raw_record": ['{"transaction_id": "T7"}', "not json"],
        },
        schema=QUARANTINE_SCHEMA,
    )
    samples = quarantine_samples(quarantine)
    assert samples[0] == {
        "file": "a.csv",
        "record": 7,
        "transaction_id": "T7",
        "reason": "non_positive_amount",
    }
    assert samples[1]["transaction_id"] is None
    loads = {
        DAY: {
            "records": 20,
            "quarantined": 2,
            "reasons": {"non_positive_amount": 1, "bad_json": 1},
            "samples": samples,
        }
    }

    failed = quarantine_rate_result(loads, max_rate=0.05)
    text = failed.metadata["explanation"].value
    assert not failed.passed
    assert text.startswith("2026-11-20: 2 of 20 records quarantined (10.00% > 5.00%)")
    assert "bad_json 1, non_positive_amount 1" in text
    assert "a.csv record 7 (T7): non_positive_amount" in text
    assert "a.csv record 9 (no id): bad_json" in text

    passed = quarantine_rate_result(loads, max_rate=0.10)
    assert passed.passed and "at most 10.00%" in passed.metadata["explanation"].value
