"""The event store in a SQLite file: the zero-set-up default, for one machine.

WAL mode with synchronous=FULL: a 202 is only answered after the event is on
disk, and readers (the status endpoint) never block writers. Every write takes
the database's write lock up front (BEGIN IMMEDIATE), which serializes claims,
dedupe look-ups and migrations alike.
"""

import os
import sqlite3
from contextlib import contextmanager

from .base import SqlStore


class SqliteStore(SqlStore):
    GREATEST = "MAX"
    SKIP_LOCKED = ""
    FINGERPRINT_LOCK = None  # BEGIN IMMEDIATE already lets one writer in at a time
    TABLES = "SELECT name FROM sqlite_master WHERE type = 'table'"
    SERIAL = "INTEGER PRIMARY KEY AUTOINCREMENT"

    def __init__(self, path):
        self.path = path

    @contextmanager
    def _connect(self, write=False):
        # A connection per call: opening a local file costs microseconds.
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("PRAGMA synchronous=FULL")
            if write:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            else:
                yield conn
        finally:
            conn.close()

    @contextmanager
    def _migrating(self):
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")  # kept by the file from then on
        with self._connect(write=True) as conn:
            yield conn
