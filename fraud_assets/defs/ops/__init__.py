"""Operators hear about trouble: failed runs, failed checks, late days (ops_events + webhook)."""
