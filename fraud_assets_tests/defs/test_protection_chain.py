"""Card numbers and identifiers through the four assets, run as the pipeline's database
role: a PAN planted in several fields and inside raw_data is stored masked in PostgreSQL
(transactions, quarantine, alerts) and never reaches the lake; ip/device are hashed there."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import json
import os
from pathlib import Path

import dagster as dg
import orjson
import psycopg
import pyarrow.parquet as pq
import pytest

from fraud_assets.contract.customers import CUSTOMER_FEED_COLUMNS
from fraud_assets.defs.ingest.assets import postgres_transactions
from fraud_assets.logic.rules import RULES_VERSION
from fraud_assets_tests.conftest import reset_database
from fraud_assets_tests.defs.pipeline import run_day, use_folders
from fraud_assets_tests.feeds import good_record, write_feed
from fraud_assets_tests.roles import login_user

DAY = dt.date(2026, 5, 12)
VISA, AMEX = "4111111111111111", "378282246310005"
RAW_FORMS = (VISA, "4111 1111 1111 1111", "4111-1111-1111-1111", AMEX)
VISA_MASKED, AMEX_MASKED = "411111******1111", "378282*****0005"
# Names and contact data of `customers`: none may be a lake column.
CUSTOMER_PII = {"first_name", "last_name", "email", "phone", "home_city", "account_created_date"}
CONFIG = {"ops": {"postgres_transactions": {"config": {"max_quarantine_rate": 0.5}}}}
# A customer of the day's feed, with values that must never leave PostgreSQL (and a card
# number pasted into the phone field by a careless upstream system).
CUSTOMER = ["C90000001", "Zelda", "Quaxworth", "zelda.quaxworth@example.org",
            f"+49 {VISA}", "2020-02-02", "LOW", "DE", "Quedlinburg"]  # fmt: skip


def _records() -> list[dict]:
    records = [
        good_record(
            f"T{DAY:%Y%m%d}{i:09d}",
            f"{DAY}T{10 + i // 6:02d}:{(i * 7) % 60:02d}:00Z",
            customer_id=f"C{i:08d}",
            ip_address=f"203.0.113.{i}",
        )
        for i in range(1, 21)
    ]
    # High value at 03:30 Berlin time: HIGH_VALUE + UNUSUAL_TIME = 40, a MEDIUM alert.
    records.append(
        good_record(
            "P1",
            f"{DAY}T01:30:00Z",
            customer_id="C90000001",
            amount="9000.00",
            merchant_name="Shop 4111 1111 1111 1111",
            device_fingerprint=f"dev-{VISA}",
            raw_data=orjson.dumps(
                {"pan": VISA, "nested": {"track": "B4111-1111-1111-1111^X"}, "n": int(VISA)}
            ).decode(),
        )
    )
    records.append(good_record("P2", f"{DAY}T12:00:00Z", customer_id="C90000002",
                               location_city=f"Berlin {AMEX}"))  # fmt: skip
    records.append(
        good_record(
            "Q1",
            f"{DAY}T13:00:00Z",
            amount="not a number",
            merchant_name=f"Shop {VISA}",
            raw_data=json.dumps({"card": AMEX}),
        )
    )
    return records


@pytest.fixture(scope="module")
def chain(tmp_path_factory, postgres, spark):
    root = tmp_path_factory.mktemp("protection")
    landing, lake = root / "landing", root / "lake"
    write_feed(landing / "transactions" / f"date={DAY}" / "card_processor.csv", _records())
    customers = landing / "customers" / f"date={DAY}" / "customers.csv"
    customers.parent.mkdir(parents=True)
    with open(customers, "w", newline="") as f:
        csv.writer(f).writerows([CUSTOMER_FEED_COLUMNS, CUSTOMER])
    reset_database(postgres)
    use_folders(landing, lake)
    pipeline = login_user(postgres, "fraud_pipeline", act_as_group=True)
    instance = dg.DagsterInstance.ephemeral()
    with pytest.MonkeyPatch.context() as env:
        # The whole run connects as a login member of fraud_pipeline, acting as the role.
        env.setenv("FRAUD_DB_USER", pipeline.user)
        env.setenv("FRAUD_DB_PASSWORD", pipeline.password)
        env.setenv("FRAUD_DB_ROLE", "fraud_pipeline")
        first = run_day(DAY, instance, run_config=CONFIG)
        reload = run_day(DAY, instance, assets=[postgres_transactions], run_config=CONFIG)
    return {"first": first, "reload": reload, "lake": lake, "pg": postgres}


def _rows(pg, sql: str, params=()) -> list[tuple]:
    with psycopg.connect(pg.conninfo) as conn:
        return conn.execute(sql, params).fetchall()


def _has_pan(text: str) -> bool:
    return any(form in text for form in RAW_FORMS)


def test_the_run_as_the_pipeline_role_succeeds_and_counts_what_it_masked(chain):
    for result in (chain["first"], chain["reload"]):
        assert result.success
    meta = chain["first"].asset_materializations_for_node("postgres_transactions")[0].metadata
    assert meta["pan_masked"].value == 8
    assert meta["pan_masked_by_field"].value == {
        "merchant_name": 2,
        "location_city": 1,
        "device_fingerprint": 1,
        "raw_data": 4,
    }
    # The day's partition and its slices belong to the role, whoever logged in: the reload
    # could detach and drop them.
    owners = _rows(
        chain["pg"],
        """SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_partition_tree('transactions') t
             JOIN pg_class c ON c.oid = t.relid""",
    )
    assert owners == [("fraud_pipeline",)]


def test_postgres_holds_masked_card_numbers_only(chain):
    pg = chain["pg"]
    stored = {
        table: "\n".join(r[0] for r in _rows(pg, f"SELECT t::text FROM {table} t"))
        for table in ("transactions", "transactions_quarantine", "fraud_alerts", "customers")
    }
    for table, text in stored.items():
        assert not _has_pan(text), f"a full card number in {table}"
    assert VISA_MASKED in stored["transactions"] and AMEX_MASKED in stored["transactions"]
    assert VISA_MASKED in stored["transactions_quarantine"]
    assert f"+49 {VISA_MASKED}" in stored["customers"]  # loaded, as the pipeline role
    assert AMEX_MASKED in stored["transactions_quarantine"]
    (raw,) = _rows(pg, "SELECT raw_data FROM transactions WHERE transaction_id = 'P1'")[0]
    assert raw == {"pan": VISA_MASKED, "nested": {"track": f"B{VISA_MASKED}^X"}, "n": VISA_MASKED}


def test_alerts_show_the_masked_number_and_name_their_origin(chain):
    rows = _rows(
        chain["pg"],
        """SELECT transaction_id, merchant_name, rules_version, model_version, dagster_run_id
             FROM fraud_alerts ORDER BY transaction_id""",
    )
    assert rows == [("P1", f"Shop {VISA_MASKED}", RULES_VERSION, None, chain["first"].run_id)]


def test_no_lake_file_holds_a_card_number_or_customer_contact_data(chain):
    files = [p for p in Path(chain["lake"]).rglob("*") if p.is_file()]
    parquet = [p for p in files if p.suffix == ".parquet"]
    datasets = {p.relative_to(chain["lake"]).parts[0] for p in parquet}
    # Every dataset the run wrote is scanned, whatever later features add to the lake.
    assert {"transactions", "fraud_features", "customer_daily", "scored_transactions"} <= datasets
    contact = [v.encode() for v in CUSTOMER[1:5] + CUSTOMER[8:]]
    for path in files:
        data = path.read_bytes()
        assert not _has_pan(data.decode("latin-1")), path
        assert not any(v in data for v in contact), path
    for path in parquet:
        table = pq.read_table(path)
        assert not CUSTOMER_PII & set(table.column_names), path
        values = "\n".join(str(v) for column in table.columns for v in column.to_pylist())
        assert not _has_pan(values), path
        assert not any(v.decode() in values for v in contact), path  # compressed pages


def test_the_lake_keeps_ip_and_device_as_keyed_hashes(chain):
    table = pq.read_table(Path(chain["lake"]) / f"transactions/year=2026/month=05/day={DAY.day}")
    rows = {r["transaction_id"]: r for r in table.to_pylist()}
    key = os.environ["FRAUD_LAKE_HASH_KEY"].encode()
    first = rows[f"T{DAY:%Y%m%d}000000001"]
    assert first["ip_address"] == hmac.new(key, b"203.0.113.1", hashlib.sha256).hexdigest()
    assert (
        first["device_fingerprint"]
        == hmac.new(key, b"a3f9c2d1e4b5a6c7", hashlib.sha256).hexdigest()
    )
    assert not any("203.0.113." in (r["ip_address"] or "") for r in rows.values())
    manifest = json.loads(
        (
            Path(chain["lake"]) / f"transactions/year=2026/month=05/day={DAY.day}/_manifest.json"
        ).read_text()
    )
    assert manifest["extra"]["identifiers"] == {"ip_address": "hash", "device_fingerprint": "hash"}
    assert manifest["extra"]["hash"]["algorithm"] == "hmac-sha256"
