-- Core tables of frauddb. TIMESTAMP columns hold UTC (CONTRACT.md), so defaults use
-- now() AT TIME ZONE 'UTC' rather than now(), which would store the session's local time.

-- transactions: the 18 columns of ORIGIN_FACTS.md, range-partitioned by UTC day.
-- Each day is its own partition so that a day is replaced by swapping one table (atomic,
-- and the new day's indexes are built in bulk instead of maintained row by row). The
-- primary key must contain the partition key; the loader still rejects a transaction_id
-- present on another day (CONTRACT.md: ids are unique across all days).
CREATE TABLE transactions (
    transaction_id      VARCHAR(50)   NOT NULL,
    customer_id         VARCHAR(50)   NOT NULL,
    transaction_date    TIMESTAMP     NOT NULL,
    amount              DECIMAL(12,2) NOT NULL,
    currency            VARCHAR(3)    DEFAULT 'USD',
    merchant_name       VARCHAR(255),
    merchant_category   VARCHAR(50),
    transaction_type    VARCHAR(20),
    card_last_four      VARCHAR(4),
    location_country    VARCHAR(2),
    location_city       VARCHAR(100),
    ip_address          INET,
    device_fingerprint  VARCHAR(255),
    is_online           BOOLEAN       DEFAULT TRUE,
    source_system       VARCHAR(50)   NOT NULL,
    raw_data            JSONB,
    normalized_at       TIMESTAMP     DEFAULT (now() AT TIME ZONE 'UTC'),
    created_at          TIMESTAMP     DEFAULT (now() AT TIME ZONE 'UTC'),
    PRIMARY KEY (transaction_id, transaction_date)
) PARTITION BY RANGE (transaction_date);

-- The B-tree indexes of ORIGIN_FACTS.md. The GIN index on raw_data is deliberately
-- absent: nothing queries inside raw_data, and it costs ~24 s per 1M rows to build
-- (see README, benchmark). Add it in a later migration if analysts start to need it.
CREATE INDEX idx_transactions_customer_id ON transactions (customer_id);
CREATE INDEX idx_transactions_date ON transactions (transaction_date DESC);
CREATE INDEX idx_transactions_amount ON transactions (amount);
CREATE INDEX idx_transactions_source_system ON transactions (source_system);
CREATE INDEX idx_transactions_merchant_category ON transactions (merchant_category);
CREATE INDEX idx_transactions_created_at ON transactions (created_at DESC);

-- Rows of a landing feed that broke the contract: kept with their reason, never dropped.
CREATE TABLE transactions_quarantine (
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
CREATE INDEX idx_quarantine_partition_date ON transactions_quarantine (partition_date);

CREATE TABLE customers (
    customer_id            VARCHAR(50) PRIMARY KEY,
    first_name             VARCHAR(100),
    last_name              VARCHAR(100),
    email                  VARCHAR(255),
    phone                  VARCHAR(50),
    account_created_date   DATE,
    risk_level             VARCHAR(10) NOT NULL DEFAULT 'LOW'
        CHECK (risk_level IN ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')),
    home_country           VARCHAR(2),
    home_city              VARCHAR(100),
    total_transactions     BIGINT        NOT NULL DEFAULT 0,
    lifetime_value         DECIMAL(14,2) NOT NULL DEFAULT 0,
    last_transaction_date  TIMESTAMP,
    updated_at             TIMESTAMP     NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);

CREATE TABLE customer_profiles (
    customer_id              VARCHAR(50) PRIMARY KEY,
    business_type            VARCHAR(50),
    expected_monthly_volume  DECIMAL(14,2),
    expected_min_amount      DECIMAL(12,2),
    expected_max_amount      DECIMAL(12,2),
    geographic_scope         JSONB,
    risk_indicators          JSONB,
    confidence_score         DECIMAL(3,2) CHECK (confidence_score BETWEEN 0 AND 1),
    updated_at               TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);

-- fraud_alerts: one alert per transaction. Machine columns are rewritten by the pipeline;
-- review columns (status, reviewed_by, reviewed_at) belong to analysts and are never
-- written by it. There is deliberately no foreign key to transactions: a day's partition
-- is swapped on reload and old days leave PostgreSQL by retention, while a reviewed alert
-- must survive both. The alert therefore carries the transaction facts it needs.
CREATE TABLE fraud_alerts (
    alert_id          BIGSERIAL PRIMARY KEY,
    transaction_id    VARCHAR(50)   NOT NULL UNIQUE,
    customer_id       VARCHAR(50)   NOT NULL,
    transaction_date  TIMESTAMP     NOT NULL,
    amount            DECIMAL(12,2) NOT NULL,
    currency          VARCHAR(3),
    amount_usd        DECIMAL(14,2),
    merchant_name     VARCHAR(255),
    location_country  VARCHAR(2),
    alert_type        VARCHAR(30)   NOT NULL DEFAULT 'RULES',
    rules_triggered   TEXT[]        NOT NULL,
    rule_score        SMALLINT      NOT NULL CHECK (rule_score BETWEEN 0 AND 100),
    model_score       DECIMAL(5,2)  CHECK (model_score BETWEEN 0 AND 100),
    fraud_score       DECIMAL(5,2)  NOT NULL CHECK (fraud_score BETWEEN 0 AND 100),
    risk_level        VARCHAR(10)   NOT NULL
        CHECK (risk_level IN ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')),
    description       TEXT          NOT NULL,
    rules_version     VARCHAR(40)   NOT NULL,
    model_version     VARCHAR(80),
    dagster_run_id    VARCHAR(64)   NOT NULL,
    -- FALSE when a re-run no longer produces this alert but an analyst had reviewed it.
    is_produced       BOOLEAN       NOT NULL DEFAULT TRUE,
    status            VARCHAR(20)   NOT NULL DEFAULT 'PENDING'
        CHECK (status IN ('PENDING', 'UNDER_REVIEW', 'CONFIRMED', 'FALSE_POSITIVE')),
    reviewed_by       VARCHAR(100),
    reviewed_at       TIMESTAMP,
    created_at        TIMESTAMP     NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    updated_at        TIMESTAMP     NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    -- A decision other than PENDING names who made it and when.
    CONSTRAINT fraud_alerts_review_signed
        CHECK (status = 'PENDING' OR (reviewed_by IS NOT NULL AND reviewed_at IS NOT NULL))
);
CREATE INDEX idx_fraud_alerts_transaction_date ON fraud_alerts (transaction_date);
CREATE INDEX idx_fraud_alerts_customer_id ON fraud_alerts (customer_id);
CREATE INDEX idx_fraud_alerts_open ON fraud_alerts (status, fraud_score DESC)
    WHERE status IN ('PENDING', 'UNDER_REVIEW');
