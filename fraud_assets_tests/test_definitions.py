"""The code location loads and its asset graph is the one the product promises."""

from __future__ import annotations

import dagster as dg
import pytest

from fraud_assets.definitions import defs
from fraud_assets.environments import current_environment, resources_for

CHAIN = ["postgres_transactions", "s3_partitioned_parquet", "fraud_features", "fraud_alerts"]


def test_the_four_assets_form_the_chain():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert set(CHAIN) <= keys
    for upstream, downstream in zip(CHAIN, CHAIN[1:], strict=False):
        assert dg.AssetKey(upstream) in graph.get(dg.AssetKey(downstream)).parent_keys


def test_every_asset_is_daily_partitioned_and_documented():
    for key in CHAIN:
        spec = defs.resolve_assets_def(key).specs_by_key[dg.AssetKey(key)]
        assert isinstance(spec.partitions_def, dg.DailyPartitionsDefinition)
        assert spec.partitions_def.timezone == "UTC"
        assert spec.description and spec.kinds and spec.owners
        assert spec.group_name in {"ingest", "lake", "detection"}
        schema = spec.metadata["dagster/column_schema"]
        assert len(schema.columns) >= 18 and all(c.type and c.description for c in schema.columns)


def test_spark_assets_share_the_spark_pool():
    # dagster.yaml gives the pool one slot at run granularity: one Spark run at a time.
    for key in ("fraud_features", "fraud_alerts"):
        assert (
            defs.resolve_assets_def(key).get_op_def_for_asset_key(dg.AssetKey(key)).pool == "spark"
        )
    assert defs.resolve_assets_def("postgres_transactions").op.pool is None


def test_features_declare_their_lookback_and_read_only_earlier_labels():
    spec = defs.resolve_assets_def("fraud_features").specs_by_key[dg.AssetKey("fraud_features")]
    offsets = {
        d.asset_key.to_user_string(): (
            d.partition_mapping.start_offset,
            d.partition_mapping.end_offset,
        )
        for d in spec.deps
        if isinstance(d.partition_mapping, dg.TimeWindowPartitionMapping)
    }
    # 30 days of card history; merchant windows of 30 days ending 7 days before the day;
    # labels only from days before the scored day (the availability rule).
    assert offsets == {"s3_partitioned_parquet": (-37, 0), "fraud_feedback": (-37, -1)}


def test_each_asset_carries_a_blocking_check():
    checks = {
        k.asset_key.to_user_string(): k.name for k in defs.resolve_asset_graph().asset_check_keys
    }
    assert set(checks) == {*CHAIN, "postgres_customers", "fraud_feedback", "fraud_model"}


def test_the_daily_job_and_schedule_exist():
    job = defs.resolve_job_def("daily_fraud_detection")
    assert job.partitions_def is not None and job.tags["fraud_assets/spark"] == "true"
    schedule = defs.resolve_schedule_def("daily_fraud_detection_after_midnight_utc")
    assert schedule.cron_schedule == "30 0 * * *"


@pytest.mark.parametrize("env", ["local", "test", "prod"])
def test_every_environment_provides_the_same_resource_keys(env):
    assert set(resources_for(env)) == {
        "postgres",
        "landing",
        "lake",
        "pyspark",
        "pyspark_step_launcher",
        "spark_pipes",
    }


def test_an_unknown_environment_is_refused(monkeypatch):
    monkeypatch.setenv("FRAUD_ENV", "staging")
    with pytest.raises(ValueError, match="staging"):
        current_environment()


def test_prod_uses_the_emr_step_launcher_and_secrets_only_from_the_environment():
    resources = resources_for("prod")
    launcher = resources["pyspark_step_launcher"]
    assert launcher.resource_fn.__module__ == "fraud_assets.emr.launcher"
    pg = resources["postgres"]
    for field in ("host", "user", "password", "dbname"):
        assert isinstance(getattr(pg, field), dg.EnvVar), field
    assert isinstance(resources["lake"].uri, dg.EnvVar)


def test_secrets_stay_out_of_a_resources_repr_while_it_still_connects(postgres):
    # A resource is printed in tracebacks and logs; its password and hash key must not be.
    from fraud_assets.resources.lake import LakeResource

    pg = postgres
    lake = LakeResource(uri="/tmp/lake", hash_key="hash-key-secret")
    for text in (repr(pg), str(pg), repr(lake), str(lake)):
        assert postgres.password not in text and "hash-key-secret" not in text
    with pg.connect() as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert lake.identifier_hash_key() == b"hash-key-secret"


def test_the_daily_job_runs_the_assets_and_their_own_checks_not_the_freshness_check():
    job = defs.resolve_job_def("daily_fraud_detection")
    assert sorted(n.name for n in job.graph.node_defs) == sorted(
        [*CHAIN, "postgres_customers", "fraud_feedback", "customer_profiles"]
    )
    checks = {
        k.name
        for k in job.asset_layer.asset_graph.asset_check_keys
        if k.asset_key.to_user_string() == "fraud_alerts"
    }
    assert "scores_and_levels_consistent" in checks


def test_assets_that_touch_postgres_retry():
    for key in ("postgres_transactions", "s3_partitioned_parquet", "fraud_alerts"):
        policy = defs.resolve_assets_def(key).op.retry_policy
        assert policy is not None and policy.max_retries == 3, key


def test_all_four_assets_backfill_in_a_single_run():
    for key in CHAIN:
        policy = defs.resolve_assets_def(key).backfill_policy
        assert policy is not None and policy.max_partitions_per_run is None, key
