"""The notifications table: the outbox of the merchant's notifications, queued
in the transaction that settles an event (or records a token problem), then
claimed, sent and finished by app/notifications/sender.py.

Each channel is bounded (issue 18): a claim counts the channel's notifications
first sent in the last WINDOW_SECONDS, and once they reach the bound, the due
ones never sent are folded (kept, status folded, never sent) into the channel's
digest, one row of kind DIGEST due when the window has room again; the sender
words it then, with how many it folded. The count, the folding and the claim
are one transaction, under one advisory lock on PostgreSQL (SQLite's writers
take turns), so the bound holds across every process's notifier.
"""

from collections.abc import Iterable, Mapping
from typing import cast

from ..states import NotificationStatus
from .rows import Connection, Notification, NotificationShown
from .shared import _PENDING, Statements, _literals, _lock_ids

DIGEST = "digest"       # the kind of a digest's row
WINDOW_SECONDS = 60.0   # the bound counts the sends of the last minute
_FOLDED = _literals(NotificationStatus.FOLDED)
_BOUND_LOCK = "notifications:bound"


class NotificationStatements(Statements):
    """Mixed into SqlStore."""

    # --- Notifications (app/notifications: messages.py builds them, sender.py sends them). ---

    def _queue_notifications(self, conn: Connection, event_id: str, now: float,
                             notifications: Iterable[Mapping[str, str]]) -> None:
        """`settle`'s outbox: each row (kind, channel, body) pending, due now."""
        for row in notifications:
            _insert(conn, event_id, row["kind"], row["channel"], row["body"], now, now)

    def claim_notification(self, now: float, lease_seconds: float,
                           per_minute: int = 0) -> Notification | None:
        """Take the most overdue pending notification, counting the attempt, and
        put it off `lease_seconds`: no other notifier sends it meanwhile, and a
        notifier that dies while sending leaves it due again then. Its new
        `next_attempt_at` is the claim's token for `finish_notification`.
        None when none is due. With `per_minute` (NOTIFY_MAX_PER_MINUTE), a
        channel's due notifications past that bound are folded first."""
        with self._connect(write=True) as conn:
            if per_minute > 0:
                self._fold_over_bound(conn, now, per_minute)
            row = conn.execute(
                "UPDATE notifications SET next_attempt_at = ?, attempts = attempts + 1,"
                " claimed_at = COALESCE(claimed_at, ?)"
                " WHERE id = (SELECT id FROM notifications"
                f"             WHERE status = {_PENDING} AND next_attempt_at <= ?"
                f"            ORDER BY next_attempt_at LIMIT 1 {self.SKIP_LOCKED})"
                " RETURNING *", (now + lease_seconds, now, now),
            ).fetchone()
        return None if row is None else cast(Notification, dict(row))

    def _fold_over_bound(self, conn: Connection, now: float, per_minute: int) -> None:
        """Fold the due, never sent notifications of each channel that sent
        `per_minute` in the last WINDOW_SECONDS into its digest (a retry was
        counted when first sent, and a digest is never counted nor folded)."""
        if self.KEY_LOCKS:
            conn.execute(self.KEY_LOCKS, (_lock_ids([_BOUND_LOCK]),))
        channels = [row["channel"] for row in conn.execute(
            "SELECT DISTINCT channel FROM notifications"
            f" WHERE status = {_PENDING} AND next_attempt_at <= ? AND claimed_at IS NULL"
            " AND kind <> ?", (now, DIGEST)).fetchall()]
        for channel in channels:
            sent = conn.execute(
                "SELECT COUNT(*) AS n, MIN(claimed_at) AS first FROM notifications"
                " WHERE channel = ? AND claimed_at > ? AND kind <> ?",
                (channel, now - WINDOW_SECONDS, DIGEST)).fetchone()
            if sent["n"] < per_minute:
                continue
            digest = self._open_digest(conn, channel, now, sent["first"] + WINDOW_SECONDS)
            conn.execute(
                f"UPDATE notifications SET status = {_FOLDED}, folded_into = ?"
                f" WHERE channel = ? AND status = {_PENDING} AND next_attempt_at <= ?"
                " AND claimed_at IS NULL AND kind <> ?", (digest, channel, now, DIGEST))

    def _open_digest(self, conn: Connection, channel: str, now: float, due: float) -> int:
        """The channel's digest still taking folds (never claimed), or a new one
        due at `due`, when the window has room again."""
        row = conn.execute(
            f"SELECT id FROM notifications WHERE channel = ? AND kind = ? AND status = {_PENDING}"
            " AND claimed_at IS NULL ORDER BY id LIMIT 1", (channel, DIGEST)).fetchone()
        if row is None:
            return _insert(conn, "", DIGEST, channel, "", due, now)
        return cast(int, row["id"])

    def folded(self, digest: int) -> tuple[int, float | None]:
        """How many notifications `digest` folded, and when the first of them was queued."""
        with self._connect() as conn:
            row = conn.execute("SELECT COUNT(*) AS n, MIN(created_at) AS first FROM notifications"
                               " WHERE folded_into = ?", (digest,)).fetchone()
        return row["n"], row["first"]

    def _prune_unmatched(self, before: float, batch: int) -> None:
        """The notifications about no event (digests, credentials problems, data
        requests' notices), which no event's pruning takes along, finished
        before `before`: at most one a channel a minute is made, so a batch each
        prune keeps up."""
        with self._connect(write=True) as conn:
            conn.execute(
                "DELETE FROM notifications WHERE id IN (SELECT id FROM notifications"
                f" WHERE event_id = '' AND status <> {_PENDING}"
                " AND next_attempt_at < ? LIMIT ?)", (before, batch))

    def finish_notification(self, claimed: Notification, status: str,
                            next_attempt_at: float | None = None,
                            last_error: str | None = None) -> bool:
        """Record a send's result (status sent, failed, or pending again at
        `next_attempt_at`) for the notification `claimed`, unless its lease ran
        out and another notifier claimed it since; returns whether it was recorded."""
        with self._connect(write=True) as conn:
            return bool(conn.execute(
                "UPDATE notifications SET status = ?, last_error = ?,"
                " next_attempt_at = COALESCE(?, next_attempt_at)"
                f" WHERE id = ? AND next_attempt_at = ? AND status = {_PENDING}",
                (status, last_error, next_attempt_at, claimed["id"],
                 claimed["next_attempt_at"]),
            ).rowcount)

    def next_notification_at(self) -> float | None:
        """When the earliest pending notification falls due, or None."""
        with self._connect() as conn:
            return cast(float | None, conn.execute(
                "SELECT MIN(next_attempt_at) AS due FROM notifications"
                f" WHERE status = {_PENDING}").fetchone()["due"])

    def notifications(self, event_id: str, count: int) -> tuple[list[NotificationShown], int]:
        """An event's latest `count` notifications, oldest first, without their
        bodies, and how many it has: what its page shows."""
        rows, total = self._latest("notifications", "id, kind, channel, status, attempts,"
                                   " next_attempt_at, last_error, created_at", event_id, count)
        return cast(list[NotificationShown], rows), total


def _insert(conn: Connection, event_id: str, kind: str, channel: str, body: str, due: float,
            now: float) -> int:
    """One pending notification, never tried, due at `due`: a message or a digest."""
    return cast(int, conn.execute(
        "INSERT INTO notifications (event_id, kind, channel, body, status, attempts,"
        f" next_attempt_at, created_at) VALUES (?, ?, ?, ?, {_PENDING}, 0, ?, ?) RETURNING id",
        (event_id, kind, channel, body, due, now)).fetchone()["id"])
