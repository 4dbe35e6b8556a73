"""The environment of a step on EMR, applied by both step mains before the code location
is imported (its modules read the environment at import).

Only the standard library and boto3 here: nothing of fraud_assets may load before this ran.
"""

import os

import boto3


def apply_environment(env: dict[str, str]) -> None:
    """Set the staged, non-secret variables, then the database password from AWS Secrets
    Manager when a secret id is given (it is never staged)."""
    # The cluster's own environment wins: an operator can override a value per cluster.
    for name, value in env.items():
        os.environ.setdefault(name, value)
    secret_id = os.environ.get("FRAUD_DB_PASSWORD_SECRET_ID")
    if secret_id and "FRAUD_DB_PASSWORD" not in os.environ:
        secrets = boto3.client("secretsmanager")
        os.environ["FRAUD_DB_PASSWORD"] = secrets.get_secret_value(SecretId=secret_id)[
            "SecretString"
        ]
