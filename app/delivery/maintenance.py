"""The worker's upkeep while idle: deleting the settled events older than
RETENTION_DAYS, batch by batch, giving way as soon as there is work. A mixin
of app/delivery/worker.py's Worker, whose store, clock and wake-up it uses.
"""

import logging
import threading
from collections.abc import Callable

from ..shopify import ShopifyBackend
from ..store.base import Pruned, SqlStore

log = logging.getLogger(__name__)

PRUNE_INTERVAL_SECONDS = 300  # how often an idle worker looks for events past retention
PRUNE_BATCH = 100  # events (or webhooks) deleted per transaction: about 15 ms of SQLite's
# write lock; batch after batch until none is left, giving way to due work between them


class Pruning:
    """Worker's pruning: needs `store`, `client`, `clock`, `retention_seconds`
    (0: keep every event), `_prune_at` and `_wake`."""

    store: SqlStore
    client: ShopifyBackend
    clock: Callable[[], float]
    retention_seconds: float
    _prune_at: float
    _wake: threading.Event

    def prune(self, go_on: Callable[[], bool] = lambda: True) -> Pruned | None:
        """Delete the settled events older than the retention period, batch by
        batch while `go_on()`; None when retention is off."""
        if not self.retention_seconds:
            return None
        return self.store.prune(self.clock() - self.retention_seconds, PRUNE_BATCH, go_on)

    def _prune_when_idle(self, stop: threading.Event) -> None:
        """Prune at most every PRUNE_INTERVAL_SECONDS, giving way between batches
        as soon as an event arrives or falls due; a pass cut short resumes at
        the next idle moment."""
        now = self.clock()
        if not self.retention_seconds or now < self._prune_at:
            return
        self._prune_at = now + PRUNE_INTERVAL_SECONDS  # after an error too: no retry storm
        pruned = self.prune(lambda: not (stop.is_set() or self._wake.is_set() or self._due()))
        assert pruned is not None  # retention is on
        if pruned.events or pruned.webhooks or pruned.exports:
            log.info("retention: deleted %d settled events and their %d answers, %d webhooks"
                     " about no event, %d data-request exports", pruned.events, pruned.answers,
                     pruned.webhooks, pruned.exports)
        if not pruned.done:
            self._prune_at = now

    def _due(self) -> bool:
        due = self.store.next_due_at(post_window=self.client.timeout)
        return due is not None and due <= self.clock()
