"""One day through the four real assets with the landing area and the lake on S3.

A real S3 server (SeaweedFS on loopback), real PostgreSQL and the shared local Spark: the
resources come from the test environment (FRAUD_LANDING_URI, FRAUD_LAKE_URI,
FRAUD_S3_ENDPOINT_URL), as a deployment with an S3-compatible store would set them.
"""

from __future__ import annotations

import datetime as dt
import json

import boto3
import dagster as dg
import psycopg
import pyarrow.parquet as pq
import pytest

from fraud_assets.definitions import ASSETS
from fraud_assets.demo import GeneratorConfig, generate
from fraud_assets.resources.lake import LakeResource, partition_path
from fraud_assets_tests.conftest import reset_database
from fraud_assets_tests.defs.pipeline import run_day

DAY = dt.date(2026, 4, 1)
PER_DAY = 300


def _split(uri: str) -> tuple[str, str]:
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    return bucket, prefix


@pytest.fixture(scope="module")
def s3_chain(tmp_path_factory, postgres, spark, s3_lake):
    root = tmp_path_factory.mktemp("chain_s3")
    local_landing, truth = root / "landing", root / "truth"
    generate(
        GeneratorConfig(start=DAY, days=1, transactions_per_day=PER_DAY, seed=5),
        local_landing,
        truth,
    )
    landing_uri, lake_uri = f"{s3_lake['landing_uri']}/chain", f"{s3_lake['uri']}/chain"
    s3 = boto3.client("s3", endpoint_url=s3_lake["endpoint"])
    bucket, prefix = _split(landing_uri)
    uploaded = []
    for path in sorted(p for p in local_landing.rglob("*") if p.is_file()):
        key = f"{prefix}/{path.relative_to(local_landing).as_posix()}"
        s3.upload_file(str(path), bucket, key)
        uploaded.append(key)
    assert any(f"/transactions/date={DAY.isoformat()}/" in k for k in uploaded)

    reset_database(postgres)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FRAUD_LANDING_URI", landing_uri)
        env.setenv("FRAUD_LAKE_URI", lake_uri)
        env.setenv("FRAUD_S3_ENDPOINT_URL", s3_lake["endpoint"])
        result = run_day(DAY, dg.DagsterInstance.ephemeral())
    return {
        "result": result,
        "pg": postgres,
        "s3": s3,
        "lake_uri": lake_uri,
        "lake": LakeResource(uri=lake_uri, s3_endpoint_url=s3_lake["endpoint"]),
    }


def _query(pg, sql: str, params=()) -> list[tuple]:
    with psycopg.connect(pg.conninfo) as conn:
        return conn.execute(sql, params).fetchall()


def _window() -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(DAY, dt.time())
    return start, start + dt.timedelta(days=1)


def _s3_manifest(chain, dataset: str) -> dict:
    """The partition's manifest read straight from the bucket (not through the resource)."""
    bucket, prefix = _split(chain["lake_uri"])
    key = f"{prefix}/{partition_path(dataset, DAY)}/_manifest.json"
    return json.loads(chain["s3"].get_object(Bucket=bucket, Key=key)["Body"].read())


def test_the_day_succeeds_with_every_check_passed(s3_chain):
    result = s3_chain["result"]
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    # Every check of the four assets ran and passed, the lake/PostgreSQL reconciliation too.
    expected = {key for asset in ASSETS for key in asset.check_keys}
    assert {e.asset_check_key for e in evaluations} == expected
    assert all(e.passed for e in evaluations), [e for e in evaluations if not e.passed]
    assert (
        dg.AssetCheckKey(dg.AssetKey("s3_partitioned_parquet"), "reconciles_with_postgres")
        in expected
    )
    # The lake the assets reported is the S3 one.
    [lake_mat] = [
        m
        for m in result.get_asset_materialization_events()
        if m.asset_key == dg.AssetKey("s3_partitioned_parquet")
    ]
    path = lake_mat.materialization.metadata["path"].value
    assert path == f"{s3_chain['lake_uri']}/transactions/year=2026/month=04/day=01"


def test_the_lake_on_s3_holds_the_postgres_day(s3_chain):
    [(pg_rows,)] = _query(
        s3_chain["pg"],
        "SELECT count(*) FROM transactions WHERE transaction_date >= %s AND transaction_date < %s",
        _window(),
    )
    assert pg_rows == PER_DAY
    for dataset in ("transactions", "fraud_features", "scored_transactions"):
        manifest = _s3_manifest(s3_chain, dataset)
        assert manifest["rows"] == pg_rows, dataset
        assert manifest["partition"] == DAY.isoformat()
        bucket, prefix = _split(s3_chain["lake_uri"])
        files = s3_chain["s3"].list_objects_v2(
            Bucket=bucket,
            Prefix=f"{prefix}/{partition_path(dataset, DAY)}/_v={manifest['version']}/",
        )
        assert sorted(o["Key"].rsplit("/", 1)[-1] for o in files.get("Contents", [])) == sorted(
            f["name"] for f in manifest["files"]
        )


def test_alerts_in_postgres_are_the_scored_days_medium_and_above(s3_chain):
    lake: LakeResource = s3_chain["lake"]
    scored = pq.read_table(lake.local_partition("scored_transactions", DAY)).to_pylist()
    expected = sorted(
        r["transaction_id"] for r in scored if r["risk_level"] in ("MEDIUM", "HIGH", "CRITICAL")
    )
    stored = [
        r[0]
        for r in _query(
            s3_chain["pg"],
            "SELECT transaction_id FROM fraud_alerts WHERE transaction_date >= %s AND transaction_date < %s ORDER BY 1",
            _window(),
        )
    ]
    assert stored == expected and len(stored) > 0
