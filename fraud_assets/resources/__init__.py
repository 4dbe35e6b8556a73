"""I/O resources: one place per store (PostgreSQL, the lake, Spark)."""
