"""Retention: PostgreSQL keeps the live window, the lake keeps everything."""
