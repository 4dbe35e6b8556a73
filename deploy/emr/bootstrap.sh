#!/usr/bin/env bash
# EMR bootstrap action for fraud_assets (runs on every node before Spark starts).
#
#   Argument 1: the s3:// folder of the job package (`fraud-assets emr package` prints it
#   as FRAUD_EMR_PACKAGE_PREFIX), holding requirements.txt, constraints.txt and
#   postgresql.jar.
#
# Installs the step's Python dependencies for the cluster's Python 3.11, pinned to the exact
# versions the project is tested with (constraints.txt), and the PostgreSQL JDBC driver into
# Spark's jars. The project's own code is not installed here: each step gets it as a
# --py-files zip, so a new release needs no new cluster.
set -euo pipefail
package="${1:?usage: bootstrap.sh s3://bucket/prefix/package/<hash>}"
work=$(mktemp -d)
aws s3 cp "$package/requirements.txt" "$work/requirements.txt"
aws s3 cp "$package/constraints.txt" "$work/constraints.txt"

python=/usr/bin/python3.11
if ! command -v "$python" >/dev/null; then
  sudo dnf install -y -q python3.11 python3.11-pip
fi
"$python" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version'
# The step launcher unpickles Dagster objects made by the deployment: same versions only.
sudo "$python" -m pip install --quiet --no-input -r "$work/requirements.txt" -c "$work/constraints.txt"

# The JDBC driver, if the package carries one (spark.read.jdbc from ad-hoc jobs; the assets
# themselves talk to PostgreSQL with psycopg).
if aws s3 ls "$package/postgresql.jar" >/dev/null 2>&1; then
  sudo mkdir -p /usr/lib/spark/jars
  sudo aws s3 cp "$package/postgresql.jar" /usr/lib/spark/jars/postgresql.jar
fi
rm -rf "$work"
