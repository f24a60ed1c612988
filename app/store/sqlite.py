"""The event store in a SQLite file: the zero-set-up default, for one machine.

WAL mode with synchronous=FULL: a 202 is only answered after the event is on
disk, and readers (the status endpoint) never block writers. Every write takes
the database's write lock up front (BEGIN IMMEDIATE), which serializes claims,
a submission's resubmission look-up, rate counts and insert, and
migrations alike.

Writers queue for that lock on a Python lock (threads of one process) and on
an flock()ed file beside the database (processes of one machine) first: the
kernel then hands the lock over the moment it is free, where SQLite's own busy
handler would poll the file lock in sleeps of 1 ms growing to 100 ms. Each
thread keeps its connection open.

Submissions are written in batches (batching.py), since the flush to disk at
each commit is what bounds how many events a second one file takes: while one
request thread of a process writes a batch, the submissions arriving meanwhile
gather into the next, and each is answered 202 only once the commit carrying it
is done.
"""

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from .base import SqlStore


class SqliteStore(SqlStore):
    GREATEST = "MAX"
    SKIP_LOCKED = ""
    KEY_LOCKS = None  # BEGIN IMMEDIATE already lets one writer in at a time
    TABLES = "SELECT name FROM sqlite_master WHERE type = 'table'"
    SERIAL = "INTEGER PRIMARY KEY AUTOINCREMENT"
    # Erased rows' bytes: zeroed as they are deleted (secure_delete, below), then
    # gone from the WAL too once it is checkpointed and truncated (privacy.py).
    SCRUB_DATABASE = "PRAGMA wal_checkpoint(TRUNCATE)"

    def __init__(self, path: str) -> None:
        self.path = path
        self._writing = threading.Lock()
        self._local = threading.local()
        self._lock_file: TextIO | None = None

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection to `path` (opened again if `path` changed)."""
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.path != self.path:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                   check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA secure_delete=ON")  # no deleted row's bytes left in free space
            self._local.conn, self._local.path = conn, self.path
        return conn

    @contextmanager
    def _connect(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        if not write:
            yield conn
            return
        with self._writing, self._transaction() as conn:
            yield conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding the machine-wide lock; the caller holds
        the process's write lock."""
        conn = self._connection()
        with self._machine_lock():
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def _machine_lock(self) -> Iterator[None]:
        """The machine's processes take turns here, on the flock()ed file."""
        if self._lock_file is None:
            self._lock_file = open(f"{self.path}.lock", "a")  # kept open: flock is per file
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    @contextmanager
    def _migrating(self) -> Iterator[sqlite3.Connection]:
        """The schema's transaction, after switching a new file to WAL.

        The switch too waits its turn on the machine-wide lock: two processes
        switching a new file at once find each other's SQLite lock taken and one
        gets "database is locked" at once (SQLite does not wait there, since
        waiting could deadlock), which would stop that process's start-up.
        """
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        with self._writing:
            with self._machine_lock():
                self._connection().execute("PRAGMA journal_mode=WAL")  # kept by the file
            with self._transaction() as conn:
                yield conn

