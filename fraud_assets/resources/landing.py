"""The landing area where the bank's systems drop daily feeds (CONTRACT.md)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

import dagster as dg
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from fraud_assets.errors import InputError
from fraud_assets.logic.validation import control_totals
from fraud_assets.resources.storage import filesystem_for

FEED_SUFFIXES = (".csv", ".csv.gz", ".parquet")


class FeedError(InputError):
    """A feed that cannot be read as a whole: nothing of it is loaded."""


@dataclass(frozen=True)
class FeedBatch:
    """All files of one day of a feed: every column as text, plus where each row came from."""

    # business columns as strings, then `_source_file`, `_record_number` and `_received_at`
    # (the file's last-modified time: when the bank delivered it)
    table: pa.Table
    files: list[str]
    bytes_read: int


class LandingResource(dg.ConfigurableResource):
    """Landing root: a local folder or `s3://bucket/prefix`."""

    uri: str
    s3_endpoint_url: str | None = None

    def day_folder(self, dataset: str, day: dt.date) -> str:
        return f"{self.uri.rstrip('/')}/{dataset}/date={day.isoformat()}"

    def list_day_files(self, dataset: str, day: dt.date) -> list[str]:
        fs, root = filesystem_for(self.day_folder(dataset, day), self.s3_endpoint_url)
        infos = fs.get_file_info(pafs.FileSelector(root, allow_not_found=True))
        return sorted(i.path for i in infos if i.is_file and i.path.endswith(FEED_SUFFIXES))

    def read_day(self, dataset: str, day: dt.date, columns: tuple[str, ...]) -> FeedBatch:
        """Read every file of `dataset` for `day`; header must be exactly `columns`."""
        folder = self.day_folder(dataset, day)
        paths = self.list_day_files(dataset, day)
        if not paths:
            raise FeedError(
                f"no {dataset} feed for {day}: looked for *.csv, *.csv.gz, *.parquet in {folder}"
            )
        fs, _ = filesystem_for(folder, self.s3_endpoint_url)
        tables, total_bytes = [], 0
        for path in paths:
            table = _read_file(fs, path, columns)
            _reconcile_control_file(fs, path, table)
            info = fs.get_file_info(path)
            total_bytes += info.size
            received = info.mtime.astimezone(dt.UTC).replace(tzinfo=None)
            n = table.num_rows
            table = table.append_column(
                "_source_file", pa.array([path.rsplit("/", 1)[-1]] * n, pa.string())
            )
            table = table.append_column("_record_number", pa.array(range(1, n + 1), pa.int32()))
            table = table.append_column(
                "_received_at", pa.array([received] * n, pa.timestamp("us"))
            )
            tables.append(table)
        return FeedBatch(pa.concat_tables(tables), paths, total_bytes)


def _read_file(fs: pafs.FileSystem, path: str, columns: tuple[str, ...]) -> pa.Table:
    try:
        if path.endswith(".parquet"):
            table = pq.read_table(path, filesystem=fs)
            _check_header(path, table.column_names, columns)
            return pa.table({c: table[c].cast(pa.string()) for c in columns})
        compression = "gzip" if path.endswith(".gz") else None
        _check_header(path, stream_header(fs, path, compression), columns)
        with fs.open_input_stream(path, compression=compression) as stream:
            return pacsv.read_csv(
                stream,
                read_options=pacsv.ReadOptions(block_size=16 << 20),
                # RFC 4180 allows line breaks inside quoted fields (raw_data JSON may have them).
                parse_options=pacsv.ParseOptions(newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(columns, pa.string()),
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                    null_values=[""],
                ),
            )
    except FeedError:
        raise
    except (pa.ArrowInvalid, UnicodeDecodeError, OSError) as exc:
        raise FeedError(f"cannot read feed file {path}: {exc}") from exc


def _reconcile_control_file(fs: pafs.FileSystem, path: str, table: pa.Table) -> None:
    """A feed file may come with `<file>.ctl` (CSV: record_count,amount_sum). When it does,
    the file must match it exactly or nothing of the day is loaded."""
    control = f"{path}.ctl"
    if fs.get_file_info(control).type != pafs.FileType.File:
        return
    with fs.open_input_stream(control) as f:
        rows = list(csv.DictReader(io.StringIO(f.read().decode("utf-8"))))
    try:
        expected_records, expected_sum = (
            int(rows[0]["record_count"]),
            Decimal(rows[0]["amount_sum"]),
        )
    except (IndexError, KeyError, ValueError, ArithmeticError) as exc:
        raise FeedError(
            f"control file {control} is not 'record_count,amount_sum' with one row: {exc}"
        ) from exc
    records, amount_sum = control_totals(table)
    if (records, amount_sum) != (expected_records, expected_sum):
        raise FeedError(
            f"feed file {path} does not reconcile with {control}: it has {records} records "
            f"summing {amount_sum}, the control record says {expected_records} summing {expected_sum}"
        )


def stream_header(fs: pafs.FileSystem, path: str, compression: str | None) -> list[str]:
    """The header row of a CSV file, read on its own so a wrong header is reported as such."""
    with fs.open_input_stream(path, compression=compression) as stream:
        first = stream.read(64 << 10).split(b"\n", 1)[0].rstrip(b"\r")
    try:
        text = first.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise FeedError(f"feed file {path} is not UTF-8: {exc}") from exc
    return [h.strip().strip('"') for h in text.split(",")]


def _check_header(path: str, header: list[str], columns: tuple[str, ...]) -> None:
    if list(header) != list(columns):
        missing = [c for c in columns if c not in header]
        extra = [c for c in header if c not in columns]
        raise FeedError(
            f"feed file {path} has the wrong header: expected {','.join(columns)}; "
            f"missing {missing or 'none'}, unexpected {extra or 'none'}"
            + ("" if missing or extra else " (column order differs)")
        )
