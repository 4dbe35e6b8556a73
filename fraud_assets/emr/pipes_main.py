"""Main script of a Pipes EMR step.

    spark-submit --master yarn --deploy-mode client --conf ... --py-files <code zip> \
        pipes_main.py --dagster-pipes-context <encoded> --dagster-pipes-messages <encoded>

The two Pipes arguments (base64 of zlib of JSON) say where the context is (an S3 object
under the run's staging folder) and where to write messages (a key prefix in the staging
bucket). Before `fraud_assets` is imported (its modules read the environment), apply the
non-secret environment the context carries and take the database password from AWS
Secrets Manager; then run the asset's step function on this cluster's Spark and report its
materialization and check results back (fraud_assets/emr/pipes_step.py).

Standalone on purpose: it is uploaded and run as a script; the package comes from the zip.
"""

import boto3
from dagster_pipes import (
    PipesCliArgsParamsLoader,
    PipesS3ContextLoader,
    PipesS3MessageWriter,
    open_dagster_pipes,
)

# How often the step uploads a chunk of messages (logs, then the results at the end).
MESSAGE_INTERVAL_SECONDS = 5.0


def main() -> None:
    s3 = boto3.client("s3")
    with open_dagster_pipes(
        params_loader=PipesCliArgsParamsLoader(),
        context_loader=PipesS3ContextLoader(s3),
        message_writer=PipesS3MessageWriter(s3, interval=MESSAGE_INTERVAL_SECONDS),
    ) as pipes:
        from fraud_assets.emr.step_environment import apply_environment  # noqa: PLC0415

        apply_environment(pipes.get_extra("env"))
        import fraud_assets  # noqa: PLC0415 - after the environment is set

        # In the step's stdout (EMR copies it to the log bucket) and in the run: which code ran.
        print(f"fraud_assets pipes step: code from {fraud_assets.__file__}", flush=True)
        pipes.log.info(f"fraud_assets code from {fraud_assets.__file__}")
        from fraud_assets.emr.pipes_step import run_reported_step  # noqa: PLC0415

        run_reported_step(pipes)


if __name__ == "__main__":
    main()
