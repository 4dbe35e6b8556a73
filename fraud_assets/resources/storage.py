"""Local paths and s3:// URIs behind one pyarrow filesystem interface."""

from __future__ import annotations

import os
from urllib.parse import urlparse

import pyarrow.fs as pafs


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


def is_versioned(uri: str) -> bool:
    """Object-store layout: s3://, or file:// (the same layout on a local disk)."""
    return uri.startswith(("s3://", "file://"))


def filesystem_for(uri: str, s3_endpoint_url: str | None = None) -> tuple[pafs.FileSystem, str]:
    """(filesystem, path inside it) for a local path or an s3:// URI.

    Credentials come from the standard AWS environment/instance profile, never from here.
    Plain HTTP is only allowed for an explicit endpoint (a local S3-compatible server).
    """
    if uri.startswith("file://"):
        return pafs.LocalFileSystem(), urlparse(uri).path.rstrip("/")
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


def ensure_dir(fs: pafs.FileSystem, path: str) -> None:
    """Local disks need parent folders; object stores have none (no marker objects)."""
    if isinstance(fs, pafs.LocalFileSystem):
        fs.create_dir(path, recursive=True)
