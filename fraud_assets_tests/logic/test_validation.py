"""Every kind of bad record is quarantined with its reason; every good record is kept."""

from __future__ import annotations

import datetime as dt

import pyarrow.compute as pc
import pytest

from fraud_assets.logic.validation import validate_transactions
from fraud_assets_tests.feeds import feed_table, good_record

DAY = dt.date(2026, 11, 20)

BAD = {
    "missing_required_field": {"customer_id": None},
    "bad_timestamp": {"transaction_date": "20/11/2026 10:00"},
    "outside_partition_day": {"transaction_date": "2026-11-21T00:00:00Z"},
    "non_positive_amount": {"amount": "-5.00"},
    "amount_out_of_range": {"amount": "12345678901.00"},
    "bad_amount": {"amount": "12,50"},
    "unsupported_currency": {"currency": "XYZ"},
    "unsupported_country": {"location_country": "ZZ"},
    "bad_json": {"raw_data": '{"auth_code": '},
    "field_too_long": {"merchant_name": "M" * 256},
    "bad_ip_address": {"ip_address": "300.1.2.3"},
    "bad_boolean": {"is_online": "yes"},
    "bad_card_last_four": {"card_last_four": "12a4"},
}


@pytest.fixture(scope="module")
def result():
    records = [good_record("G1"), good_record("G2", "2026-11-20T23:59:59.999999Z")]
    records += [good_record(f"B_{reason}", **change) for reason, change in BAD.items()]
    records += [
        good_record("G3", merchant_name="Robert'); DROP TABLE transactions;--"),  # just text
        good_record("G1", amount="99.00"),  # same id again in the day
        good_record("G4", "2026-02-30T10:00:00", currency=None),  # impossible date
    ]
    return validate_transactions(feed_table(records), DAY)


def test_nothing_is_dropped(result):
    assert result.good.num_rows + result.quarantine.num_rows == 2 + len(BAD) + 3


def test_good_records_are_kept_typed(result):
    assert sorted(result.good["transaction_id"].to_pylist()) == ["G1", "G2", "G3"]
    g1 = result.good.filter(pc.equal(result.good["transaction_id"], "G1")).to_pylist()[0]
    assert str(g1["amount"]) == "12.50"  # the first G1, not the later duplicate
    assert g1["transaction_date"] == dt.datetime(2026, 11, 20, 10, 0)
    assert g1["is_online"] is False
    assert g1["created_at"] == g1["normalized_at"] == dt.datetime(2026, 11, 21, 1, 0)
    g2 = result.good.filter(pc.equal(result.good["transaction_id"], "G2")).to_pylist()[0]
    assert g2["transaction_date"] == dt.datetime(2026, 11, 20, 23, 59, 59, 999999)


@pytest.mark.parametrize("reason", sorted(BAD))
def test_each_bad_record_has_its_reason(result, reason):
    rows = result.quarantine.filter(pc.equal(result.quarantine["reason"], reason)).to_pylist()
    assert any(f'"transaction_id":"B_{reason}"' in r["raw_record"] for r in rows), rows


def test_duplicates_and_impossible_dates(result):
    by_reason = {r["reason"]: r for r in result.quarantine.to_pylist() if '"G' in r["raw_record"]}
    assert '"amount":"99.00"' in by_reason["duplicate_transaction_id"]["raw_record"]
    assert '"transaction_id":"G4"' in by_reason["bad_timestamp"]["raw_record"]


def test_quarantine_rows_say_where_the_record_came_from(result):
    row = [r for r in result.quarantine.to_pylist() if r["reason"] == "bad_json"][0]
    assert row["source_file"] == "test.csv"
    assert row["record_number"] == 3 + list(BAD).index("bad_json")
    assert "raw_data" in row["detail"]


def test_reason_counts(result):
    counts = result.reason_counts()
    assert counts["bad_timestamp"] == 2
    assert counts["duplicate_transaction_id"] == 1
    assert sum(counts.values()) == result.quarantine.num_rows
