"""Local paths and s3:// URIs behind one pyarrow filesystem interface (reads), and boto3
uploads to S3 (writes: pyarrow cannot ask for SSE-KMS)."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from urllib.parse import urlparse

import pyarrow.fs as pafs

_AWS_DOMAINS = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")


class InsecureEndpointError(ValueError):
    """Plain HTTP to a real AWS endpoint: credentials and data would cross the network in
    clear."""


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


def check_endpoint(endpoint_url: str | None) -> None:
    """Refuse http:// for real AWS endpoints; plain HTTP is only for a local S3-compatible
    server (SeaweedFS, moto) on a test machine."""
    if not endpoint_url:
        return
    parsed = urlparse(endpoint_url if "://" in endpoint_url else f"https://{endpoint_url}")
    host = (parsed.hostname or "").lower()
    if parsed.scheme != "https" and (
        host.endswith(_AWS_DOMAINS) or host in {d.lstrip(".") for d in _AWS_DOMAINS}
    ):
        raise InsecureEndpointError(
            f"refusing S3 endpoint {endpoint_url!r}: AWS endpoints must use https:// "
            "(plain HTTP is only accepted for a local S3-compatible server)"
        )


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def is_versioned(uri: str) -> bool:
    """Object-store layout: s3://, or file:// (the same layout on a local disk)."""
    return uri.startswith(("s3://", "file://"))


def filesystem_for(uri: str, s3_endpoint_url: str | None = None) -> tuple[pafs.FileSystem, str]:
    """(filesystem, path inside it) for a local path or an s3:// URI.

    Credentials come from the standard AWS environment/instance profile, never from here.
    Plain HTTP is only allowed for an explicit endpoint that is not AWS.
    """
    if uri.startswith("file://"):
        return pafs.LocalFileSystem(), urlparse(uri).path.rstrip("/")
    if not is_s3(uri):
        return pafs.LocalFileSystem(), os.path.abspath(uri)
    check_endpoint(s3_endpoint_url)
    parsed = urlparse(uri)
    kwargs: dict = {"region": _region()}
    if s3_endpoint_url:
        endpoint = urlparse(s3_endpoint_url)
        kwargs.update(endpoint_override=endpoint.netloc, scheme=endpoint.scheme or "https")
    return pafs.S3FileSystem(**kwargs), f"{parsed.netloc}{parsed.path}".rstrip("/")


def encryption_args(kms_key_id: str | None, sse: str | None = None) -> dict[str, str]:
    """boto3 ExtraArgs for server-side encryption: SSE-KMS with the given key when one is
    configured, else SSE-S3 (`AES256`) when asked for, else the bucket's default."""
    if kms_key_id:
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id}
    if sse:
        if sse not in ("AES256", "aws:kms"):
            raise ValueError(f"server-side encryption {sse!r}: expected AES256 or aws:kms")
        return {"ServerSideEncryption": sse}
    return {}


@functools.lru_cache(maxsize=8)
def s3_client(endpoint_url: str | None = None):
    """One boto3 S3 client per endpoint (credentials from the standard AWS chain)."""
    import boto3
    from botocore.config import Config

    check_endpoint(endpoint_url)
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=_region(),
        config=Config(
            retries={"max_attempts": 3, "mode": "standard"},
            s3={"addressing_style": "path"} if endpoint_url else {},
        ),
    )


def upload(
    path_in_fs: str,
    source: Path | bytes,
    s3_endpoint_url: str | None,
    extra_args: dict[str, str],
) -> None:
    """Write a local file (multipart when large) or bytes to `bucket/key` on S3."""
    import io

    bucket, _, key = path_in_fs.partition("/")
    client = s3_client(s3_endpoint_url)
    if isinstance(source, bytes):
        client.upload_fileobj(io.BytesIO(source), bucket, key, ExtraArgs=extra_args or None)
    else:
        client.upload_file(str(source), bucket, key, ExtraArgs=extra_args or None)


def ensure_dir(fs: pafs.FileSystem, path: str) -> None:
    """Local disks need parent folders; object stores have none (no marker objects)."""
    if isinstance(fs, pafs.LocalFileSystem):
        fs.create_dir(path, recursive=True)
