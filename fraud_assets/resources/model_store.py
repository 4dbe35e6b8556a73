"""Model versions in the lake, and the pointer to the promoted ones.

Layout (beside the datasets, same partition naming):

    <lake>/fraud_model/date=D/_v=<version>/pipeline/   the Spark PipelineModel
    <lake>/fraud_model/date=D/_model.json             its record, written last
    <lake>/fraud_model/_promoted.json                 promotion history (the pointer)

Partition D holds the model trained for scoring day D: only labels reported before D
began. `_promoted.json` lists, per partition day, the version promoted then; day D is
scored by the newest entry whose day is <= D, so re-scoring an old day never uses a model
that learned from labels reported after it.

Spark writes a model as many small files: locally it saves straight into the version
folder; with an S3 lake it saves to a local scratch folder and the files are uploaded
(on EMR, FRAUD_SPARK_READS_S3=1, Spark reads and writes s3:// itself).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from pathlib import Path

import pyarrow.fs as pafs
from pyspark.ml import PipelineModel

from fraud_assets.resources.lake import LakeResource
from fraud_assets.resources.storage import filesystem_for

DATASET = "fraud_model"
RECORD = "_model.json"
POINTER = "_promoted.json"


def _spark_native_s3() -> bool:
    return os.environ.get("FRAUD_SPARK_READS_S3") == "1"


def _fs(lake: LakeResource, uri: str) -> tuple[pafs.FileSystem, str]:
    return filesystem_for(uri, lake.s3_endpoint_url)


def _read_json(lake: LakeResource, uri: str) -> dict | list | None:
    fs, path = _fs(lake, uri)
    try:
        with fs.open_input_stream(path) as f:
            return json.loads(f.read().decode())
    except (FileNotFoundError, NotADirectoryError):
        return None


def _write_json(lake: LakeResource, uri: str, value: dict | list) -> None:
    fs, path = _fs(lake, uri)
    fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
    data = json.dumps(value, indent=2, sort_keys=True).encode()
    if lake.is_s3:
        with fs.open_output_stream(path) as out:  # one PUT: atomic for readers
            out.write(data)
        return
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as out:
        out.write(data)
    os.replace(tmp, path)


def version_uri(lake: LakeResource, day: dt.date, version: str) -> str:
    return f"{lake.partition_uri(DATASET, day)}/_v={version}/pipeline"


def save_model(lake: LakeResource, day: dt.date, pipeline: PipelineModel, record: dict) -> None:
    """The pipeline under its version folder, then the record (readers follow the record);
    other versions of the same day are removed afterwards."""
    version = record["version"]
    target = version_uri(lake, day, version)
    if not lake.is_s3 or _spark_native_s3():
        pipeline.write().overwrite().save(target)
    else:
        scratch = lake.scratch_folder()
        try:
            pipeline.write().overwrite().save(str(scratch / "pipeline"))
            fs, root = _fs(lake, target)
            for path in sorted((scratch / "pipeline").rglob("*")):
                if path.is_file() and not path.name.endswith(".crc"):
                    rel = path.relative_to(scratch / "pipeline").as_posix()
                    with open(path, "rb") as src, fs.open_output_stream(f"{root}/{rel}") as dst:
                        shutil.copyfileobj(src, dst)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    _write_json(lake, f"{lake.partition_uri(DATASET, day)}/{RECORD}", record)
    fs, root = _fs(lake, lake.partition_uri(DATASET, day))
    for info in fs.get_file_info(pafs.FileSelector(root, allow_not_found=True)):
        if info.base_name.startswith("_v=") and info.base_name != f"_v={version}":
            fs.delete_dir(info.path)


def read_record(lake: LakeResource, day: dt.date) -> dict | None:
    return _read_json(lake, f"{lake.partition_uri(DATASET, day)}/{RECORD}")


def promotions(lake: LakeResource) -> dict[str, dict]:
    """Partition day (ISO) -> the record promoted on that day."""
    return _read_json(lake, f"{lake.dataset_uri(DATASET)}/{POINTER}") or {}


def set_promotion(lake: LakeResource, day: dt.date, record: dict | None) -> None:
    """Record (or, with None, withdraw) the promotion made on `day`."""
    history = promotions(lake)
    if record is None:
        history.pop(day.isoformat(), None)
    else:
        history[day.isoformat()] = record
    _write_json(lake, f"{lake.dataset_uri(DATASET)}/{POINTER}", history)


def promoted_for(lake: LakeResource, day: dt.date, history: dict | None = None) -> dict | None:
    """The newest model promoted on or before `day` (trained on labels reported before
    its own day, hence before `day`), or None: cold start."""
    history = promotions(lake) if history is None else history
    eligible = [k for k in history if k <= day.isoformat()]
    return history[max(eligible)] if eligible else None


def load_model(lake: LakeResource, record: dict) -> PipelineModel:
    day = dt.date.fromisoformat(record["day"])
    uri = version_uri(lake, day, record["version"])
    if not lake.is_s3 or _spark_native_s3():
        return PipelineModel.load(uri)
    cache = lake._cache_root() / DATASET / record["version"]
    if not cache.exists():
        fs, root = _fs(lake, uri)
        tmp = Path(tempfile.mkdtemp(prefix=".model-", dir=cache.parent.parent))
        for info in fs.get_file_info(pafs.FileSelector(root, recursive=True)):
            if info.type == pafs.FileType.File:
                local = tmp / info.path[len(root) + 1 :]
                local.parent.mkdir(parents=True, exist_ok=True)
                with fs.open_input_stream(info.path) as src, open(local, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        cache.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(tmp, cache)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
    return PipelineModel.load(str(cache))
