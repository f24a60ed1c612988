"""Durable events: the one place that knows SQL.

The receiver adds an event and the worker claims, settles and re-schedules it,
through one interface (`base.SqlStore`) with two backends: a SQLite file, the
zero-set-up default, and PostgreSQL, which several processes on several
machines can share. `open_store(DATABASE_URL)` picks one.

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
