"""What the lake keeps of ip_address / device_fingerprint (fraud_assets.logic.minimise)."""

from __future__ import annotations

import hashlib
import hmac

import pyarrow as pa
import pytest

from fraud_assets.logic.minimise import keyed_hash, minimise_identifiers, truncate_ips

KEY = b"k" * 32


def _table() -> pa.Table:
    return pa.table(
        {
            "ip_address": pa.array(["203.0.113.7", "2001:db8:abcd:12::1", None, "203.0.113.7"]),
            "device_fingerprint": pa.array(["dev-a", None, "dev-b", "dev-a"]),
            "amount": pa.array([1, 2, 3, 4]),
        }
    )


def test_hash_is_keyed_stable_and_keeps_equality():
    out = minimise_identifiers(_table(), "hash", "hash", KEY).to_pydict()
    expected = hmac.new(KEY, b"203.0.113.7", hashlib.sha256).hexdigest()
    assert out["ip_address"][0] == out["ip_address"][3] == expected
    assert out["ip_address"][2] is None and out["device_fingerprint"][1] is None
    assert (
        out["device_fingerprint"][0] == out["device_fingerprint"][3] != out["device_fingerprint"][2]
    )
    assert out["amount"] == [1, 2, 3, 4]
    # Another key, other hashes: the lake alone cannot be matched against a list of IPs.
    assert keyed_hash(pa.array(["203.0.113.7"]), b"other").to_pylist()[0] != expected


def test_truncate_keeps_the_network_only():
    assert truncate_ips(_table()["ip_address"]).to_pylist() == [
        "203.0.113.0",
        "2001:db8:abcd::",
        None,
        "203.0.113.0",
    ]
    out = minimise_identifiers(_table(), "truncate", "keep", None).to_pydict()
    assert out["device_fingerprint"] == ["dev-a", None, "dev-b", "dev-a"]


def test_keep_changes_nothing_and_hash_without_key_is_refused():
    assert minimise_identifiers(_table(), "keep", "keep", None).equals(_table())
    with pytest.raises(ValueError, match="FRAUD_LAKE_HASH_KEY"):
        minimise_identifiers(_table(), "hash", "keep", None)
