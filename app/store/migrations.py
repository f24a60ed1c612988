"""The event store's schema, as an ordered list of changes.

A deploy that adds a column must not break the processes still running the
previous release, nor the database they share: each change is recorded in
`schema_migrations`, applied once, under a lock, and marked `additive` when
code written before it keeps working afterwards (new tables, columns with a
default or NULL, indexes). Only additive changes are applied at start-up; any
other waits for the merchant's `flask --app app init-db`.

Statements are written once for SQLite and PostgreSQL: `{serial}` stands for
the one column type the two spell differently.

The schema they leave, one CREATE TABLE per table with every column, is
app/store/schema.sql, written by `schema_sql()` (tests/integration/test_store_schema.py
holds the two equal). After adding a migration, regenerate it with:

    python -c "from app.store.migrations import write_schema_sql; write_schema_sql()"
"""

import re
from dataclasses import dataclass, field
from pathlib import Path


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


# Made before any migration, by schema.py's `migrate`: which migrations were applied.
SCHEMA_MIGRATIONS_TABLE = ("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,"
                           " applied_at DOUBLE PRECISION NOT NULL)")

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
    Migration(6, "the merchant's notifications bounded per channel and minute: when each "
                 "was first sent, and the digest a folded one is counted in", (
        "ALTER TABLE notifications ADD COLUMN claimed_at DOUBLE PRECISION",
        "ALTER TABLE notifications ADD COLUMN folded_into BIGINT",
        "CREATE INDEX notifications_channel_claimed ON notifications (channel, claimed_at)",
        "CREATE INDEX notifications_folded ON notifications (folded_into)",
    )),
    Migration(7, "the exports answering customers' data requests (app/store/privacy.py)", (
        """CREATE TABLE privacy_exports (
            id              {serial},
            source          TEXT NOT NULL,
            data_request_id TEXT,
            customer_id     BIGINT,
            email           TEXT,
            created_at      DOUBLE PRECISION NOT NULL,
            body            TEXT NOT NULL
        )""",
        "CREATE INDEX privacy_exports_created ON privacy_exports (created_at)",
    )),
    Migration(8, "a guest's submissions per email address: a keyed hash of the address, "
                 "counted like client_ip", (
        "ALTER TABLE events ADD COLUMN guest_key TEXT",
        "CREATE INDEX events_guest_key ON events (guest_key, created_at)",
    )),
)


SCHEMA_SQL = Path(__file__).with_name("schema.sql")

_CREATE_TABLE = re.compile(r"CREATE TABLE (\w+) \((.*)\)", re.DOTALL)
_CREATE_INDEX = re.compile(r"CREATE (UNIQUE )?INDEX (\w+) ON (\w+) \((.*)\)", re.DOTALL)
_ADD_COLUMN = re.compile(r"ALTER TABLE (\w+) ADD COLUMN (\w+) (.*)", re.DOTALL)
_TABLE_CONSTRAINT = ("PRIMARY KEY", "UNIQUE", "FOREIGN KEY", "CHECK", "CONSTRAINT")


@dataclass
class _Table:
    name: str
    created_by: int
    columns: dict[str, str] = field(default_factory=dict)  # name: its type and constraints
    constraints: list[str] = field(default_factory=list)
    added_by: dict[str, int] = field(default_factory=dict)  # a column an ALTER added: its version
    indexes: list[str] = field(default_factory=list)


def _words(text: str) -> str:
    return " ".join(text.split())


def _split(body: str) -> list[str]:
    """A CREATE TABLE's body split at its top-level commas."""
    parts: list[str] = []
    depth = start = 0
    for i, char in enumerate(body):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    parts.append(body[start:])
    return [_words(part) for part in parts if part.strip()]


def _fold(migrations: tuple[Migration, ...]) -> dict[str, _Table]:
    """The tables (with their indexes) that `migrations` leave, in the order
    they were made: the statements this project's migrations use, read with
    a few patterns; any other statement is an error, to be taught here."""
    statements = [(0, SCHEMA_MIGRATIONS_TABLE)]
    statements += [(m.version, s) for m in migrations for s in m.statements]
    tables: dict[str, _Table] = {}
    for version, statement in statements:
        text = statement.strip()
        if match := _CREATE_TABLE.fullmatch(text):
            table = tables[match[1]] = _Table(match[1], version)
            for part in _split(match[2]):
                if part.upper().startswith(_TABLE_CONSTRAINT):
                    table.constraints.append(part)
                else:
                    name, _, rest = part.partition(" ")
                    table.columns[name] = rest
        elif match := _ADD_COLUMN.fullmatch(text):
            table = tables[match[1]]
            table.columns[match[2]] = _words(match[3])
            table.added_by[match[2]] = version
        elif match := _CREATE_INDEX.fullmatch(text):
            unique = "UNIQUE " if match[1] else ""
            tables[match[3]].indexes.append(
                f"CREATE {unique}INDEX {match[2]} ON {match[3]} ({_words(match[4])});")
        else:
            raise ValueError(f"schema_sql() cannot read migration {version}'s {text[:60]!r}:"
                             " teach app/store/migrations.py's _fold this statement")
    return tables


def schema_sql(migrations: tuple[Migration, ...] = MIGRATIONS) -> str:
    """The schema as `migrations` leave it, written for reading: each table's
    CREATE TABLE with every column (those an ALTER added marked with its
    migration), then its indexes. What app/store/schema.sql holds."""
    last = max((m.version for m in migrations), default=0)
    lines = [
        f"-- The event store's schema as migrations 1 to {last} leave it, for reading;",
        "-- the database is made by app/store/migrations.py, never from this file.",
        "-- Generated: after adding a migration, regenerate it with",
        '--   python -c "from app.store.migrations import write_schema_sql; write_schema_sql()"',
        "-- {serial} is an auto-numbered primary key, which each backend spells its own",
        "-- way (SqliteStore.SERIAL, PostgresStore.SERIAL).",
    ]
    for table in _fold(migrations).values():
        made = ("made before the migrations, by app/store/schema.py" if not table.created_by
                else f"migration {table.created_by}")
        lines += ["", f"-- {table.name}: {made}"]
        lines.append(f"CREATE TABLE {table.name} (")
        width = max(len(name) for name in table.columns)
        entries = [(f"{name.ljust(width)} {rest}", table.added_by.get(name))
                   for name, rest in table.columns.items()]
        entries += [(constraint, None) for constraint in table.constraints]
        for i, (entry, added_by) in enumerate(entries):
            comma = "," if i < len(entries) - 1 else ""
            note = "" if added_by is None else f"  -- migration {added_by}"
            lines.append(f"    {entry}{comma}{note}")
        lines.append(");")
        lines += table.indexes
    return "\n".join(lines) + "\n"


def write_schema_sql() -> None:
    """Write `schema_sql()` to app/store/schema.sql."""
    SCHEMA_SQL.write_text(schema_sql(), encoding="utf-8")
