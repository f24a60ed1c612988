"""Durable events: the one place that knows SQL.

The receiver adds an event and the worker claims, settles and re-schedules it,
through one interface (`base.SqlStore`) with two backends: a SQLite file, the
zero-set-up default, and PostgreSQL, which several processes on several
machines can share. `open_store(DATABASE_URL)` picks one.

The modules: migrations.py (the schema, as an ordered list of changes),
base.py (SqlStore, composing the statements), one module of statements per
table, each a mixin of shared.py's `Statements` (schema.py: schema_migrations
and applying migrations; events.py: events and answers; webhooks.py:
shopify_webhooks; notifications.py: notifications, the outbox; logins.py:
login_failures and login_lockouts; credentials.py: shopify_credentials and
oauth_states; retention.py: deleting old events across them; marks.py: when
watched events last changed), batching.py (submissions written in batches, one
transaction each), rows.py (the rows they return, as types), and the backends,
sqlite.py and postgres.py.

May import: the base modules (config, states, ids, lifecycle, retry) only.
"""

from ..config import database_kind
from .base import Added, RateLimit, SqlStore, StoredPayload, stored_payload
from .migrations import MIGRATIONS, Migration, SchemaUpgradeRequired
from .postgres import PostgresStore
from .sqlite import SqliteStore

__all__ = ["MIGRATIONS", "Added", "Migration", "PostgresStore", "RateLimit",
           "SchemaUpgradeRequired", "SqliteStore", "open_store",
           "StoredPayload", "stored_payload"]


def open_store(url: str) -> SqlStore:
    """The store for a DATABASE_URL as app/config.py checked it."""
    if database_kind(url) == "postgresql":
        return PostgresStore(url)
    return SqliteStore(url.removeprefix("sqlite:///"))
