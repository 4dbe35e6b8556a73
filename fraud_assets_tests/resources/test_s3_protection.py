"""S3 protection on a real S3 server (SeaweedFS): server-side encryption requested on every
lake object, and plain HTTP refused for real AWS endpoints."""

from __future__ import annotations

import datetime as dt
import uuid

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fraud_assets.resources.lake import LakeResource
from fraud_assets.resources.landing import LandingResource
from fraud_assets.resources.storage import (
    InsecureEndpointError,
    check_endpoint,
    filesystem_for,
    s3_client,
)

DAY = dt.date(2026, 4, 2)


def _lake(s3_lake, tmp_path, **protection) -> LakeResource:
    return LakeResource(
        uri=f"{s3_lake['uri']}/{uuid.uuid4().hex[:10]}",
        s3_endpoint_url=s3_lake["endpoint"],
        cache_dir=str(tmp_path / "cache"),
        **protection,
    )


def _write(lake: LakeResource) -> None:
    with lake.replace_partition("transactions", DAY) as folder:
        pq.write_table(pa.table({"x": [1, 2, 3]}), folder / "part-00000.parquet")


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://s3.eu-west-1.amazonaws.com",
        "http://bucket.s3.amazonaws.com:80",
        "http://s3.cn-north-1.amazonaws.com.cn",
    ],
)
def test_plain_http_to_aws_is_refused_everywhere(endpoint, tmp_path):
    with pytest.raises(InsecureEndpointError, match="must use https"):
        check_endpoint(endpoint)
    lake = LakeResource(uri="s3://bank-lake/fraud", s3_endpoint_url=endpoint)
    with pytest.raises(InsecureEndpointError):
        lake.manifest("transactions", DAY)
    with (
        pytest.raises(InsecureEndpointError),
        lake.replace_partition("transactions", DAY, {}) as folder,
    ):
        pq.write_table(pa.table({"x": [1]}), folder / "part-00000.parquet")
    landing = LandingResource(uri="s3://bank-landing/feeds", s3_endpoint_url=endpoint)
    with pytest.raises(InsecureEndpointError):
        landing.read_day("transactions", DAY, ("transaction_id",))
    with pytest.raises(InsecureEndpointError):
        s3_client(endpoint)


def test_https_aws_and_a_local_http_server_are_accepted():
    check_endpoint("https://s3.eu-west-1.amazonaws.com")
    check_endpoint("http://127.0.0.1:8333")
    check_endpoint(None)
    filesystem_for("s3://bank-lake/fraud", "https://s3.eu-west-1.amazonaws.com")


def test_every_lake_object_is_written_with_sse_s3(s3_lake, tmp_path):
    lake = _lake(s3_lake, tmp_path, s3_sse="AES256")
    _write(lake)
    client = boto3.client("s3", endpoint_url=s3_lake["endpoint"])
    bucket, _, prefix = lake.uri.removeprefix("s3://").partition("/")
    keys = [
        o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix=prefix + "/")["Contents"]
    ]
    assert len(keys) == 2  # the data file and the manifest
    assert {client.head_object(Bucket=bucket, Key=k)["ServerSideEncryption"] for k in keys} == {
        "AES256"
    }
    assert pq.read_table(lake.local_partition("transactions", DAY))["x"].to_pylist() == [1, 2, 3]


def test_sse_kms_headers_are_sent_and_a_refusal_publishes_nothing(s3_lake, tmp_path):
    """SeaweedFS has no KMS configured here and answers SSE-KMS writes with InternalError:
    what is proven is the request (its headers, as sent on the wire) and that a refused
    encrypted write leaves no partition visible."""
    lake = _lake(s3_lake, tmp_path, s3_kms_key_id="alias/fraud-lake")
    sent: list[dict] = []

    def record(request, **_):
        sent.append(
            {
                k.lower(): v.decode() if isinstance(v, bytes) else v
                for k, v in request.headers.items()
            }
        )

    events = s3_client(s3_lake["endpoint"]).meta.events
    events.register("before-send.s3.PutObject", record)
    try:
        with pytest.raises(Exception, match="InternalError|internal error"):
            _write(lake)
    finally:
        events.unregister("before-send.s3.PutObject", record)
    assert sent, "no PutObject was sent"
    for headers in sent:
        assert headers["x-amz-server-side-encryption"] == "aws:kms"
        assert headers["x-amz-server-side-encryption-aws-kms-key-id"] == "alias/fraud-lake"
    assert lake.manifest("transactions", DAY) is None
