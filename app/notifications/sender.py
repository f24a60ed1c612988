"""The outbox's sender: a daemon thread beside the delivery worker, on its own
store connection, that sends the notifications the worker's settles queued.

A hung webhook or mail server holds up only this thread, for at most its
timeout; deliveries never wait for it. A notification is claimed for
LEASE_SECONDS before it is sent, so two notifiers never send it at the same
time; one whose process dies mid-send is sent again once that lease ends
(at least once, then). A failed send is retried with app/retry.py's backoff
(2 s, 4 s, ... up to 5 minutes), and kept as failed after the fifth attempt.
Each channel sends at most NOTIFY_MAX_PER_MINUTE in any minute; the store folds
the rest into one digest a channel (app/store/notifications.py, digest.py).
"""

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from ..event import Event
from ..retry import Retries, backoff
from ..states import NotificationStatus
from ..store.base import SqlStore
from ..store.notifications import DIGEST
from ..store.rows import Notification
from . import channels, messages
from .digest import digest_body

log = logging.getLogger(__name__)

LEASE_SECONDS = 60     # longer than any one send, with its timeouts
IDLE_POLL_SECONDS = 1.0
# Attempts, and the backoff between them (app/retry.py): 2 s, 4 s, 8 s, 16 s.
POLICY = Retries(max_attempts=5)


class Notifier:
    def __init__(self, store: SqlStore, settings: Mapping[str, Any],
                 clock: Callable[[], float] = time.time, policy: Retries = POLICY):
        self.store = store
        self.settings = settings
        self.clock = clock
        self.policy = policy

    def messages(self, event: Event, changes: Mapping[str, object],
                 now: float) -> list[dict[str, str]]:
        """What the worker's settle of `event` with `changes` queues (messages.py); none,
        rather than no settle, should building them ever fail."""
        try:
            return messages.messages(event, changes, self.settings, now)
        except Exception:
            log.exception("event %s: the merchant's notification could not be built",
                          event["id"])
            return []

    def run_once(self) -> bool:
        """Send one due notification and record how it went; False when none is due."""
        claimed = self.store.claim_notification(
            self.clock(), LEASE_SECONDS, self.settings.get("NOTIFY_MAX_PER_MINUTE") or 0)
        if claimed is None:
            return False
        try:
            self._send(claimed)
        except Exception as error:
            self._failed(claimed, error)
        else:
            self.store.finish_notification(claimed, NotificationStatus.SENT)
        return True

    def _send(self, claimed: Notification) -> None:
        settings, body = self.settings, claimed["body"]
        if claimed["kind"] == DIGEST:  # worded now: its count is final once claimed
            body = digest_body(*self.store.folded(claimed["id"]), settings, self.clock())
        if claimed["channel"] == messages.WEBHOOK:
            channels.send_webhook(settings["NOTIFY_WEBHOOK_URL"], body)
        else:
            channels.send_email(settings["SMTP_URL"], settings["NOTIFY_EMAIL"], body)

    def _failed(self, claimed: Notification, error: Exception) -> None:
        """Reschedule the notification, or give it up after its last attempt."""
        # A SendError's words are safe to keep; anything else is named by its type only.
        reason = str(error) if isinstance(error, channels.SendError) else type(error).__name__
        attempts = claimed["attempts"]
        log.warning("event %s: %s notification, attempt %d: %s", claimed["event_id"],
                    claimed["channel"], attempts, reason)
        if attempts >= self.policy.max_attempts:
            self.store.finish_notification(claimed, NotificationStatus.FAILED,
                                           last_error=reason)
        else:
            self.store.finish_notification(claimed, NotificationStatus.PENDING,
                                           last_error=reason, next_attempt_at=self.clock()
                                           + backoff(attempts, self.policy))

    def run_forever(self, stop: threading.Event) -> None:
        """Send what is due, then wait for the next due time (at most a second:
        other processes' workers queue notifications too)."""
        while not stop.is_set():
            try:
                while not stop.is_set() and self.run_once():
                    pass
                due = self.store.next_notification_at()
            except Exception:
                log.exception("notifier loop error; retrying")
                due = None
            wait = IDLE_POLL_SECONDS if due is None else due - self.clock()
            stop.wait(min(max(wait, 0.001), IDLE_POLL_SECONDS))

    def start(self, stop: threading.Event) -> threading.Thread | None:
        """Run in a daemon thread until `stop` is set, when a channel is configured."""
        if not messages.channels(self.settings):
            return None
        thread = threading.Thread(target=self.run_forever, args=(stop,),
                                  name="merchant-notifier", daemon=True)
        thread.start()
        return thread
