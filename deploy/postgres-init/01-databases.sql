-- Runs once, when the postgres container starts on an empty data volume
-- (docker-entrypoint-initdb.d), as POSTGRES_USER (= FRAUD_DB_USER in docker-compose.yml).
-- That user owns both databases:
--   dagster  - Dagster instance storage (runs, event logs, schedules): DAGSTER_PG_DB
--   frauddb  - the bank database the pipeline extracts from: FRAUD_DB_NAME
-- No passwords here: the role and its password come from the container's environment.
CREATE DATABASE dagster;
CREATE DATABASE frauddb;
