"""fraud_assets: daily card-fraud detection as Dagster software-defined assets."""
