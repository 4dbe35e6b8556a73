"""Card numbers (PAN) found in feed text, masked before anything reaches PostgreSQL.

A PAN candidate is 13 to 19 digits, optionally grouped by single spaces or dashes
("4111 1111 1111 1111", "4111-1111-1111-1111"), that passes the Luhn check and is not
glued to a letter or another digit: a digit run inside an identifier (`T20261120000001234`,
a transaction id) or a longer number (20+ digits) is not a card number; the exception is
magnetic-stripe track 1 data (`%B<PAN>^`), whose format code touches the PAN. A PAN is
glued to other letters in text that this does not catch (`PAN4111...`): a documented
limit (docs/security.md). It is replaced by
its first 6 and last 4 digits with `*` in between (PCI DSS: at most first six / last
four), without its separators: `4111 1111 1111 1111` -> `411111******1111`.

Cost: one RE2 scan per column in Arrow finds the few values that may hold a PAN; only
those reach Python for the exact grouping and the Luhn check, so a day of 1M clean rows
pays the scans alone.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import orjson
import pyarrow as pa
import pyarrow.compute as pc

MIN_DIGITS, MAX_DIGITS = 13, 19
# A superset of what `mask_text` masks (RE2 has no look-around, so the boundaries are
# characters): 13-19 digits with single separators, not glued to a letter or digit; or
# magnetic-stripe track 1 data, `%B<PAN>^NAME^...`, where the PAN follows the letter B.
_CANDIDATE = (
    r"(?:^|[^0-9A-Za-z])\d(?:[ -]?\d){12,18}(?:$|[^0-9A-Za-z])"
    r"|B\d(?:[ -]?\d){12,18}\^"
)
_RUN = re.compile(r"\d+(?:[ -]\d+)*")
_ALNUM = re.compile(r"[0-9A-Za-z]")


@dataclass(frozen=True)
class MaskResult:
    table: pa.Table
    counts: dict[str, int]  # PANs masked per column (occurrences), only columns with any

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_pan(digits: str) -> bool:
    return MIN_DIGITS <= len(digits) <= MAX_DIGITS and digits.isdigit() and luhn_ok(digits)


def mask_digits(digits: str) -> str:
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


def mask_text(text: str) -> tuple[str, int]:
    """(text with every PAN masked, how many were masked)."""
    out: list[str] = []
    last = 0
    masked = 0
    for run in _RUN.finditer(text):
        before = text[run.start() - 1] if run.start() else ""
        after = text[run.end()] if run.end() < len(text) else ""
        # Track 1 data glues the PAN to its format code: %B4111111111111111^NAME^...
        track1 = before == "B" and after == "^"
        open_left = track1 or not _ALNUM.match(before)
        spans = _pan_spans(run.group(), open_left, not _ALNUM.match(after))
        for lo, hi, digits in spans:
            out.append(text[last : run.start() + lo])
            out.append(mask_digits(digits))
            last = run.start() + hi
            masked += 1
    if not masked:
        return text, 0
    out.append(text[last:])
    return "".join(out), masked


def _pan_spans(run: str, open_left: bool, open_right: bool) -> list[tuple[int, int, str]]:
    """PANs inside one run of digit groups, as (start, end, digits), left to right.

    A PAN starts and ends on group boundaries; the run's own ends count only when no
    letter touches them. Leftmost start wins, then the longest span from it.
    """
    groups = [(m.start(), m.end()) for m in re.finditer(r"\d+", run)]
    spans = []
    i = 0
    while i < len(groups):
        found = None
        if i > 0 or open_left:
            for j in range(len(groups) - 1, i - 1, -1):
                if j == len(groups) - 1 and not open_right:
                    continue
                digits = "".join(run[a:b] for a, b in groups[i : j + 1])
                if is_pan(digits):
                    found = (j, digits)
                    break
        if found is None:
            i += 1
            continue
        j, digits = found
        spans.append((groups[i][0], groups[j][1], digits))
        i = j + 1
    return spans


def mask_json_text(text: str) -> tuple[str, int]:
    """Mask PANs inside a JSON document: in strings, and in numbers (which become the masked
    string, so the document stays valid JSON). Text that is not JSON is masked as text."""
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError:
        return mask_text(text)
    counter = [0]
    doc = _mask_json_value(doc, counter)
    if not counter[0]:
        return text, 0
    return orjson.dumps(doc).decode(), counter[0]


def _mask_json_value(value, counter: list[int]):
    if isinstance(value, str):
        masked, n = mask_text(value)
        counter[0] += n
        return masked
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and is_pan(str(value)):
        counter[0] += 1
        return mask_digits(str(value))
    if isinstance(value, dict):
        return {
            _mask_json_value(k, counter): _mask_json_value(v, counter) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_mask_json_value(v, counter) for v in value]
    return value


def mask_pans(
    table: pa.Table, columns: Iterable[str], json_columns: Iterable[str] = ()
) -> MaskResult:
    """`table` with every PAN in the given string columns masked, and the counts."""
    json_columns = set(json_columns)
    columns = list(columns)
    # Arrow's scans release the GIL: the columns are scanned side by side, one per core.
    with ThreadPoolExecutor(max_workers=min(len(columns), os.cpu_count() or 1) or 1) as pool:
        masked = list(
            pool.map(lambda name: _mask_column(table[name], name in json_columns), columns)
        )
    counts: dict[str, int] = {}
    for name, (column, found) in zip(columns, masked, strict=True):
        if found:
            counts[name] = found
            table = table.set_column(table.schema.get_field_index(name), name, column)
    return MaskResult(table, counts)


def _mask_column(column: pa.ChunkedArray, is_json: bool) -> tuple[pa.Array | None, int]:
    column = column.combine_chunks()
    longest = pc.max(pc.utf8_length(column)).as_py()
    if longest is None or longest < MIN_DIGITS:
        return None, 0  # too short to hold a card number: no scan needed
    candidate = pc.fill_null(pc.match_substring_regex(column, _CANDIDATE), False)
    if not pc.any(candidate).as_py():
        return None, 0
    mask_one = mask_json_text if is_json else mask_text
    results = [mask_one(v) for v in column.filter(candidate).to_pylist()]
    found = sum(n for _, n in results)
    if not found:
        return None, 0
    replacements = pa.array([v for v, _ in results], column.type)
    return pc.replace_with_mask(column, candidate, replacements), found
