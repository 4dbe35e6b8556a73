"""The customers feed's contract, record by record (pure Arrow, no database)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from fraud_assets.contract.customers import CUSTOMER_FEED_COLUMNS
from fraud_assets.logic.customer_validation import validate_customers

GOOD = {
    "customer_id": "C1",
    "first_name": "Ana",
    "last_name": "Silva",
    "email": "ana@example.com",
    "phone": "+351 912345678",
    "account_created_date": "2021-03-04",
    "risk_level": "medium",
    "home_country": "PT",
    "home_city": "Lisboa",
}


def _feed(*records):
    table = pa.table(
        {c: pa.array([r.get(c) for r in records], pa.string()) for c in CUSTOMER_FEED_COLUMNS}
    )
    n = len(records)
    return table.append_column("_source_file", pa.array(["customers.csv"] * n)).append_column(
        "_record_number", pa.array(range(1, n + 1), pa.int32())
    )


def test_each_bad_record_is_quarantined_with_its_first_reason_and_nothing_is_dropped():
    records = [
        GOOD,
        {**GOOD, "customer_id": "C2", "account_created_date": "2021-02-30"},
        {**GOOD, "customer_id": "C3", "home_country": "XX"},
        {**GOOD, "customer_id": "C4", "risk_level": "SEVERE"},
        {**GOOD, "customer_id": None},
        {**GOOD, "customer_id": "C6", "first_name": "x" * 101},
        {**GOOD, "customer_id": "C7", "account_created_date": "04/03/2021"},
    ]
    result = validate_customers(_feed(*records))
    assert result.good["customer_id"].to_pylist() == ["C1"]
    assert result.quarantine.select(["record_number", "reason"]).to_pylist() == [
        {"record_number": 2, "reason": "bad_date"},
        {"record_number": 3, "reason": "unsupported_country"},
        {"record_number": 4, "reason": "unknown_risk_level"},
        {"record_number": 5, "reason": "missing_required_field"},
        {"record_number": 6, "reason": "field_too_long"},
        {"record_number": 7, "reason": "bad_date"},
    ]
    assert result.good.num_rows + result.quarantine.num_rows == len(records)
    assert '"customer_id":"C3"' in result.quarantine["raw_record"][1].as_py()


def test_values_are_typed_and_an_empty_risk_level_takes_the_tables_default():
    result = validate_customers(_feed(GOOD, {**GOOD, "customer_id": "C2", "risk_level": None}))
    rows = result.good.to_pylist()
    assert rows[0]["account_created_date"] == dt.date(2021, 3, 4)
    assert [r["risk_level"] for r in rows] == ["MEDIUM", "LOW"]
    assert result.quarantine.num_rows == 0


def test_an_id_twice_in_a_day_is_ambiguous_so_both_records_are_quarantined():
    result = validate_customers(_feed(GOOD, {**GOOD, "home_city": "Porto"}))
    assert result.good.num_rows == 0
    assert result.reason_counts() == {"duplicate_customer_id": 2}
