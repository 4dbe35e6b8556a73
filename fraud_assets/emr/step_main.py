"""Main script of an EMR step: `spark-submit ... step_main.py BUCKET KEY_OF_STEP_RUN_REF`.

The launcher uploads this file next to the pickled step; `--py-files` puts the fraud_assets
code zip on the path. Before Dagster loads the code location (which reads its environment
at import), apply the step's environment staged beside the pickled step, and take the
database password from AWS Secrets Manager when a secret id is given. Then run the step as
dagster-aws's own EMR main does, writing its events back to S3.

Standalone on purpose: it is run as a script, not imported from the package.
"""

import json
import posixpath
import sys

import boto3


def apply_step_environment(bucket: str, step_run_ref_key: str) -> None:
    from fraud_assets.emr.step_environment import apply_environment  # noqa: PLC0415

    s3 = boto3.client("s3")
    key = posixpath.join(posixpath.dirname(step_run_ref_key), "step_env.json")
    apply_environment(json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))


def main(bucket: str, step_run_ref_key: str) -> None:
    apply_step_environment(bucket, step_run_ref_key)
    import fraud_assets  # noqa: PLC0415 - after the environment is set

    # In the step's stdout (EMR copies it to the log bucket): which code ran.
    print(f"fraud_assets step: code from {fraud_assets.__file__}", flush=True)
    from dagster_aws.emr import emr_step_main  # noqa: PLC0415

    emr_step_main.main(bucket, step_run_ref_key)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
