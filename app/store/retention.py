"""Retention: deleting settled events with what hangs on them (answers,
notifications, Shopify webhooks), and old webhooks about no event. It owns no
table; it deletes across the event's, in one transaction per batch, so it is a
module of its own rather than a part of any one table's.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from .shared import _PENDING, _SETTLED, Statements


class Pruned(NamedTuple):
    """What `prune` deleted, and whether it found nothing more to delete."""
    events: int
    answers: int
    done: bool
    webhooks: int = 0  # webhooks about no event of ours
    exports: int = 0   # data requests' exports (privacy_exports)


class RetentionStatements(Statements):
    """Mixed into SqlStore."""

    if TYPE_CHECKING:  # notifications.py's, declared for the type checker only
        def _prune_unmatched(self, before: float, batch: int) -> None: ...

    # --- Retention (the idle worker and `flask --app app prune`). ---

    def prune(self, before: float, batch: int,
              go_on: Callable[[], bool] = lambda: True) -> Pruned:
        """Delete the settled (completed or failed) events last changed before
        `before`, with their answers, notifications and Shopify webhooks, then
        every webhook about no event received before then, the data requests'
        exports and the notifications about no event (notifications.py's)
        finished before then;
        `batch` rows to a transaction so that no submission or claim waits long
        behind it; between batches, stop once `go_on()` is false (`done` says
        whether all were deleted). Queued and processing events are never
        deleted."""
        events = answers = webhooks = 0
        self._prune_unmatched(before, batch)  # notifications.py's
        while True:
            removed, removed_answers = self._prune_batch(before, batch)
            events, answers = events + removed, answers + removed_answers
            if removed < batch:
                break
            if not go_on():
                return Pruned(events, answers, False)
        while True:
            removed = self._prune_unmatched_webhooks(before, batch)
            webhooks += removed
            if removed < batch:
                break
            if not go_on():
                return Pruned(events, answers, False, webhooks)
        with self._connect(write=True) as conn:
            exports = conn.execute("DELETE FROM privacy_exports WHERE created_at < ?",
                                   (before,)).rowcount
        return Pruned(events, answers, True, webhooks, exports)

    def _prune_batch(self, before: float, batch: int) -> tuple[int, int]:
        # A settled event was due (next_attempt_at) before it was claimed and
        # settled (updated_at): the redundant bound lets the index on (status,
        # next_attempt_at) reach the old events without reading every recent one.
        with self._connect(write=True) as conn:
            ids = [row["id"] for row in conn.execute(
                f"SELECT id FROM events WHERE status IN ({_SETTLED})"
                " AND next_attempt_at < ? AND updated_at < ?"
                f" LIMIT ? {self.SKIP_LOCKED}", (before, before, batch))]
            if not ids:
                return 0, 0
            marks = ", ".join("?" * len(ids))
            answers = conn.execute(f"DELETE FROM answers WHERE event_id IN ({marks})",
                                   ids).rowcount
            conn.execute(f"DELETE FROM notifications WHERE event_id IN ({marks})", ids)
            conn.execute(f"DELETE FROM shopify_webhooks WHERE event_id IN ({marks})", ids)
            conn.execute(f"DELETE FROM events WHERE id IN ({marks})", ids)
        return len(ids), answers

    def _prune_unmatched_webhooks(self, before: float, batch: int) -> int:
        """A batch of the webhooks about no event of ours (ignored, or compliance
        webhooks acted on), received before `before`: kept until then, without
        their bodies, only so that Shopify's retries of them are known."""
        with self._connect(write=True) as conn:
            return conn.execute(
                "DELETE FROM shopify_webhooks WHERE id IN (SELECT id FROM shopify_webhooks"
                f" WHERE event_id IS NULL AND status <> {_PENDING} AND received_at < ?"
                " LIMIT ?)", (before, batch)).rowcount
