"""The notifications table: the outbox of the merchant's notifications, queued
in the transaction that settles an event (or records a token problem), then
claimed, sent and finished by app/notifications/sender.py.
"""

from collections.abc import Iterable, Mapping
from typing import cast

from .rows import Connection, Notification, NotificationShown
from .shared import _PENDING, Statements


class NotificationStatements(Statements):
    """Mixed into SqlStore."""

    # --- Notifications (app/notifications: messages.py builds them, sender.py sends them). ---

    def _queue_notifications(self, conn: Connection, event_id: str, now: float,
                             notifications: Iterable[Mapping[str, str]]) -> None:
        """`settle`'s outbox: each row (kind, channel, body) pending, due now."""
        for row in notifications:
            conn.execute(
                "INSERT INTO notifications (event_id, kind, channel, body, status, attempts,"
                f" next_attempt_at, created_at) VALUES (?, ?, ?, ?, {_PENDING}, 0, ?, ?)",
                (event_id, row["kind"], row["channel"], row["body"], now, now),
            )

    def claim_notification(self, now: float, lease_seconds: float) -> Notification | None:
        """Take the most overdue pending notification, counting the attempt, and
        put it off `lease_seconds`: no other notifier sends it meanwhile, and a
        notifier that dies while sending leaves it due again then. Its new
        `next_attempt_at` is the claim's token for `finish_notification`.
        None when none is due."""
        with self._connect(write=True) as conn:
            row = conn.execute(
                "UPDATE notifications SET next_attempt_at = ?, attempts = attempts + 1"
                " WHERE id = (SELECT id FROM notifications"
                f"             WHERE status = {_PENDING} AND next_attempt_at <= ?"
                f"            ORDER BY next_attempt_at LIMIT 1 {self.SKIP_LOCKED})"
                " RETURNING *", (now + lease_seconds, now),
            ).fetchone()
        return None if row is None else cast(Notification, dict(row))

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
