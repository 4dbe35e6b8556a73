-- The customers feed (CONTRACT.md: upserted by customer_id): records that broke the
-- contract are kept with their reason, per feed day, like the transactions' quarantine.
CREATE TABLE customers_quarantine (
    quarantine_id    BIGSERIAL PRIMARY KEY,
    partition_date   DATE        NOT NULL,
    source_file      TEXT        NOT NULL,
    record_number    INTEGER     NOT NULL,
    reason           VARCHAR(50) NOT NULL,
    detail           TEXT        NOT NULL,
    raw_record       JSONB       NOT NULL,
    dagster_run_id   VARCHAR(64),
    quarantined_at   TIMESTAMP   NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);
CREATE INDEX idx_customers_quarantine_partition_date ON customers_quarantine (partition_date);

-- Which feed day last wrote each customer: a re-run of an older day must not undo a newer one.
ALTER TABLE customers ADD COLUMN feed_date DATE;

-- It holds names and contact data, as customers does: the pipeline only.
GRANT SELECT, INSERT, DELETE ON customers_quarantine TO fraud_pipeline;
GRANT USAGE ON SEQUENCE customers_quarantine_quarantine_id_seq TO fraud_pipeline;
