"""Pure business logic: validation, features, rules, scoring. No Dagster, no I/O."""
