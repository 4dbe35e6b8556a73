"""Dagster definitions, one folder per domain: ingest, lake, detection."""

import warnings

import dagster as dg

# BackfillPolicy and partition mappings that tolerate days before the first partition are
# "beta" in Dagster 1.13; we rely on them deliberately, so keep the warnings out of logs.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
