"""Database access: local cluster, migrations."""
