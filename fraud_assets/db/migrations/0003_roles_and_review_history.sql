-- Who may change what (group roles, grants, column privileges) and the audit trail of
-- analysts' reviews (fraud_alert_review_history, written by the database itself).
-- docs/security.md explains the model and how an operator creates login users.

-- Group roles: NOLOGIN, created once per cluster (roles are cluster-wide, so a second
-- database or a re-run finds them). Login users are made members by the operator:
--   CREATE ROLE etl_loader LOGIN PASSWORD '...' IN ROLE fraud_pipeline;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fraud_pipeline') THEN
        CREATE ROLE fraud_pipeline NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fraud_analyst') THEN
        CREATE ROLE fraud_analyst NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fraud_reporting') THEN
        CREATE ROLE fraud_reporting NOLOGIN;
    END IF;
    -- A non-superuser migrator hands `transactions` to fraud_pipeline below, which
    -- PostgreSQL allows only to a member of the new owner.
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
       AND NOT pg_has_role(current_user, 'fraud_pipeline', 'MEMBER') THEN
        EXECUTE format('GRANT fraud_pipeline TO %I', current_user);
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO fraud_pipeline, fraud_analyst, fraud_reporting;
-- The loader builds each day's slices as new tables, then attaches them.
GRANT CREATE ON SCHEMA public TO fraud_pipeline;

-- transactions: the day swap creates, attaches, detaches and drops partitions, which
-- PostgreSQL allows only to the owner of the partitioned table and of its partitions.
-- So fraud_pipeline owns them (the loader acts as the role, FRAUD_DB_ROLE, so new day
-- tables belong to it too, whichever login user runs the load).
DO $$
DECLARE
    part regclass;
BEGIN
    ALTER TABLE transactions OWNER TO fraud_pipeline;
    FOR part IN
        SELECT relid FROM pg_partition_tree('transactions') WHERE relid <> 'transactions'::regclass
    LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO fraud_pipeline', part);
    END LOOP;
END
$$;
GRANT SELECT ON transactions TO fraud_analyst, fraud_reporting;

GRANT SELECT, INSERT, DELETE ON transactions_quarantine TO fraud_pipeline;
GRANT USAGE ON SEQUENCE transactions_quarantine_quarantine_id_seq TO fraud_pipeline;
GRANT SELECT ON transactions_quarantine TO fraud_reporting;

-- customers hold names and contact data: the pipeline loads them; nobody else reads them.
GRANT SELECT, INSERT, UPDATE, DELETE ON customers, customer_profiles TO fraud_pipeline;
GRANT SELECT ON customer_profiles TO fraud_reporting;

GRANT SELECT, INSERT, UPDATE ON ops_events TO fraud_pipeline;
GRANT USAGE ON SEQUENCE ops_events_event_id_seq TO fraud_pipeline;
GRANT SELECT ON ops_events TO fraud_reporting;

-- fraud_alerts: an analyst may add a note to a review.
ALTER TABLE fraud_alerts ADD COLUMN review_note TEXT;

-- The pipeline writes machine columns only: it can neither set nor change a review.
GRANT SELECT, DELETE ON fraud_alerts TO fraud_pipeline;
GRANT INSERT (
    transaction_id, customer_id, transaction_date, amount, currency, amount_usd,
    merchant_name, location_country, alert_type, rules_triggered, rule_score, model_score,
    fraud_score, risk_level, description, rules_version, model_version, dagster_run_id
) ON fraud_alerts TO fraud_pipeline;
GRANT UPDATE (
    customer_id, transaction_date, amount, currency, amount_usd, merchant_name,
    location_country, alert_type, rules_triggered, rule_score, model_score, fraud_score,
    risk_level, description, rules_version, model_version, dagster_run_id, is_produced,
    updated_at
) ON fraud_alerts TO fraud_pipeline;
GRANT USAGE ON SEQUENCE fraud_alerts_alert_id_seq TO fraud_pipeline;
-- Analysts read and review; they insert and delete nothing.
GRANT SELECT ON fraud_alerts TO fraud_analyst, fraud_reporting;
GRANT UPDATE (status, reviewed_by, reviewed_at, review_note) ON fraud_alerts TO fraud_analyst;

-- A reviewed alert is evidence: nobody but a superuser (break-glass) deletes it, whatever
-- their grants (the pipeline may delete unreviewed alerts it no longer produces).
CREATE FUNCTION fraud_alerts_keep_reviewed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (OLD.status <> 'PENDING' OR OLD.reviewed_at IS NOT NULL)
       AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        RAISE EXCEPTION 'alert % (transaction %) was reviewed: it is never deleted',
            OLD.alert_id, OLD.transaction_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN OLD;
END
$$;
CREATE TRIGGER fraud_alerts_keep_reviewed BEFORE DELETE ON fraud_alerts
    FOR EACH ROW EXECUTE FUNCTION fraud_alerts_keep_reviewed();

-- The review history: one row per change of an alert's review, append-only.
CREATE TABLE fraud_alert_review_history (
    history_id        BIGSERIAL    PRIMARY KEY,
    alert_id          BIGINT       NOT NULL,
    transaction_id    VARCHAR(50)  NOT NULL,
    -- When the database recorded the change (UTC) and who made it: the person as the
    -- review names them (reviewed_by) and the database login that wrote it.
    changed_at        TIMESTAMP    NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    changed_by        VARCHAR(100),
    db_user           TEXT         NOT NULL,
    client_addr       INET,
    application_name  TEXT,
    from_status       VARCHAR(20),
    to_status         VARCHAR(20)  NOT NULL,
    from_reviewed_by  VARCHAR(100),
    reviewed_at       TIMESTAMP,
    note              TEXT
);
CREATE INDEX idx_review_history_alert ON fraud_alert_review_history (alert_id, history_id);
CREATE INDEX idx_review_history_transaction ON fraud_alert_review_history (transaction_id);
REVOKE ALL ON fraud_alert_review_history FROM PUBLIC;
GRANT SELECT ON fraud_alert_review_history TO fraud_analyst, fraud_reporting;

-- Written by the database: SECURITY DEFINER, so no client needs (or has) INSERT on the
-- history, and no client can skip it. session_user is the login, even after SET ROLE.
CREATE FUNCTION fraud_alert_review_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO public.fraud_alert_review_history (
        alert_id, transaction_id, changed_by, db_user, client_addr, application_name,
        from_status, to_status, from_reviewed_by, reviewed_at, note)
    VALUES (
        NEW.alert_id, NEW.transaction_id, NEW.reviewed_by, session_user, inet_client_addr(),
        current_setting('application_name', true),
        CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, NEW.status,
        CASE WHEN TG_OP = 'UPDATE' THEN OLD.reviewed_by END, NEW.reviewed_at, NEW.review_note);
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION fraud_alert_review_audit() FROM PUBLIC;
-- Only review columns matter: the pipeline's rewrites of machine columns record nothing.
CREATE TRIGGER fraud_alerts_review_audit_update AFTER UPDATE ON fraud_alerts
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          OR OLD.reviewed_by IS DISTINCT FROM NEW.reviewed_by
          OR OLD.reviewed_at IS DISTINCT FROM NEW.reviewed_at
          OR OLD.review_note IS DISTINCT FROM NEW.review_note)
    EXECUTE FUNCTION fraud_alert_review_audit();
CREATE TRIGGER fraud_alerts_review_audit_insert AFTER INSERT ON fraud_alerts
    FOR EACH ROW
    WHEN (NEW.status <> 'PENDING' OR NEW.reviewed_by IS NOT NULL OR NEW.review_note IS NOT NULL)
    EXECUTE FUNCTION fraud_alert_review_audit();

-- Belt and braces: even the table's owner cannot rewrite history by accident (only by
-- dropping these triggers, which is itself a visible DDL change).
CREATE FUNCTION fraud_alert_review_history_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'fraud_alert_review_history is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER review_history_no_update_delete BEFORE UPDATE OR DELETE
    ON fraud_alert_review_history
    FOR EACH ROW EXECUTE FUNCTION fraud_alert_review_history_append_only();
CREATE TRIGGER review_history_no_truncate BEFORE TRUNCATE ON fraud_alert_review_history
    FOR EACH STATEMENT EXECUTE FUNCTION fraud_alert_review_history_append_only();

-- Tables later migrations create (as the same migrator) are writable by the pipeline;
-- their migration grants reads to analysts and reporting explicitly (PII stays closed).
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO fraud_pipeline;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO fraud_pipeline;
