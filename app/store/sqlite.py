"""The event store in a SQLite file: the zero-set-up default, for one machine.

WAL mode with synchronous=FULL: a 202 is only answered after the event is on
disk, and readers (the status endpoint) never block writers. Every write takes
the database's write lock up front (BEGIN IMMEDIATE), which serializes claims,
dedupe look-ups and migrations alike.

The threads of one process queue for that lock on a Python lock first: handing
it over is then immediate, where SQLite's own busy handler would poll the file
lock in sleeps of up to 100 ms. Each thread keeps its connection open.
"""

import os
import sqlite3
import threading
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
        self._writing = threading.Lock()
        self._local = threading.local()

    def _connection(self):
        """This thread's connection to `path` (opened again if `path` changed)."""
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.path != self.path:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                   check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA synchronous=FULL")
            self._local.conn, self._local.path = conn, self.path
        return conn

    @contextmanager
    def _connect(self, write=False):
        conn = self._connection()
        if not write:
            yield conn
            return
        with self._writing:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def _migrating(self):
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")  # kept by the file from then on
        with self._connect(write=True) as conn:
            yield conn
