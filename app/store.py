"""Durable events: the one place that knows SQL.

The receiver adds an event and the worker claims, settles and re-schedules it.
Everything goes through the small `Store` interface below, so a PostgreSQL
store can stand beside this SQLite one without the callers changing.

SQLite runs in WAL mode with synchronous=FULL: a 202 is only answered after
the event is on disk, and readers (the status endpoint) never block writers.
"""

import json
import os
import sqlite3
from contextlib import contextmanager

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id               TEXT PRIMARY KEY,
    status           TEXT NOT NULL,
    customer_id      INTEGER,
    line_count       INTEGER NOT NULL,
    received         TEXT NOT NULL,
    payload          TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    failures         INTEGER NOT NULL DEFAULT 0,
    throttles        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  REAL NOT NULL,
    lease_owner      TEXT,
    lease_until      REAL,
    poll_url         TEXT,
    poll_deadline    REAL,
    draft_order_id   INTEGER,
    draft_order_name TEXT,
    invoice_url      TEXT,
    error_code       TEXT,
    error_detail     TEXT,
    fingerprint      TEXT,
    client_ip        TEXT,
    maybe_posted     INTEGER NOT NULL DEFAULT 0,
    created_at       REAL NOT NULL,
    updated_at       REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS events_due ON events (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS events_created ON events (created_at);
CREATE INDEX IF NOT EXISTS events_fingerprint ON events (fingerprint, created_at);
CREATE INDEX IF NOT EXISTS events_client_ip ON events (client_ip, created_at);
CREATE INDEX IF NOT EXISTS events_customer ON events (customer_id, created_at);
CREATE TABLE IF NOT EXISTS answers (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id  TEXT NOT NULL REFERENCES events (id),
    at        REAL NOT NULL,
    method    TEXT NOT NULL,
    url       TEXT NOT NULL,
    status    INTEGER,
    body      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_event ON answers (event_id, id);
"""

# Columns the worker may change when it settles an event.
_SETTLEABLE = {
    "status", "attempts", "failures", "throttles", "next_attempt_at", "poll_url",
    "poll_deadline", "draft_order_id", "draft_order_name", "invoice_url",
    "error_code", "error_detail", "maybe_posted",
}

# Columns a submission rate can be counted by.
_RATE_KEYS = {"client_ip", "customer_id"}


def _event(row):
    if row is None:
        return None
    event = dict(row)
    event["received"] = json.loads(event["received"])
    event["payload"] = json.loads(event["payload"])
    return event


class Store:
    def __init__(self, path):
        self.path = path

    @contextmanager
    def _connect(self, write=False):
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("PRAGMA synchronous=FULL")
            if write:
                # Take the write lock up front so two claimers serialize
                # instead of both reading the same due event.
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

    def init_schema(self):
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)

    def ping(self):
        with self._connect() as conn:
            conn.execute("SELECT 1 FROM events LIMIT 1").fetchall()

    def add(self, event_id, received, payload, customer_id, now, fingerprint=None,
            client_ip=None, dedupe_since=None):
        """Store a submission, unless the same one (same fingerprint) arrived
        since `dedupe_since`: return (the id that stands for it, whether it is new).

        The look-up and the insert share one write transaction, so a double
        click's two requests cannot both insert.
        """
        with self._connect(write=True) as conn:
            if fingerprint is not None and dedupe_since is not None:
                row = conn.execute(
                    "SELECT id FROM events WHERE fingerprint = ? AND created_at >= ?"
                    " ORDER BY created_at DESC LIMIT 1", (fingerprint, dedupe_since),
                ).fetchone()
                if row is not None:
                    return row["id"], False
            conn.execute(
                "INSERT INTO events (id, status, customer_id, line_count, received, payload,"
                " fingerprint, client_ip, next_attempt_at, created_at, updated_at)"
                " VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (event_id, customer_id, len(payload["draft_order"]["line_items"]),
                 json.dumps(received), json.dumps(payload), fingerprint, client_ip,
                 now, now, now),
            )
        return event_id, True

    def submissions_since(self, key, value, since):
        """How many events `key` (client_ip or customer_id) made since `since`,
        and when the oldest of them arrived (None when there are none)."""
        if key not in _RATE_KEYS:
            raise ValueError(f"not a rate key: {key}")
        with self._connect() as conn:
            row = conn.execute(
                f"SELECT COUNT(*), MIN(created_at) FROM events WHERE {key} = ? AND created_at >= ?",
                (value, since),
            ).fetchone()
        return row[0], row[1]

    def mark_posting(self, event_id, owner):
        """Record, before a POST leaves, that Shopify may create a draft order for
        this event: whoever takes it over next must look before posting again."""
        with self._connect(write=True) as conn:
            return bool(conn.execute(
                "UPDATE events SET maybe_posted = 1 WHERE id = ? AND lease_owner = ?",
                (event_id, owner),
            ).rowcount)

    def get(self, event_id):
        with self._connect() as conn:
            return _event(conn.execute("SELECT * FROM events WHERE id = ?", (event_id,)).fetchone())

    def answers(self, event_id):
        with self._connect() as conn:
            rows = conn.execute("SELECT * FROM answers WHERE event_id = ? ORDER BY id",
                                (event_id,)).fetchall()
        return [dict(row) for row in rows]

    def claim(self, owner, now, lease_seconds):
        """Lease the most overdue active event to `owner`, or return None.

        An event whose lease ran out (its worker died mid-flight) is due again.
        """
        with self._connect(write=True) as conn:
            row = conn.execute(
                "UPDATE events SET status = 'processing', lease_owner = ?, lease_until = ?,"
                " updated_at = ?"
                " WHERE id = (SELECT id FROM events"
                "             WHERE status IN ('queued', 'processing') AND next_attempt_at <= ?"
                "               AND (lease_until IS NULL OR lease_until <= ?)"
                "             ORDER BY next_attempt_at LIMIT 1)"
                " RETURNING *",
                (owner, now + lease_seconds, now, now, now),
            ).fetchone()
        return _event(row)

    def settle(self, event_id, owner, now, answer=None, **changes):
        """Record Shopify's answer and the event's next state, releasing the lease.

        Returns False, changing nothing, when the lease is no longer `owner`'s:
        another worker has taken the event over and its word wins.
        """
        unknown = set(changes) - _SETTLEABLE
        if unknown:
            raise ValueError(f"not settleable: {sorted(unknown)}")
        assignments = "".join(f", {column} = ?" for column in changes)
        with self._connect(write=True) as conn:
            updated = conn.execute(
                f"UPDATE events SET lease_owner = NULL, lease_until = NULL, updated_at = ?"
                f"{assignments} WHERE id = ? AND lease_owner = ?",
                (now, *changes.values(), event_id, owner),
            ).rowcount
            if updated and answer is not None:
                conn.execute(
                    "INSERT INTO answers (event_id, at, method, url, status, body)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (event_id, now, answer["method"], answer["url"], answer["status"],
                     answer["body"]),
                )
        return bool(updated)

    def next_due_at(self):
        """When the earliest active event becomes claimable, or None if none is active."""
        with self._connect() as conn:
            return conn.execute(
                "SELECT MIN(MAX(next_attempt_at, COALESCE(lease_until, 0))) FROM events"
                " WHERE status IN ('queued', 'processing')"
            ).fetchone()[0]

    # --- The merchant's event log (app/admin.py) and `flask doctor`. ---

    _SUMMARY = ("id, status, customer_id, line_count, attempts, draft_order_id,"
                " draft_order_name, error_code, error_detail, created_at, updated_at")

    def list_events(self, limit, offset=0):
        """One page of events, newest first, without the bulky cart and payload."""
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT {self._SUMMARY} FROM events ORDER BY created_at DESC, rowid DESC"
                " LIMIT ? OFFSET ?", (limit, offset),
            ).fetchall()
        return [dict(row) for row in rows]

    def count_events(self):
        with self._connect() as conn:
            return conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    def retry(self, event_id, now):
        """Queue a failed event again, as if new but keeping `attempts` and its answers.

        Only a failed event moves (one UPDATE guarded by its status), so a retry
        can never disturb an event a worker holds; returns whether it moved.
        """
        with self._connect(write=True) as conn:
            updated = conn.execute(
                "UPDATE events SET status = 'queued', error_code = NULL, error_detail = NULL,"
                " failures = 0, throttles = 0, poll_url = NULL, poll_deadline = NULL,"
                " lease_owner = NULL, lease_until = NULL, next_attempt_at = ?, updated_at = ?"
                " WHERE id = ? AND status = 'failed'",
                (now, now, event_id),
            ).rowcount
        return bool(updated)

    def missing_tables(self):
        """Tables of the schema that the database lacks (none once init_schema ran)."""
        with self._connect() as conn:
            present = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        return sorted({"events", "answers"} - present)
