"""Reading a Spark event log (Spark 4 writes a rolling folder of `events_N_...` files,
zstd-compressed unless spark.eventLog.compress=false): the completed stages with the job
description they ran under (fraud_assets/defs/detection/spark_jobs.py sets it)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path


def _lines(path: Path) -> Iterator[str]:
    if path.suffix == ".zstd":
        import pyarrow as pa  # noqa: PLC0415 - only for compressed logs

        raw = pa.CompressedInputStream(str(path), "zstd").read()
        yield from io.StringIO(raw.decode(errors="replace"))
    else:
        with path.open(errors="replace") as f:
            yield from f


def completed_stages(event_dir: Path) -> Iterator[tuple[dict, str]]:
    """(the stage's `Stage Info`, its job description) for every stage that completed."""
    described: dict[int, str] = {}  # stage id -> job description
    for path in sorted(p for p in Path(event_dir).rglob("events_*") if p.is_file()):
        for line in _lines(path):
            if '"SparkListenerStageSubmitted"' in line:
                event = json.loads(line)
                props = event.get("Properties") or {}
                described[event["Stage Info"]["Stage ID"]] = props.get("spark.job.description", "")
            elif '"SparkListenerStageCompleted"' in line:
                info = json.loads(line)["Stage Info"]
                if info.get("Submission Time") is None or info.get("Completion Time") is None:
                    continue
                yield info, described.get(info.get("Stage ID"), "")
