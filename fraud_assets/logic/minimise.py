"""What the lake keeps of identifying columns: analytics needs equality, not the values.

`ip_address` and `device_fingerprint` leave PostgreSQL as a keyed hash (HMAC-SHA256, hex)
by default: the same value gives the same hash under the same key, so "same device" /
"same IP" comparisons still work, while the lake alone cannot be reversed to the values
(unlike a plain SHA-256 of an IPv4 address, which is brute-forced in minutes). An IP may
instead be truncated to its network (/24 for IPv4, /48 for IPv6) or kept as is.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc

IpMode = Literal["hash", "truncate", "keep"]
DeviceMode = Literal["hash", "keep"]

_IPV4 = r"^(\d{1,3}\.\d{1,3}\.\d{1,3})\.\d{1,3}$"


def keyed_hash(values: pa.Array | pa.ChunkedArray, key: bytes) -> pa.Array:
    """HMAC-SHA256 (hex) of each non-null value; computed once per distinct value."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    # One pass gives the distinct values and each row's index into them (nulls stay null).
    encoded = pc.dictionary_encode(values)
    hashed = pa.array(
        [
            hmac.digest(key, v.encode(), hashlib.sha256).hex()
            for v in encoded.dictionary.to_pylist()
        ],
        pa.string(),
    )
    return pc.take(hashed, encoded.indices)


def truncate_ips(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """IPv4 to its /24 (`203.0.113.7` -> `203.0.113.0`), IPv6 to its /48 network address."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    v4 = pc.fill_null(pc.match_substring_regex(values, _IPV4), False)
    out = pc.replace_substring_regex(values, _IPV4, r"\1.0")
    others = pc.and_(pc.is_valid(values), pc.invert(v4))
    if not pc.any(others).as_py():
        return out
    # Only IPv6 (or odd text) reaches Python.
    networks = [_ipv6_network(v) for v in values.filter(others).to_pylist()]
    return pc.replace_with_mask(out, others, pa.array(networks, pa.string()))


def _ipv6_network(value: str) -> str | None:
    try:
        return str(ipaddress.ip_network(f"{value.split('/')[0]}/48", strict=False).network_address)
    except ValueError:
        return None


def key_id(key: bytes) -> str:
    """A short public name of the key (which key hashed a partition), not the key itself."""
    return hmac.digest(key, b"fraud_assets lake key id", hashlib.sha256).hex()[:12]


def minimise_identifiers(
    table: pa.Table, ip_mode: IpMode, device_mode: DeviceMode, key: bytes | None
) -> pa.Table:
    """`table` with ip_address / device_fingerprint replaced as the modes say."""
    if (ip_mode == "hash" or device_mode == "hash") and not key:
        raise ValueError(
            "no lake hash key: ip_address/device_fingerprint are stored in the lake as a keyed "
            "hash; set FRAUD_LAKE_HASH_KEY (a long random secret), or choose mode 'keep'"
        )
    if ip_mode == "hash":
        table = _replace(table, "ip_address", keyed_hash(table["ip_address"], key))
    elif ip_mode == "truncate":
        table = _replace(table, "ip_address", truncate_ips(table["ip_address"]))
    if device_mode == "hash":
        table = _replace(table, "device_fingerprint", keyed_hash(table["device_fingerprint"], key))
    return table


def _replace(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, values)
