"""Fixtures of the EMR tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fraud_assets_tests.emr.aws import moto_aws


@pytest.fixture
def aws() -> Iterator[dict[str, str]]:
    """A fresh moto server (S3, EMR, Secrets Manager over HTTP) per test, and its env."""
    with moto_aws() as env:
        yield env
