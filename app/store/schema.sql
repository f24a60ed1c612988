-- The event store's schema as migrations 1 to 8 leave it, for reading;
-- the database is made by app/store/migrations.py, never from this file.
-- Generated: after adding a migration, regenerate it with
--   python -c "from app.store.migrations import write_schema_sql; write_schema_sql()"
-- {serial} is an auto-numbered primary key, which each backend spells its own
-- way (SqliteStore.SERIAL, PostgresStore.SERIAL).

-- schema_migrations: made before the migrations, by app/store/schema.py
CREATE TABLE schema_migrations (
    version    INTEGER PRIMARY KEY,
    applied_at DOUBLE PRECISION NOT NULL
);

-- events: migration 1
CREATE TABLE events (
    id                     TEXT PRIMARY KEY,
    status                 TEXT NOT NULL,
    customer_id            BIGINT,
    line_count             INTEGER NOT NULL,
    received               TEXT NOT NULL,
    payload                TEXT NOT NULL,
    attempts               INTEGER NOT NULL DEFAULT 0,
    failures               INTEGER NOT NULL DEFAULT 0,
    throttles              INTEGER NOT NULL DEFAULT 0,
    next_attempt_at        DOUBLE PRECISION NOT NULL,
    lease_owner            TEXT,
    lease_until            DOUBLE PRECISION,
    poll_url               TEXT,
    poll_deadline          DOUBLE PRECISION,
    draft_order_id         BIGINT,
    draft_order_name       TEXT,
    invoice_url            TEXT,
    error_code             TEXT,
    error_detail           TEXT,
    fingerprint            TEXT,
    client_ip              TEXT,
    maybe_posted           INTEGER NOT NULL DEFAULT 0,
    created_at             DOUBLE PRECISION NOT NULL,
    updated_at             DOUBLE PRECISION NOT NULL,
    prepared               TEXT,  -- migration 3
    error_lines            TEXT,  -- migration 3
    draft_state            TEXT,  -- migration 4
    draft_updated_at       DOUBLE PRECISION,  -- migration 4
    order_id               BIGINT,  -- migration 4
    order_name             TEXT,  -- migration 4
    order_financial_status TEXT,  -- migration 4
    invoice_status         TEXT,  -- migration 4
    invoice_detail         TEXT,  -- migration 4
    invoice_maybe_sent     INTEGER NOT NULL DEFAULT 0,  -- migration 4
    reconcile_at           DOUBLE PRECISION,  -- migration 4
    reconcile_count        INTEGER NOT NULL DEFAULT 0,  -- migration 4
    guest_key              TEXT  -- migration 8
);
CREATE INDEX events_due ON events (status, next_attempt_at);
CREATE INDEX events_created ON events (created_at);
CREATE INDEX events_fingerprint ON events (fingerprint, created_at);
CREATE INDEX events_client_ip ON events (client_ip, created_at);
CREATE INDEX events_customer ON events (customer_id, created_at);
CREATE INDEX events_draft_order ON events (draft_order_id);
CREATE INDEX events_reconcile ON events (reconcile_at);
CREATE INDEX events_guest_key ON events (guest_key, created_at);

-- answers: migration 1
CREATE TABLE answers (
    id       {serial},
    event_id TEXT NOT NULL REFERENCES events (id),
    at       DOUBLE PRECISION NOT NULL,
    method   TEXT NOT NULL,
    url      TEXT NOT NULL,
    status   INTEGER,
    body     TEXT NOT NULL
);
CREATE INDEX answers_event ON answers (event_id, id);

-- login_failures: migration 2
CREATE TABLE login_failures (
    address TEXT NOT NULL,
    at      DOUBLE PRECISION NOT NULL
);
CREATE INDEX login_failures_address ON login_failures (address, at);
CREATE INDEX login_failures_at ON login_failures (at);

-- login_lockouts: migration 2
CREATE TABLE login_lockouts (
    address TEXT PRIMARY KEY,
    until   DOUBLE PRECISION NOT NULL
);

-- shopify_webhooks: migration 4
CREATE TABLE shopify_webhooks (
    id               {serial},
    webhook_id       TEXT NOT NULL UNIQUE,
    shopify_event_id TEXT,
    topic            TEXT NOT NULL,
    shop_domain      TEXT,
    received_at      DOUBLE PRECISION NOT NULL,
    body             TEXT NOT NULL,
    status           TEXT NOT NULL,
    note             TEXT,
    draft_order_id   BIGINT,
    event_id         TEXT,
    processed_at     DOUBLE PRECISION
);
CREATE INDEX shopify_webhooks_pending ON shopify_webhooks (status, id);
CREATE INDEX shopify_webhooks_event ON shopify_webhooks (event_id, id);
CREATE INDEX shopify_webhooks_shopify_event ON shopify_webhooks (shopify_event_id);

-- notifications: migration 4
CREATE TABLE notifications (
    id              {serial},
    event_id        TEXT NOT NULL,
    kind            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DOUBLE PRECISION NOT NULL,
    last_error      TEXT,
    created_at      DOUBLE PRECISION NOT NULL,
    claimed_at      DOUBLE PRECISION,  -- migration 6
    folded_into     BIGINT  -- migration 6
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_event ON notifications (event_id, id);
CREATE INDEX notifications_channel_claimed ON notifications (channel, claimed_at);
CREATE INDEX notifications_folded ON notifications (folded_into);

-- shopify_credentials: migration 5
CREATE TABLE shopify_credentials (
    id                 TEXT PRIMARY KEY,
    client_id          TEXT NOT NULL,
    grant_kind         TEXT,
    access_token       TEXT,
    scope              TEXT,
    issued_at          DOUBLE PRECISION,
    expires_at         DOUBLE PRECISION,
    refresh_token      TEXT,
    refresh_expires_at DOUBLE PRECISION,
    version            INTEGER NOT NULL DEFAULT 0,
    renewing_owner     TEXT,
    renewing_until     DOUBLE PRECISION,
    problem_code       TEXT,
    problem_detail     TEXT,
    problem_at         DOUBLE PRECISION,
    updated_at         DOUBLE PRECISION NOT NULL
);

-- oauth_states: migration 5
CREATE TABLE oauth_states (
    state      TEXT PRIMARY KEY,
    created_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX oauth_states_created ON oauth_states (created_at);

-- privacy_exports: migration 7
CREATE TABLE privacy_exports (
    id              {serial},
    source          TEXT NOT NULL,
    data_request_id TEXT,
    customer_id     BIGINT,
    email           TEXT,
    created_at      DOUBLE PRECISION NOT NULL,
    body            TEXT NOT NULL
);
CREATE INDEX privacy_exports_created ON privacy_exports (created_at);
