"""The events table, and the answers table that keeps Shopify's answers to each
event's calls: a submission added, claimed, settled (with its answer and its
notifications, in one transaction), retried, listed for the merchant, and its
draft order's lifecycle (invoice, re-reads). Events and their answers are
written together by `settle`, so one module holds both.
"""

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from ..event import Event
from .batching import Added, Batcher, RateLimit, StoredPayload, Submission, write_batch
from .rows import Answer, AnswerShown, Connection, EventSummary
from .shared import (
    _ACTIVE,
    _COMPLETED,
    _FAILED,
    _PROCESSING,
    _QUEUED,
    Statements,
    _assignments,
    _event,
)

# The merchant's event log lists these, without the bulky cart and payload.
_SUMMARY = ("id, status, customer_id, line_count, attempts, draft_order_id,"
            " draft_order_name, error_code, error_detail, created_at, updated_at")


# Makes each store's Batcher once, whichever thread adds first.
_BATCHER_MADE = threading.Lock()


def stored_payload(payload: Mapping[str, Any]) -> StoredPayload:
    return StoredPayload(json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                         len(payload["draft_order"]["line_items"]))


class EventStatements(Statements):
    """Mixed into SqlStore."""

    if TYPE_CHECKING:  # notifications.py's, declared for the type checker only
        def _queue_notifications(self, conn: Connection, event_id: str, now: float,
                                 notifications: Iterable[Mapping[str, str]]) -> None: ...

    # --- Submissions (app/intake/routes.py). ---

    def add(self, event_id: str, received: str, payload: StoredPayload, customer_id: int | None,
            now: float, fingerprint: str | None = None, client_ip: str | None = None,
            dedupe_since: float | None = None, limits: Sequence[RateLimit] = ()) -> Added:
        """Store a submission, in the batch of its process's next transaction
        (batching.py): unless the same one (same fingerprint) arrived since
        `dedupe_since` and has not failed, or one of `limits` (RateLimit) is used
        up. Returns an Added saying which, once the transaction is committed; raises
        batching.Busy, storing nothing, when too many submissions wait already.

        `received` is the body as sent, or as much of it as the event keeps, for
        the merchant's event log; `payload` is a StoredPayload.
        """
        batcher: Batcher | None = self.__dict__.get("_batcher")
        if batcher is None:
            with _BATCHER_MADE:
                batcher = self.__dict__.setdefault("_batcher", Batcher(self._write_batch))
        return batcher.add(Submission(event_id, received, payload, customer_id, now,
                                      fingerprint, client_ip, dedupe_since, tuple(limits)))

    def _write_batch(self, batch: Sequence[Submission]) -> list[Added]:
        """A batch of submissions in one write transaction. The look-ups, the
        counts and the insert are one atomic step: on PostgreSQL the batch first
        locks its fingerprints and rate keys (SQLite lets one writer in at a time),
        so a double click cannot insert twice and a burst cannot overshoot a limit."""
        with self._connect(write=True) as conn:
            return write_batch(conn, batch, self.KEY_LOCKS)

    def get(self, event_id: str) -> Event | None:
        with self._connect() as conn:
            return _event(conn.execute("SELECT * FROM events WHERE id = ?", (event_id,)).fetchone())

    def answers(self, event_id: str) -> list[Answer]:
        with self._connect() as conn:
            rows = conn.execute("SELECT * FROM answers WHERE event_id = ? ORDER BY id",
                                (event_id,)).fetchall()
        return [cast(Answer, dict(row)) for row in rows]

    def latest_answers(self, event_id: str, count: int,
                       body_chars: int) -> tuple[list[AnswerShown], int]:
        """An event's latest `count` answers, oldest first, with each body cut to
        `body_chars` characters and its full length as `body_length`, and how many
        answers the event has: what its page shows, read in bounded memory."""
        rows, total = self._latest("answers", "id, event_id, at, method, url, status,"
                                   " SUBSTR(body, 1, ?) AS body, LENGTH(body) AS body_length",
                                   event_id, count, (body_chars,))
        return cast(list[AnswerShown], rows), total

    # --- Delivery (app/delivery/worker.py). ---

    def claim(self, owner: str, now: float, lease_seconds: float,
              post_window: float = 0.0) -> Event | None:
        """Lease the most overdue active event to `owner`, or return None; the
        event's `updated_at` says when (the worker reads its lookups by it).

        An event whose lease ran out (its worker died mid-flight) is due again at
        once, even though its worker may have set `next_attempt_at` ahead, at most
        `post_window` seconds, to when its POST's answer can no longer come (see
        mark_posting). That bound keeps the search on the (status,
        next_attempt_at) index rather than on every event waiting for a retry.
        """
        with self._connect(write=True) as conn:
            row = conn.execute(
                f"UPDATE events SET status = {_PROCESSING}, lease_owner = ?, lease_until = ?,"
                " updated_at = ?"
                " WHERE id = (SELECT id FROM events"
                f"             WHERE status IN ({_ACTIVE}) AND next_attempt_at <= ?"
                "               AND (lease_until IS NULL AND next_attempt_at <= ?"
                "                    OR lease_until <= ?)"
                f"            ORDER BY next_attempt_at LIMIT 1 {self.SKIP_LOCKED})"
                " RETURNING *",
                (owner, now + lease_seconds, now, now + post_window, now, now),
            ).fetchone()
        return _event(row)

    def renew_lease(self, event_id: str, owner: str, now: float, lease_seconds: float) -> bool:
        """Extend `owner`'s live lease on the event (the worker's heartbeat, while
        it delivers). False, changing nothing, when the lease is no longer its own."""
        with self._connect(write=True) as conn:
            return bool(conn.execute(
                "UPDATE events SET lease_until = ?"
                " WHERE id = ? AND lease_owner = ? AND lease_until > ?",
                (now + lease_seconds, event_id, owner, now),
            ).rowcount)

    def mark_posting(self, event_id: str, owner: str, now: float, lease_seconds: float,
                     answer_by: float) -> bool:
        """Record, right before a POST leaves, that Shopify may create a draft order
        for this event (whoever takes it over next must look before posting again)
        and that the POST's answer can come until `answer_by` (a look before then
        may miss a draft still being made), and renew the lease for the call.
        False, changing nothing, when the lease has run out or passed to another
        worker: then the POST must not leave."""
        return self._flag_call("maybe_posted", event_id, owner, now, lease_seconds, answer_by)

    def _flag_call(self, flag: str, event_id: str, owner: str, now: float, lease_seconds: float,
                   answer_by: float) -> bool:
        """Set `flag` (a column named by the caller, never by input), the time the
        call's answer can come until, and the lease, unless the lease is lost."""
        with self._connect(write=True) as conn:
            return bool(conn.execute(
                f"UPDATE events SET {flag} = 1, next_attempt_at = ?, lease_until = ?"
                " WHERE id = ? AND lease_owner = ? AND lease_until > ?",
                (answer_by, now + lease_seconds, event_id, owner, now),
            ).rowcount)

    def settle(self, event_id: str, owner: str, now: float,
               answer: Mapping[str, object] | None = None,
               notifications: Iterable[Mapping[str, str]] = (), **changes: object) -> bool:
        """Record Shopify's answer and the event's next state, releasing the lease,
        and queue the merchant's `notifications` (app/notifications/messages.py) in
        the same transaction: none is lost or half-written, whenever we crash.

        Returns False, changing nothing, when the lease is no longer `owner`'s:
        another worker has taken the event over and its word wins.
        """
        assignments, values = _assignments(changes)
        with self._connect(write=True) as conn:
            updated = conn.execute(
                f"UPDATE events SET lease_owner = NULL, lease_until = NULL, updated_at = ?"
                f"{assignments} WHERE id = ? AND lease_owner = ?",
                (now, *values, event_id, owner),
            ).rowcount
            if updated and answer is not None:
                conn.execute(
                    "INSERT INTO answers (event_id, at, method, url, status, body)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (event_id, now, answer["method"], answer["url"], answer["status"],
                     answer["body"]),
                )
            if updated:
                self._queue_notifications(conn, event_id, now, notifications)
        return bool(updated)

    def next_due_at(self, post_window: float = 0.0) -> float | None:
        """When the earliest active event becomes claimable, by `claim` with the
        same `post_window`, or None if none is active."""
        with self._connect() as conn:
            return cast(float | None, conn.execute(
                "SELECT MIN(CASE WHEN lease_until IS NULL THEN next_attempt_at"
                f"           ELSE {self.GREATEST}(lease_until, next_attempt_at - ?) END) AS due"
                f" FROM events WHERE status IN ({_ACTIVE})", (post_window,),
            ).fetchone()["due"])

    # --- The merchant's event log (app/web/admin.py) and `flask doctor`. ---

    def list_events(self, limit: int, offset: int = 0) -> list[EventSummary]:
        """One page of events, newest first (the id breaks ties, so pages never overlap)."""
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT {_SUMMARY} FROM events ORDER BY created_at DESC, id DESC"
                " LIMIT ? OFFSET ?", (limit, offset),
            ).fetchall()
        return [cast(EventSummary, dict(row)) for row in rows]

    def count_events(self) -> int:
        with self._connect() as conn:
            return cast(int, conn.execute("SELECT COUNT(*) AS n FROM events").fetchone()["n"])

    def retry(self, event_id: str, now: float) -> bool:
        """Queue a failed event again, as if new but keeping `attempts` and its answers;
        what a preparation read (stock, a company contact) is read again.

        Only a failed event moves (one UPDATE guarded by its status), so a retry
        can never disturb an event a worker holds; returns whether it moved.
        """
        with self._connect(write=True) as conn:
            updated = conn.execute(
                f"UPDATE events SET status = {_QUEUED}, error_code = NULL, error_detail = NULL,"
                " error_lines = NULL, prepared = NULL, failures = 0, throttles = 0,"
                " poll_url = NULL, poll_deadline = NULL,"
                " lease_owner = NULL, lease_until = NULL, next_attempt_at = ?, updated_at = ?"
                f" WHERE id = ? AND status = {_FAILED}",
                (now, now, event_id),
            ).rowcount
        return bool(updated)

    # --- A draft order's lifecycle (app/delivery/worker.py: its invoice, its re-reads). ---

    def mark_invoicing(self, event_id: str, owner: str, now: float, lease_seconds: float,
                       answer_by: float) -> bool:
        """Record, right before the invoice's send leaves, that Shopify may send it
        (whoever takes the event over re-reads the draft before sending again),
        as mark_posting does for the draft's POST; False when the send must not leave."""
        return self._flag_call("invoice_maybe_sent", event_id, owner, now, lease_seconds,
                               answer_by)

    def claim_reconcile(self, owner: str, now: float, lease_seconds: float) -> Event | None:
        """Lease to `owner` the completed event whose draft is most overdue for a
        re-read (reconcile_at <= now), or return None. The search runs on the
        events_reconcile index; on PostgreSQL SKIP LOCKED lets it pass over any
        row another transaction holds, so it never waits behind a submission or
        a claim. An idle worker asks twice a second, so it first looks without
        the write lock (SQLite's is the whole database's) whether any is due."""
        with self._connect() as conn:
            if conn.execute("SELECT 1 FROM events WHERE reconcile_at <= ? LIMIT 1",
                            (now,)).fetchone() is None:
                return None
        with self._connect(write=True) as conn:
            row = conn.execute(
                "UPDATE events SET lease_owner = ?, lease_until = ?"
                " WHERE id = (SELECT id FROM events"
                "             WHERE reconcile_at <= ? AND (lease_until IS NULL OR lease_until <= ?)"
                f"              AND status = {_COMPLETED}"
                f"            ORDER BY reconcile_at LIMIT 1 {self.SKIP_LOCKED})"
                " RETURNING *",
                (owner, now + lease_seconds, now, now),
            ).fetchone()
        return _event(row)
