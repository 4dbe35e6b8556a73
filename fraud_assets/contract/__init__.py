"""The data contract (../shared/CONTRACT.md) as code: schemas, time zones, FX rates."""
