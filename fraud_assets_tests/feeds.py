"""Build landing-feed rows and files for tests."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pyarrow as pa

from fraud_assets.contract.schema import FEED_COLUMNS


def good_record(
    transaction_id: str, when: str = "2026-11-20T10:00:00Z", **overrides: str | None
) -> dict[str, str | None]:
    record: dict[str, str | None] = {
        "transaction_id": transaction_id,
        "customer_id": "C00000001",
        "transaction_date": when,
        "amount": "12.50",
        "currency": "EUR",
        "merchant_name": "Fresh Grocer #0001",
        "merchant_category": "grocery",
        "transaction_type": "PURCHASE",
        "card_last_four": "0042",
        "location_country": "DE",
        "location_city": "Berlin",
        "ip_address": "203.0.113.7",
        "device_fingerprint": "a3f9c2d1e4b5a6c7",
        "is_online": "false",
        "source_system": "card_processor",
        "raw_data": '{"auth_code": "A1B2C3", "entry_mode": "chip"}',
    }
    record.update(overrides)
    return record


def feed_table(records: list[dict], source_file: str = "test.csv") -> pa.Table:
    """Records as the landing resource hands them over: text columns + provenance."""
    n = len(records)
    columns = {c: pa.array([r[c] for r in records], pa.string()) for c in FEED_COLUMNS}
    columns["_source_file"] = pa.array([source_file] * n, pa.string())
    columns["_record_number"] = pa.array(range(1, n + 1), pa.int32())
    columns["_received_at"] = pa.array([dt.datetime(2026, 11, 21, 1, 0)] * n, pa.timestamp("us"))
    return pa.table(columns)


def write_feed(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(FEED_COLUMNS)
        for r in records:
            writer.writerow(["" if r[c] is None else r[c] for c in FEED_COLUMNS])
    return path
