"""Dagster definitions, one folder per domain: ingest, lake, detection."""
