"""Delivery: claim a due event, make its one Shopify call, settle what comes next.

No thread ever sleeps on an event's behalf: a 202 or a 429 writes the next
attempt time into the store and releases the lease, so a restart mid-poll
loses nothing and the same worker serves other events meanwhile.

Exactly one draft order per event: every draft carries the event id as a note
attribute, and the event is flagged `maybe_posted` before each POST leaves.
Whoever next holds a flagged event (after a timeout, a dropped connection, a
5xx or a worker killed mid-call) first looks for the marked draft, and posts
again only once Shopify's list, read after the POST's answer could still come,
shows there is none.

Once the draft exists, and SEND_INVOICE asks for it, the event stays active
for one more call, the invoice, sent exactly once by the same rule: the event
is flagged `invoice_maybe_sent` before the send leaves, and a flagged event
re-reads the draft (did Shopify record the invoice?) before sending again.

A completed event's draft is then re-read on a widening schedule
(app/lifecycle.py) in case Shopify's webhooks never come: one draft at a time,
only when no active event is due and the pacer's bucket is at most half used,
so creation always comes first within the same budget.

A worker's heartbeat renews the lease of the event it holds, so a live worker
keeps its event however slow Shopify is, and a killed one's event is taken
over one lease (LEASE_SECONDS) after its last renewal. Whatever goes wrong
while an event is held, the event is rescheduled like a failed call at once.

What comes next after each call is decided by pure functions
(app/delivery/transitions.py); pruning while idle is app/delivery/maintenance.py's.
"""

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from ..event import Event
from ..notifications.sender import Notifier
from ..shopify import Answer, Outcome, ShopifyBackend
from ..shopify.tokens import CredentialsUnavailable, TokenUnavailable
from ..states import CallKind, OutcomeKind
from ..store.base import SqlStore
from .maintenance import Pruning
from .transitions import Changes, FollowUp, Policy, call_kind, next_state, reconcile_state
from .webhooks import apply_pending

log = logging.getLogger(__name__)

IDLE_POLL_SECONDS = 0.5
LOOKUP_MARGIN_SECONDS = 300  # clock skew between us and Shopify's updated_at


class Mark(Protocol):
    """The store's flag set right before a call that may change the shop leaves
    (SqlStore.mark_posting, mark_invoicing): False when the lease is lost."""

    def __call__(self, event_id: str, owner: str, now: float, lease_seconds: float,
                 answer_by: float) -> bool: ...


class Worker(Pruning):
    def __init__(self, store: SqlStore, client: ShopifyBackend, policy: Policy,
                 lease_seconds: float, clock: Callable[[], float] = time.time,
                 retention_seconds: float = 0, follow_up: FollowUp = FollowUp(),
                 notifier: Notifier | None = None) -> None:
        self.store = store
        self.client = client
        self.policy = policy
        self.follow_up = follow_up
        self.lease_seconds = lease_seconds
        self.clock = clock
        self.retention_seconds = retention_seconds  # 0: keep every event
        self._prune_at = 0.0
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = threading.Event()
        self._held: str | None = None  # the id of the event being delivered, for the heartbeat
        self.notifier = notifier  # notifications.sender: tells the merchant, in its own thread

    def notify(self) -> None:
        """Called by the receiver after a commit, so pickup needs no polling."""
        self._wake.set()

    def run_once(self) -> bool:
        """Deliver one due event, or else re-read one draft due for it; return
        False when neither is due."""
        if self.client.tokens.waiting_until() > self.clock():
            return False  # no token until the merchant's setup is fixed: carts wait
        event = self.store.claim(self.owner, self.clock(), self.lease_seconds,
                                 post_window=self.client.timeout)
        if event is not None:
            self._hold(event, self._deliver, self._delivery_failed, self._delivery_waits)
            return True
        event = self._claim_reconcile()
        if event is None:
            return False
        self._hold(event, self._reconcile, self._reconcile_failed, self._reconcile_waits)
        return True

    def _hold(self, event: Event, work: Callable[[Event], None],
              failed: Callable[[Event, Outcome], None],
              waits: Callable[[Event, CredentialsUnavailable], None]) -> None:
        """Do `work(event)` under the heartbeat. A token endpoint that failed, or
        anything unforeseen (an answer we cannot store, a database error), counts
        as a failed call: `failed(event, outcome)` settles the event now instead
        of waiting out its lease. No token for want of the merchant's setup is
        no failure of the event's: `waits(event, problem)` puts it back as it was."""
        self._held = event["id"]
        try:
            work(event)
        except TokenUnavailable as error:
            log.warning("event %s: no access token: %s", event["id"], error)
            failed(event, Outcome(OutcomeKind.UNAVAILABLE, detail=str(error), nothing_created=True))
        except CredentialsUnavailable as problem:
            waits(event, problem)
        except Exception as error:
            log.exception("event %s: %s failed", event["id"], work.__name__.strip("_"))
            failed(event, Outcome(OutcomeKind.UNAVAILABLE,
                                  detail=f"The answer could not be handled "
                                         f"({type(error).__name__})."))
        finally:
            self._held = None

    def _delivery_failed(self, event: Event, outcome: Outcome) -> None:
        """Rescheduled like a failed call, flagged as it was; fails once out of attempts."""
        now = self.clock()
        changes = self._next_state(event, outcome, now)
        self.store.settle(event["id"], self.owner, now, None, attempts=event["attempts"] + 1,
                          notifications=self._notifications(event, changes, now), **changes)

    def _delivery_waits(self, event: Event, problem: CredentialsUnavailable) -> None:
        """Due again at once, its attempts untouched, the reason shown in /admin:
        run_once claims nothing until the token can be had."""
        self.store.settle(event["id"], self.owner, self.clock(), error_code=problem.code,
                          error_detail=problem.detail, next_attempt_at=self.clock())

    def _reconcile_waits(self, event: Event, problem: CredentialsUnavailable) -> None:
        self.store.settle(event["id"], self.owner, self.clock())

    def _next_state(self, event: Event, outcome: Outcome, now: float) -> Changes:
        return next_state(event, outcome, now, self.policy, self.client.trusted_url,
                          self.follow_up)

    def _deliver(self, event: Event) -> None:
        answer, outcome = self._call(event)
        if answer is None:
            log.info("event %s: lease lost before calling", event["id"])
            return
        assert outcome is not None  # (None, None) come together
        now = self.clock()
        changes = self._next_state(event, outcome, now)
        settled = self.store.settle(event["id"], self.owner, now, answer.record(),
                                    attempts=event["attempts"] + 1,
                                    notifications=self._notifications(event, changes, now),
                                    **changes)
        log.info("event %s: %s %s -> %s (%s)", event["id"], answer.method, answer.status,
                 changes.get("status", "rescheduled"), outcome.kind if settled else "lease lost")

    def _notifications(self, event: Event, changes: Mapping[str, object],
                       now: float) -> Sequence[dict[str, str]]:
        """The merchant's notifications a settle with `changes` queues, in its transaction."""
        return self.notifier.messages(event, changes, now) if self.notifier else ()

    def _call(self, event: Event) -> tuple[Answer | None, Outcome | None]:
        """Make the event's one Shopify call: (answer, outcome), or (None, None)
        when the lease ran out (e.g. while pacing) before a POST could leave."""
        client, follow_up = self.client, self.follow_up
        kind = call_kind(event, client.needs_preparation(event["payload"]))
        draft_id, poll_url = event["draft_order_id"], event["poll_url"]
        if kind == CallKind.INVOICE_CHECK:
            assert draft_id is not None  # the invoice kinds are a draft's
            return client.read_draft(draft_id)
        if kind == CallKind.INVOICE:
            assert draft_id is not None
            return client.send_invoice(draft_id, follow_up.invoice_subject,
                                       follow_up.invoice_message,
                                       self._ready(event, self.store.mark_invoicing))
        if kind == CallKind.POLL:
            assert poll_url is not None  # call_kind's POLL is a poll_url's
            return client.poll(poll_url)
        if kind == CallKind.LOOKUP:
            return client.lookup(event["id"], event["created_at"] - LOOKUP_MARGIN_SECONDS)
        if kind == CallKind.PREPARE:
            return client.prepare(event["payload"])
        return client.create(event["payload"], event["prepared"],
                             self._ready(event, self.store.mark_posting))

    def _ready(self, event: Event, mark: Mark) -> Callable[[], bool]:
        """The `ready()` a backend asks right before a call that may change the
        shop leaves: `mark` (mark_posting, mark_invoicing) flags the event, or
        says the lease is lost and the call must not leave."""
        def ready() -> bool:
            now = self.clock()
            return mark(event["id"], self.owner, now, self.lease_seconds,
                        answer_by=now + self.client.timeout)
        return ready

    def _claim_reconcile(self) -> Event | None:
        """A completed event whose draft is due for a re-read, when re-reads are
        on and the pacer has room for one (creation keeps the rest)."""
        if not self.follow_up.reconcile_days or not self.client.pacer.has_room():
            return None
        return self.store.claim_reconcile(self.owner, self.clock(), self.lease_seconds)

    def _reconcile(self, event: Event) -> None:
        assert event["draft_order_id"] is not None  # a completed event's draft
        answer, outcome = self.client.read_draft(event["draft_order_id"],
                                                 with_order=event["order_name"] is None)
        now = self.clock()
        changes = reconcile_state(event, outcome, now, self.follow_up.reconcile_days)
        self.store.settle(event["id"], self.owner, now, answer.record(), (), **changes)
        log.info("event %s: re-read draft %s: %s -> %s", event["id"], event["draft_order_id"],
                 outcome.kind, changes.get("draft_state", event["draft_state"]))

    def _reconcile_failed(self, event: Event, outcome: Outcome) -> None:
        now = self.clock()
        self.store.settle(event["id"], self.owner, now, None, (),
                          **reconcile_state(event, outcome, now, self.follow_up.reconcile_days))

    def run_forever(self, stop: threading.Event) -> None:
        """Drain due events, then wait for a notification or the next due time;
        a heartbeat thread renews the lease meanwhile."""
        threading.Thread(target=self._heartbeat, args=(stop,), name="draft-order-lease",
                         daemon=True).start()
        if self.notifier:
            self.notifier.start(stop)
        while not stop.is_set():
            self._wake.clear()
            try:
                self.apply_webhooks()
                while not stop.is_set() and self.run_once():
                    pass
                # While the setup gives no token, due events wait for it: idle.
                waiting = self.client.tokens.waiting_until() > self.clock()
                due = None if waiting else self.store.next_due_at(
                    post_window=self.client.timeout)
                if due is None or due > self.clock():
                    self._prune_when_idle(stop)
            except Exception:
                log.exception("worker loop error; retrying")
                due = None
            wait = IDLE_POLL_SECONDS if due is None else due - self.clock()
            self._wake.wait(min(max(wait, 0.001), IDLE_POLL_SECONDS))

    def apply_webhooks(self) -> int:
        """Apply the Shopify webhooks kept since the last pass: no Shopify call."""
        return apply_pending(self.store, self.clock(), self.follow_up.reconcile_days,
                             settings=self.notifier.settings if self.notifier else None)

    def _heartbeat(self, stop: threading.Event) -> None:
        """Renew the held event's lease every third of LEASE_SECONDS, so that two
        renewals may be late before another worker could take the event over."""
        while not stop.wait(self.lease_seconds / 3):
            event_id = self._held
            if event_id is None:
                continue
            try:
                if not self.store.renew_lease(event_id, self.owner, self.clock(),
                                              self.lease_seconds):
                    log.warning("event %s: lease lost while delivering", event_id)
            except Exception:
                log.exception("event %s: could not renew the lease", event_id)

    def start(self) -> threading.Event:
        """Run in a daemon thread of this process (RUN_WORKER=1)."""
        stop = threading.Event()
        thread = threading.Thread(target=self.run_forever, args=(stop,),
                                  name="draft-order-worker", daemon=True)
        thread.start()
        return stop
