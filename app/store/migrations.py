"""The event store's schema, as an ordered list of changes.

A deploy that adds a column must not break the processes still running the
previous release, nor the database they share: each change is recorded in
`schema_migrations`, applied once, under a lock, and marked `additive` when
code written before it keeps working afterwards (new tables, columns with a
default or NULL, indexes). Only additive changes are applied at start-up; any
other waits for the merchant's `flask --app app init-db`.

Statements are written once for SQLite and PostgreSQL: `{serial}` stands for
the one column type the two spell differently.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]
    additive: bool = True


class SchemaUpgradeRequired(Exception):
    """A pending migration is not safe to apply while older code runs."""

    def __init__(self, migration: Migration) -> None:
        super().__init__(
            f"the event database needs migration {migration.version} ({migration.description}),"
            " which is not applied at start-up: run `flask --app app init-db`")


MIGRATIONS = (
    Migration(1, "events and answers tables", (
        """CREATE TABLE events (
            id               TEXT PRIMARY KEY,
            status           TEXT NOT NULL,
            customer_id      BIGINT,
            line_count       INTEGER NOT NULL,
            received         TEXT NOT NULL,
            payload          TEXT NOT NULL,
            attempts         INTEGER NOT NULL DEFAULT 0,
            failures         INTEGER NOT NULL DEFAULT 0,
            throttles        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at  DOUBLE PRECISION NOT NULL,
            lease_owner      TEXT,
            lease_until      DOUBLE PRECISION,
            poll_url         TEXT,
            poll_deadline    DOUBLE PRECISION,
            draft_order_id   BIGINT,
            draft_order_name TEXT,
            invoice_url      TEXT,
            error_code       TEXT,
            error_detail     TEXT,
            fingerprint      TEXT,
            client_ip        TEXT,
            maybe_posted     INTEGER NOT NULL DEFAULT 0,
            created_at       DOUBLE PRECISION NOT NULL,
            updated_at       DOUBLE PRECISION NOT NULL
        )""",
        "CREATE INDEX events_due ON events (status, next_attempt_at)",
        "CREATE INDEX events_created ON events (created_at)",
        "CREATE INDEX events_fingerprint ON events (fingerprint, created_at)",
        "CREATE INDEX events_client_ip ON events (client_ip, created_at)",
        "CREATE INDEX events_customer ON events (customer_id, created_at)",
        """CREATE TABLE answers (
            id        {serial},
            event_id  TEXT NOT NULL REFERENCES events (id),
            at        DOUBLE PRECISION NOT NULL,
            method    TEXT NOT NULL,
            url       TEXT NOT NULL,
            status    INTEGER,
            body      TEXT NOT NULL
        )""",
        "CREATE INDEX answers_event ON answers (event_id, id)",
    )),
    Migration(2, "admin login failures and lockouts, shared by every web process", (
        "CREATE TABLE login_failures (address TEXT NOT NULL, at DOUBLE PRECISION NOT NULL)",
        "CREATE INDEX login_failures_address ON login_failures (address, at)",
        "CREATE INDEX login_failures_at ON login_failures (at)",
        "CREATE TABLE login_lockouts (address TEXT PRIMARY KEY,"
        " until DOUBLE PRECISION NOT NULL)",
    )),
    Migration(3, "what a backend read before drafting, and the lines a failure names", (
        "ALTER TABLE events ADD COLUMN prepared TEXT",
        "ALTER TABLE events ADD COLUMN error_lines TEXT",
    )),
    Migration(4, "each draft order's lifecycle, Shopify's webhooks, and the merchant's "
                 "notifications", (
        "ALTER TABLE events ADD COLUMN draft_state TEXT",
        "ALTER TABLE events ADD COLUMN draft_updated_at DOUBLE PRECISION",
        "ALTER TABLE events ADD COLUMN order_id BIGINT",
        "ALTER TABLE events ADD COLUMN order_name TEXT",
        "ALTER TABLE events ADD COLUMN order_financial_status TEXT",
        "ALTER TABLE events ADD COLUMN invoice_status TEXT",
        "ALTER TABLE events ADD COLUMN invoice_detail TEXT",
        "ALTER TABLE events ADD COLUMN invoice_maybe_sent INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE events ADD COLUMN reconcile_at DOUBLE PRECISION",
        "ALTER TABLE events ADD COLUMN reconcile_count INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX events_draft_order ON events (draft_order_id)",
        "CREATE INDEX events_reconcile ON events (reconcile_at)",
        """CREATE TABLE shopify_webhooks (
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
        )""",
        "CREATE INDEX shopify_webhooks_pending ON shopify_webhooks (status, id)",
        "CREATE INDEX shopify_webhooks_event ON shopify_webhooks (event_id, id)",
        "CREATE INDEX shopify_webhooks_shopify_event ON shopify_webhooks (shopify_event_id)",
        """CREATE TABLE notifications (
            id              {serial},
            event_id        TEXT NOT NULL,
            kind            TEXT NOT NULL,
            channel         TEXT NOT NULL,
            body            TEXT NOT NULL,
            status          TEXT NOT NULL,
            attempts        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at DOUBLE PRECISION NOT NULL,
            last_error      TEXT,
            created_at      DOUBLE PRECISION NOT NULL
        )""",
        "CREATE INDEX notifications_due ON notifications (status, next_attempt_at)",
        "CREATE INDEX notifications_event ON notifications (event_id, id)",
    )),
    Migration(5, "the shop's access token, renewed by one process for all, and the OAuth "
                 "install's states", (
        """CREATE TABLE shopify_credentials (
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
        )""",
        """CREATE TABLE oauth_states (
            state      TEXT PRIMARY KEY,
            created_at DOUBLE PRECISION NOT NULL
        )""",
        "CREATE INDEX oauth_states_created ON oauth_states (created_at)",
    )),
)
