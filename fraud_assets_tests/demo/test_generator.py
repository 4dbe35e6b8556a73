"""The demo generator writes the landing feeds of CONTRACT.md, with labelled fraud."""

from __future__ import annotations

import csv
import datetime as dt
import ipaddress
import json
import pathlib
import re
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from fraud_assets.contract.currency import supported_currencies, usd_rates_on
from fraud_assets.contract.geography import COUNTRY_TIME_ZONES
from fraud_assets.contract.schema import FEED_COLUMNS
from fraud_assets.demo import GeneratorConfig, generate
from fraud_assets.demo.reference import COUNTRY_CURRENCY, SCENARIOS, all_strings

# Spans the EU switch to summer time (2026-03-29), so local hours are checked across DST.
CONFIG = GeneratorConfig(start=dt.date(2026, 3, 28), days=3, transactions_per_day=600, seed=7)
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
UTC = dt.UTC


def _read(path: pathlib.Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        return header, [dict(zip(header, row, strict=True)) for row in reader]


def _ts(text: str) -> dt.datetime:
    assert TIMESTAMP.match(text), text
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    summary = generate(CONFIG, root / "landing", root / "truth")
    return root, summary


@pytest.fixture(scope="module")
def transactions(run) -> list[dict[str, str]]:
    root, _ = run
    rows = []
    for path in sorted((root / "landing" / "transactions").glob("date=*/*.csv")):
        _, file_rows = _read(path)
        for row in file_rows:
            row["_partition"] = path.parent.name.removeprefix("date=")
            row["_file"] = path.stem
        rows += file_rows
    return rows


@pytest.fixture(scope="module")
def labels(run) -> list[dict[str, str]]:
    header, rows = _read(run[0] / "truth" / "fraud_labels.csv")
    assert header == [
        "transaction_id",
        "transaction_date",
        "customer_id",
        "merchant_name",
        "scenario",
    ]
    return rows


@pytest.fixture(scope="module")
def customers(run) -> dict[str, dict[str, str]]:
    path = run[0] / "landing" / "customers" / f"date={CONFIG.start}" / "customers.csv"
    header, rows = _read(path)
    assert header == [
        "customer_id", "first_name", "last_name", "email", "phone",
        "account_created_date", "risk_level", "home_country", "home_city",
    ]  # fmt: skip
    return {r["customer_id"]: r for r in rows}


def _by_id(transactions):
    return {t["transaction_id"]: t for t in transactions}


def test_same_config_gives_byte_identical_files(run, tmp_path):
    root, _ = run
    generate(CONFIG, tmp_path / "landing", tmp_path / "truth")
    first = {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    second = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert first.keys() == second.keys()
    assert all(first[k] == second[k] for k in first)


def test_another_seed_gives_other_data(run, tmp_path):
    other = GeneratorConfig(start=CONFIG.start, days=1, transactions_per_day=600, seed=8)
    generate(other, tmp_path / "landing", tmp_path / "truth")
    name = f"date={CONFIG.start}/card_processor.csv"
    assert (tmp_path / "landing" / "transactions" / name).read_bytes() != (
        run[0] / "landing" / "transactions" / name
    ).read_bytes()


def test_layout_and_headers(run):
    root, summary = run
    landing = root / "landing"
    assert summary.days == [CONFIG.start + dt.timedelta(days=i) for i in range(CONFIG.days)]
    for day in summary.days:
        folder = landing / "transactions" / f"date={day}"
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            f"{s}.csv" for s in CONFIG.source_systems
        )
        for path in folder.iterdir():
            first_line = path.read_bytes().split(b"\n", 1)[0].decode()
            assert first_line == ",".join(FEED_COLUMNS)
    for path in (landing / "chargebacks").glob("date=*/*"):
        assert path.name == "chargebacks.csv"
        assert path.read_text().split("\n", 1)[0] == "transaction_id,is_fraud,reported_at"
    assert not list(landing.rglob(".*"))  # no temporary files left behind


def test_rows_are_in_their_utc_day_sorted_by_time_then_id(transactions):
    files = defaultdict(list)
    for t in transactions:
        assert _ts(t["transaction_date"]).date().isoformat() == t["_partition"]
        assert t["source_system"] == t["_file"]
        files[(t["_partition"], t["_file"])].append((t["transaction_date"], t["transaction_id"]))
    for keys in files.values():
        assert keys == sorted(keys)


def test_exact_volume_per_day(run, transactions):
    per_day = defaultdict(int)
    for t in transactions:
        per_day[t["_partition"]] += 1
    assert per_day == {d.isoformat(): CONFIG.transactions_per_day for d in run[1].days}
    assert run[1].transactions == CONFIG.transactions_per_day * CONFIG.days


def test_field_formats_and_supported_values(transactions, customers):
    currencies = supported_currencies()
    for t in transactions:
        assert len(t) == len(FEED_COLUMNS) + 2
        assert t["currency"] in currencies
        assert t["location_country"] in COUNTRY_TIME_ZONES
        assert t["currency"] == COUNTRY_CURRENCY[t["location_country"]]
        assert re.fullmatch(r"\d+\.\d{2}", t["amount"]), t["amount"]
        assert 0 < Decimal(t["amount"]) < Decimal(10) ** 10
        assert re.fullmatch(r"\d{4}", t["card_last_four"])
        assert t["transaction_type"] in {"PURCHASE", "WITHDRAWAL", "TRANSFER", "REFUND"}
        assert t["is_online"] in {"true", "false"}
        assert (
            re.fullmatch(r"[0-9a-f]{32}", t["device_fingerprint"]) or t["device_fingerprint"] == ""
        )
        if t["ip_address"]:
            ipaddress.IPv4Address(t["ip_address"])
        else:
            assert t["is_online"] == "false"
        assert t["merchant_name"] and t["merchant_category"] and t["location_city"]
        assert t["customer_id"] in customers
    for c in customers.values():
        assert re.fullmatch(r"C\d{8}", c["customer_id"])
        assert c["risk_level"] in {"LOW", "MEDIUM", "HIGH", "CRITICAL"}
        dt.date.fromisoformat(c["account_created_date"])
        assert c["home_country"] in COUNTRY_TIME_ZONES
    kinds = {t["transaction_type"] for t in transactions}
    assert "PURCHASE" in kinds and "WITHDRAWAL" in kinds
    share_purchase = sum(t["transaction_type"] == "PURCHASE" for t in transactions) / len(
        transactions
    )
    assert share_purchase > 0.8


def test_ids_unique_across_days(transactions):
    ids = [t["transaction_id"] for t in transactions]
    assert len(ids) == len(set(ids))
    for t in transactions:
        assert re.fullmatch(r"T\d{17}", t["transaction_id"])
        assert t["transaction_id"][1:9] == t["_partition"].replace("-", "")


def test_merchant_names_identify_one_merchant(transactions):
    where = defaultdict(set)
    for t in transactions:
        where[t["merchant_name"]].add(
            (t["merchant_category"], t["location_country"], t["location_city"])
        )
    assert all(len(v) == 1 for v in where.values())


def test_raw_data_is_json_of_the_record(transactions):
    lengths = []
    for t in transactions:
        raw = json.loads(t["raw_data"])
        assert raw["source"] == t["source_system"]
        assert raw["amount"] == t["amount"] and raw["currency"] == t["currency"]
        assert raw["entry_mode"] in {"chip", "contactless", "swipe", "ecom"}
        assert (raw["entry_mode"] == "ecom") == (t["is_online"] == "true")
        lengths.append(len(t["raw_data"]))
    assert 250 <= sum(lengths) / len(lengths) <= 350


def test_every_scenario_is_planted_and_labelled(run, transactions, labels):
    by_id = _by_id(transactions)
    assert {label["scenario"] for label in labels} == set(SCENARIOS)
    assert run[1].frauds == len(labels)
    assert run[1].by_scenario == {s: sum(x["scenario"] == s for x in labels) for s in SCENARIOS}
    for label in labels:
        t = by_id[label["transaction_id"]]
        assert t["customer_id"] == label["customer_id"]
        assert t["merchant_name"] == label["merchant_name"]
        assert t["transaction_date"] == label["transaction_date"]
    assert 0.003 <= len(labels) / len(transactions) <= 0.03


def test_ground_truth_stays_out_of_landing(run):
    landing = run[0] / "landing"
    for path in landing.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert "scenario" not in text and "fraud_labels" not in path.name
            assert not any(s in text for s in SCENARIOS)


def test_chargebacks_follow_their_transactions(run, transactions, labels):
    by_id = _by_id(transactions)
    reports = defaultdict(list)
    for path in (run[0] / "landing" / "chargebacks").glob("date=*/chargebacks.csv"):
        _, rows = _read(path)
        for row in rows:
            at = _ts(row["reported_at"])
            assert at.date().isoformat() == path.parent.name.removeprefix("date=")
            assert row["is_fraud"] in {"true", "false"}
            t = by_id[row["transaction_id"]]
            assert at - _ts(t["transaction_date"]) >= dt.timedelta(days=2)
            reports[row["transaction_id"]].append((at, row["is_fraud"]))
    assert run[1].chargebacks == sum(len(v) for v in reports.values())
    fraud_ids = {label["transaction_id"] for label in labels}
    reported = fraud_ids & reports.keys()
    assert 0.5 <= len(reported) / len(fraud_ids) <= 1.0
    for tid, items in reports.items():
        items.sort()
        assert items[0][1] == "true"
        if tid in fraud_ids:
            assert [flag for _, flag in items] == ["true"]
        else:  # a false report, superseded by a later reversal
            assert [flag for _, flag in items] == ["true", "false"]
    assert reports.keys() - fraud_ids, "some legit transactions are falsely reported"


def _scenario_rows(transactions, labels, scenario):
    by_id = _by_id(transactions)
    return [by_id[x["transaction_id"]] for x in labels if x["scenario"] == scenario]


def test_velocity_burst_signature(transactions, labels):
    bursts = defaultdict(list)
    for t in _scenario_rows(transactions, labels, "velocity_burst"):
        bursts[(t["customer_id"], t["_partition"])].append(_ts(t["transaction_date"]))
    assert bursts
    for times in bursts.values():
        assert 3 <= len(times) <= 7
        assert max(times) - min(times) <= dt.timedelta(seconds=3600)
    merchants = {t["merchant_name"] for t in _scenario_rows(transactions, labels, "velocity_burst")}
    assert len(merchants) > 1


def test_geo_impossible_signature(transactions, labels):
    history = defaultdict(list)
    for t in transactions:
        history[t["customer_id"]].append((_ts(t["transaction_date"]), t["transaction_id"], t))
    for items in history.values():
        items.sort(key=lambda x: (x[0], x[1]))
    rows = _scenario_rows(transactions, labels, "geo_impossible")
    assert rows
    for t in rows:
        items = history[t["customer_id"]]
        i = next(k for k, item in enumerate(items) if item[1] == t["transaction_id"])
        assert i > 0
        when, _, previous = items[i - 1]
        assert previous["location_country"] != t["location_country"]
        assert _ts(t["transaction_date"]) - when < dt.timedelta(hours=6)


def test_night_activity_signature(transactions, labels):
    rows = _scenario_rows(transactions, labels, "night_activity")
    assert rows
    for t in rows:
        zone = ZoneInfo(COUNTRY_TIME_ZONES[t["location_country"]])
        assert 2 <= _ts(t["transaction_date"]).astimezone(zone).hour <= 5
        assert t["is_online"] == "true"


def test_high_value_signature(transactions, labels):
    rows = _scenario_rows(transactions, labels, "high_value")
    assert rows
    for t in rows:
        rate = usd_rates_on(_ts(t["transaction_date"]).date())[t["currency"]]
        assert Decimal(t["amount"]) * rate > 5000


def test_compromised_merchant_defrauds_every_card_in_its_window(transactions, labels):
    fraud = {x["transaction_id"] for x in labels}
    rows = _scenario_rows(transactions, labels, "compromised_merchant")
    assert rows
    window = defaultdict(list)
    for t in rows:
        window[t["merchant_name"]].append(t["transaction_date"])
    for t in transactions:
        dates = window.get(t["merchant_name"])
        if dates and min(dates) <= t["transaction_date"] <= max(dates):
            assert t["transaction_id"] in fraud


def test_stolen_card_spends_like_its_owner(transactions, labels, customers):
    rows = _scenario_rows(transactions, labels, "stolen_card")
    assert rows
    for t in rows:
        assert t["location_country"] == customers[t["customer_id"]]["home_country"]


def test_some_legit_activity_trips_the_rules(transactions, labels):
    """Legit night spending and travel exist, so the seed's rules have false positives."""
    fraud = {x["transaction_id"] for x in labels}
    legit = [t for t in transactions if t["transaction_id"] not in fraud]
    night = 0
    for t in legit:
        zone = ZoneInfo(COUNTRY_TIME_ZONES[t["location_country"]])
        night += 2 <= _ts(t["transaction_date"]).astimezone(zone).hour <= 5
    assert 0 < night < 0.05 * len(legit)


def test_vocabulary_is_csv_safe():
    for text in all_strings():
        assert not set(text) & set(',"\r\n'), text


def test_truth_inside_landing_is_refused(tmp_path):
    with pytest.raises(ValueError, match="truth_dir"):
        generate(CONFIG, tmp_path / "landing", tmp_path / "landing" / "truth")


def test_small_volumes_still_exact(tmp_path):
    config = GeneratorConfig(start=dt.date(2026, 1, 1), days=2, transactions_per_day=7, seed=1)
    summary = generate(config, tmp_path / "landing", tmp_path / "truth")
    assert summary.transactions == 14
    for day in summary.days:
        folder = tmp_path / "landing" / "transactions" / f"date={day}"
        assert sum(len(_read(p)[1]) for p in folder.glob("*.csv")) == 7


def test_custom_source_systems_get_every_row(tmp_path):
    config = GeneratorConfig(
        start=dt.date(2026, 1, 1),
        days=1,
        transactions_per_day=300,
        source_systems=("visa_feed", "core_banking"),
    )
    generate(config, tmp_path / "landing", tmp_path / "truth")
    folder = tmp_path / "landing" / "transactions" / "date=2026-01-01"
    rows = {p.stem: _read(p)[1] for p in folder.glob("*.csv")}
    assert set(rows) == {"visa_feed", "core_banking"}
    assert sum(map(len, rows.values())) == 300
    assert all(r["transaction_type"] in {"WITHDRAWAL", "TRANSFER"} for r in rows["core_banking"])
