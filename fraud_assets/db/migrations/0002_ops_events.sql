-- ops_events: what operators must hear about (RUN_FAILURE, BLOCKING_CHECK_FAILED,
-- FRESHNESS_LATE, ...), one row per distinct trouble. Written by fraud_assets.defs.ops.notify
-- from the sensors; an optional webhook receives the same event as JSON.
CREATE TABLE ops_events (
    event_id           BIGSERIAL    PRIMARY KEY,
    -- When the trouble happened (the failure or check evaluation), UTC.
    occurred_at        TIMESTAMP    NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    -- When this row was written, UTC.
    reported_at        TIMESTAMP    NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    kind               VARCHAR(40)  NOT NULL,
    run_id             VARCHAR(64),
    job_name           VARCHAR(255),
    asset_key          VARCHAR(255),
    partition_key      VARCHAR(255),
    check_name         VARCHAR(255),
    message            TEXT         NOT NULL,
    details            JSONB,
    delivered_webhook  BOOLEAN      NOT NULL DEFAULT FALSE
);

-- Reporting the same trouble again (a sensor re-evaluated, a tick retried) adds nothing:
-- NULLs count as equal here, so a run-level event (no asset) is still reported once.
CREATE UNIQUE INDEX ops_events_reported_once ON ops_events (
    kind,
    COALESCE(run_id, ''),
    COALESCE(asset_key, ''),
    COALESCE(check_name, ''),
    COALESCE(partition_key, '')
);
CREATE INDEX idx_ops_events_occurred_at ON ops_events (occurred_at DESC);
