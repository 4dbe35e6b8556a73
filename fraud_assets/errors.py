"""Failures that no retry can cure."""

from __future__ import annotations

import dagster as dg


class InputError(dg.Failure):
    """Input that waiting will not fix (a missing or malformed feed, a partition that was
    never materialized): the step fails once, naming it, and the assets' retry policy,
    which is there for dropped connections, does not retry it."""

    def __init__(self, description: str) -> None:
        super().__init__(description, allow_retries=False)
