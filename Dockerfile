# fraud_assets: one image for every Dagster role in docker-compose.yml.
#   default CMD   -> gRPC code location server (service `code_location`, port 4000); runs
#                    launched by the DefaultRunLauncher execute here, with Spark in local mode
#   webserver     -> dagster-webserver -w /opt/dagster/app/deploy/workspace.docker.yaml
#   daemon        -> dagster-daemon run -w /opt/dagster/app/deploy/workspace.docker.yaml
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# OpenJDK 17 for PySpark in local mode; the PostgreSQL JDBC driver is the Debian package
# (/usr/share/java/postgresql.jar), so Spark needs no Maven download at start-up; procps
# because Spark's launch scripts call `ps`. The man1 directory works around the JRE's
# postinst on slim images.
RUN mkdir -p /usr/share/man/man1 \
    && apt-get update \
    && apt-get install -y --no-install-recommends \
        openjdk-17-jre-headless \
        libpostgresql-jdbc-java \
        procps \
    && rm -rf /var/lib/apt/lists/* \
    && ln -s "$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")" /opt/java

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    JAVA_HOME=/opt/java \
    PYSPARK_PYTHON=/opt/venv/bin/python \
    PYSPARK_DRIVER_PYTHON=/opt/venv/bin/python \
    SPARK_LOCAL_IP=127.0.0.1 \
    DAGSTER_HOME=/opt/dagster/home

WORKDIR /opt/dagster/app

# Dependencies first, in their own layer, so a change to the package's code does not
# reinstall ~1.4 GB of wheels. constraints.txt pins the whole tree.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -c constraints.txt -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY fraud_assets ./fraud_assets
RUN pip install --no-deps -c constraints.txt . \
    && rm -rf build ./*.egg-info

COPY workspace.yaml ./
COPY deploy ./deploy

# Non-root user. DAGSTER_HOME/storage (compute logs, local artifacts) and the lake mount
# points are created here and owned by that user, so named volumes mounted on them start
# writable for it. The app directory itself (not its files) is writable too: it is the
# working directory of run workers, where Spark may create spark-warehouse/.
RUN groupadd --gid 1000 dagster \
    && useradd --uid 1000 --gid dagster --home-dir /opt/dagster --no-create-home \
        --shell /usr/sbin/nologin dagster \
    && mkdir -p "$DAGSTER_HOME/storage" /data/lake /data/landing \
    && chown -R dagster:dagster /opt/dagster/home /data \
    && chown dagster:dagster /opt/dagster /opt/dagster/app
COPY --chown=dagster:dagster dagster.yaml "$DAGSTER_HOME/dagster.yaml"

USER dagster

EXPOSE 4000 3000

CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", \
     "-m", "fraud_assets.definitions", "--location-name", "fraud_assets"]
