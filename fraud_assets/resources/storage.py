"""Local paths and s3:// URIs behind one pyarrow filesystem interface."""

from __future__ import annotations

import os
from urllib.parse import urlparse

import pyarrow.fs as pafs


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


def filesystem_for(uri: str, s3_endpoint_url: str | None = None) -> tuple[pafs.FileSystem, str]:
    """(filesystem, path inside it) for a local path or an s3:// URI.

    Credentials come from the standard AWS environment/instance profile, never from here.
    Plain HTTP is only allowed for an explicit endpoint (a local S3-compatible server).
    """
    if not is_s3(uri):
        return pafs.LocalFileSystem(), os.path.abspath(uri)
    parsed = urlparse(uri)
    kwargs: dict = {
        "region": os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or "us-east-1"
    }
    if s3_endpoint_url:
        endpoint = urlparse(s3_endpoint_url)
        kwargs.update(endpoint_override=endpoint.netloc, scheme=endpoint.scheme or "https")
    return pafs.S3FileSystem(**kwargs), f"{parsed.netloc}{parsed.path}".rstrip("/")
