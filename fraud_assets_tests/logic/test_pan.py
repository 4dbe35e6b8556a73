"""PAN detection and masking (fraud_assets.logic.pan): what is a card number, what is not."""

from __future__ import annotations

import orjson
import pyarrow as pa
import pytest

from fraud_assets.logic.pan import luhn_ok, mask_pans, mask_text

VISA = "4111111111111111"  # Luhn-valid test card numbers
AMEX = "378282246310005"  # 15 digits
SHORT = "4222222222222"  # 13 digits, Luhn-valid


@pytest.mark.parametrize(
    ("digits", "ok"),
    [(VISA, True), (AMEX, True), (SHORT, True), ("4111111111111112", False), ("0", True)],
)
def test_luhn(digits: str, ok: bool) -> None:
    assert luhn_ok(digits) is ok


@pytest.mark.parametrize(
    ("text", "expected", "count"),
    [
        (VISA, "411111******1111", 1),
        ("card 4111 1111 1111 1111 used", "card 411111******1111 used", 1),
        ("4111-1111-1111-1111", "411111******1111", 1),
        (AMEX, "378282*****0005", 1),
        (SHORT, "422222***2222", 1),
        # Luhn fails: an ordinary number, left alone.
        ("4111111111111112", "4111111111111112", 0),
        # 12 and 20 digits are not card numbers, even when a 13-19 digit window would pass.
        ("411111111111", "411111111111", 0),
        ("41111111111111110000", "41111111111111110000", 0),
        ("0" + VISA + "000", "0" + VISA + "000", 0),
        # Glued to letters: part of an identifier (the demo's T + 17 digit transaction ids).
        ("T" + VISA, "T" + VISA, 0),
        (VISA + "X", VISA + "X", 0),
        # Several per value, and a grouped PAN followed by another number.
        (f"{VISA} / {AMEX}", "411111******1111 / 378282*****0005", 2),
        ("4111 1111 1111 1111 12", "411111******1111 12", 1),
        ("pan=4111111111111111;", "pan=411111******1111;", 1),
        # Magnetic-stripe track 1 and track 2 data.
        ("%B4111111111111111^DOE/JOHN^2512101", "%B411111******1111^DOE/JOHN^2512101", 1),
        (";4111111111111111=2512101?", ";411111******1111=2512101?", 1),
    ],
)
def test_mask_text(text: str, expected: str, count: int) -> None:
    assert mask_text(text) == (expected, count)


def test_mask_pans_counts_per_field_and_keeps_json_valid() -> None:
    raw = [
        orjson.dumps({"pan": VISA, "note": f"also {AMEX}", "n": int(VISA), "ok": 12}).decode(),
        '{"auth_code": "A1B2C3"}',
        None,
        "{not json " + VISA,
    ]
    table = pa.table(
        {
            "merchant_name": pa.array([f"Shop {VISA}", "Shop", None, "x"], pa.string()),
            "transaction_id": pa.array(["T" + VISA, "T2", "T3", "T4"], pa.string()),
            "raw_data": pa.array(raw, pa.string()),
        }
    )
    result = mask_pans(table, table.column_names, json_columns=["raw_data"])
    assert result.counts == {"merchant_name": 1, "raw_data": 4}
    assert result.total == 5
    out = result.table.to_pydict()
    assert out["merchant_name"] == ["Shop 411111******1111", "Shop", None, "x"]
    assert out["transaction_id"] == table["transaction_id"].to_pylist()  # untouched
    doc = orjson.loads(out["raw_data"][0])
    assert doc == {
        "pan": "411111******1111",
        "note": "also 378282*****0005",
        "n": "411111******1111",
        "ok": 12,
    }
    assert out["raw_data"][1:3] == raw[1:3]
    assert out["raw_data"][3] == "{not json 411111******1111"
    masked_columns = ("merchant_name", "raw_data")
    assert all(VISA not in (v or "") for c in masked_columns for v in out[c])


def test_mask_pans_clean_table_is_returned_unchanged() -> None:
    table = pa.table({"a": pa.array(["T20261120000001234", "12.50", None], pa.string())})
    result = mask_pans(table, ["a"])
    assert result.counts == {} and result.table.equals(table)
