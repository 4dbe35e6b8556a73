-- Behavioural profile columns of customer_profiles, upserted daily by the customer_profiles
-- asset beside the KYC expectation columns (business_type, expected_*, geographic_scope,
-- risk_indicators, confidence_score), which the pipeline never writes. The statistics and
-- signals are the seed's (ORIGIN_FACTS.md), over the 30 UTC days ending profile_day.
ALTER TABLE customer_profiles
    ADD COLUMN profile_day          DATE,
    ADD COLUMN txn_count_30d        INTEGER,
    ADD COLUMN sum_usd_30d          DECIMAL(16,2),
    ADD COLUMN mean_usd_30d         DECIMAL(14,2),
    ADD COLUMN stddev_usd_30d       DECIMAL(14,2),
    ADD COLUMN min_usd_30d          DECIMAL(14,2),
    ADD COLUMN max_usd_30d          DECIMAL(14,2),
    ADD COLUMN country_count_30d    INTEGER,
    ADD COLUMN merchant_count_30d   INTEGER,
    ADD COLUMN first_txn_at_30d     TIMESTAMP,
    ADD COLUMN last_txn_at          TIMESTAMP,
    -- +20 if stddev/mean > 2, +15 if max > 10000 USD, +10 if more than 5 countries.
    ADD COLUMN behaviour_risk_score SMALLINT CHECK (behaviour_risk_score BETWEEN 0 AND 100),
    ADD COLUMN behaviour_signals    TEXT[],
    ADD COLUMN profiled_at          TIMESTAMP;
