"""CSV text built column-wise with numpy and pyarrow.compute, written atomically.

Every field the generator emits is free of commas, quotes and line breaks except
`raw_data`, which is written quoted with its quotes doubled (RFC 4180). Lines end in
LF. A file is written beside its final name (hidden, `.name.tmp`) and renamed, so a
reader never sees half a file.
"""

from __future__ import annotations

import os
import pathlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

T = TypeVar("T")
R = TypeVar("R")
WORKERS = max(1, min(4, os.cpu_count() or 1))

_HEX = np.frombuffer(b"".join(f"{i:02x}".encode() for i in range(256)), np.uint8).reshape(256, 2)
_HEX_UPPER = np.frombuffer(b"".join(f"{i:02X}".encode() for i in range(256)), np.uint8).reshape(
    256, 2
)
OCTETS = pa.array([str(i) for i in range(256)])
CENTS = pa.array([f"{i:02d}" for i in range(100)])
BOOLEANS = pa.array(["false", "true"])


def digits(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal text of non-negative integers, as an (n, width) uint8 matrix."""
    values = np.asarray(values, dtype=np.int64)
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((values[:, None] // powers) % 10 + 48).astype(np.uint8)


def hex_text(hi: np.ndarray, lo: np.ndarray, upper: bool = False) -> np.ndarray:
    """32 hex digits of two 64-bit halves, as an (n, 32) uint8 matrix."""
    raw = np.stack([hi, lo], axis=1).astype(">u8").view(np.uint8).reshape(len(hi), 16)
    lut = _HEX_UPPER if upper else _HEX
    return lut[raw].reshape(len(hi), 32)


def fixed(parts: Sequence[bytes | np.ndarray], n: int) -> np.ndarray:
    """Concatenates constant byte strings and (n, k) uint8 matrices into (n, total)."""
    mats = [
        np.broadcast_to(np.frombuffer(p, np.uint8), (n, len(p))) if isinstance(p, bytes) else p
        for p in parts
    ]
    return np.ascontiguousarray(np.hstack(mats)) if mats else np.zeros((n, 0), np.uint8)


def to_arrow(matrix: np.ndarray, null: np.ndarray | None = None) -> pa.StringArray:
    """An (n, width) uint8 matrix of ASCII text as an Arrow string array."""
    n, width = matrix.shape
    data = pa.py_buffer(np.ascontiguousarray(matrix).tobytes())
    offsets = pa.py_buffer((np.arange(n + 1, dtype=np.int32) * width).tobytes())
    validity = None
    if null is not None and null.any():
        validity = pa.py_buffer(np.packbits(~null, bitorder="little").tobytes())
    return pa.StringArray.from_buffers(n, offsets, data, validity)


def take(values: pa.Array, index: np.ndarray) -> pa.Array:
    return values.take(pa.array(np.asarray(index, dtype=np.int64)))


def ipv4_text(ip: np.ndarray, null: np.ndarray) -> pa.Array:
    ip = np.asarray(ip, dtype=np.uint32)
    octets = [(ip >> np.uint32(shift)) & np.uint32(255) for shift in (24, 16, 8, 0)]
    parts = [OCTETS.take(pa.array(o.astype(np.int64), mask=null)) for o in octets]
    return pc.binary_join_element_wise(*parts, ".", null_handling="emit_null")


def decimal_text(cents: np.ndarray) -> pa.Array:
    """Amounts in minor units as text with exactly two decimals."""
    cents = np.asarray(cents, dtype=np.int64)
    whole = pc.cast(pa.array(cents // 100), pa.string())
    return pc.binary_join_element_wise(whole, take(CENTS, cents % 100), ".")


def timestamp_text(epoch_seconds: np.ndarray) -> pa.Array:
    """`YYYY-MM-DDTHH:MM:SSZ` of UTC epoch seconds."""
    text = np.datetime_as_string(np.asarray(epoch_seconds, dtype="datetime64[s]"), unit="s")
    return pa.array(np.char.add(text.astype("U19"), "Z"))


def day_timestamps(day_iso: str) -> pa.StringArray:
    """The 86,400 `YYYY-MM-DDTHH:MM:SSZ` texts of one UTC day, indexed by second."""
    s = np.arange(86_400, dtype=np.int64)
    return to_arrow(
        fixed(
            [
                f"{day_iso}T".encode(),
                digits(s // 3600, 2),
                b":",
                digits(s // 60 % 60, 2),
                b":",
                digits(s % 60, 2),
                b"Z",
            ],
            len(s),
        )
    )


def csv_lines(columns: Sequence[pa.Array | str]) -> pa.StringArray:
    """One CSV line per row (fields joined by commas, NULL as empty, LF at the end)."""
    pieces: list[pa.Array | str] = []
    for column in columns:
        pieces += [column, ","]
    pieces[-1] = "\n"
    return pc.binary_join_element_wise(*pieces, "", null_handling="replace", null_replacement="")


def body(lines: pa.StringArray) -> memoryview:
    """The concatenated text of a string array without copying it."""
    lines = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    if len(lines) == 0:
        return memoryview(b"")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset :]
    data = memoryview(lines.buffers()[2])
    return data[offsets[0] : offsets[len(lines)]]


def write_atomic(path: pathlib.Path, header: Sequence[str], chunks: Iterable[memoryview]) -> int:
    """Writes header + chunks to `path` via a hidden temporary file; returns bytes written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    size = 0
    with open(tmp, "wb") as f:
        size += f.write((",".join(header) + "\n").encode("utf-8"))
        for chunk in chunks:
            size += f.write(chunk)
    os.replace(tmp, path)
    return size


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int = WORKERS) -> Iterator[R]:
    """fn over items on a few threads (numpy and Arrow release the GIL), results in
    order, at most `workers` results held at once."""
    if workers <= 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(workers) as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
