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

A worker's heartbeat renews the lease of the event it holds, so a live worker
keeps its event however slow Shopify is, and a killed one's event is taken
over one lease (LEASE_SECONDS) after its last renewal. Whatever goes wrong
while an event is held, the event is rescheduled like a failed call at once.
"""

import logging
import os
import random
import socket
import threading
import time
import uuid
from dataclasses import dataclass

from . import shopify_webhooks
from .event_status import EventStatus
from .shopify import Outcome, UntrustedLocation

log = logging.getLogger(__name__)

IDLE_POLL_SECONDS = 0.5
PRUNE_INTERVAL_SECONDS = 300  # how often an idle worker looks for events past retention
PRUNE_BATCH = 100  # events deleted per transaction: about 15 ms of SQLite's write lock
LOOKUP_MARGIN_SECONDS = 300  # clock skew between us and Shopify's updated_at


@dataclass(frozen=True)
class Policy:
    max_attempts: int = 5        # transient failures (5xx, timeouts) before giving up
    poll_timeout: float = 600.0  # overall time allowed for Shopify's 202 polling
    max_throttles: int = 50      # 429 answers before giving up
    backoff_base: float = 2.0
    backoff_cap: float = 300.0
    # How long a new draft may take to show up in the backend's lookup (GraphQL
    # searches an index that lags a little); no lookup after a lost POST comes sooner.
    lookup_lag: float = 0.0


def _failed(code, detail, lines=()):
    changes = {"status": EventStatus.FAILED, "error_code": code, "error_detail": detail}
    if lines:
        changes["error_lines"] = list(lines)
    return changes


def backoff(failures, policy):
    """Exponential delay after the n-th transient failure, with jitter so that a
    burst of failed events does not come back all at once."""
    delay = min(policy.backoff_base * 2 ** (failures - 1), policy.backoff_cap)
    return delay * (1 + random.random() / 4)


def call_kind(event, needs_preparation=False):
    """Which Shopify call the event needs next: poll, lookup, prepare or post.
    `needs_preparation`: whether the backend reads something before drafting
    this payload; once prepared, the findings are kept with the event."""
    if event["poll_url"]:
        return "poll"
    if event["maybe_posted"]:
        return "lookup"
    return "prepare" if needs_preparation and event["prepared"] is None else "post"


def next_state(event, outcome, now, policy, trusted_url):
    """The columns to change after `outcome`, as a pure function of the event."""
    changes = _transition(event, outcome, now, policy, trusted_url)
    if outcome.nothing_created and call_kind(event) == "post":  # or a preparation
        changes["maybe_posted"] = 0  # no lookup needed before the next POST
    return changes


def _transition(event, outcome, now, policy, trusted_url):
    if outcome.kind == "created":
        draft = outcome.draft_order
        return {"status": EventStatus.COMPLETED, "draft_order_id": draft["id"],
                "draft_order_name": draft["name"], "invoice_url": draft["invoice_url"],
                "error_code": None, "error_detail": None}
    if outcome.kind == "rejected":
        return _failed(outcome.code, outcome.detail, outcome.lines)

    changes = {"throttles": 0}  # 429s count only in a row
    if outcome.kind == "prepared":  # post at once, with what the reading found
        changes["prepared"] = outcome.prepared
        delay = 0.0
    elif outcome.kind == "absent" and event["next_attempt_at"] > event["updated_at"]:
        # Taken over from a worker that died with its POST out: the list was read
        # (after the claim, which stamps updated_at) before that POST's answer was
        # due, so the draft may still be in the making. Look again once it is due.
        delay = event["next_attempt_at"] - now
    elif outcome.kind == "absent":  # the lookup found no draft: safe to post
        changes["maybe_posted"] = 0
        delay = 0.0
    elif outcome.kind == "pending":
        try:
            changes["poll_url"] = trusted_url(outcome.location)
        except UntrustedLocation as error:
            return _failed("untrusted_location", str(error))
        changes["poll_deadline"] = event["poll_deadline"] or now + policy.poll_timeout
        delay = outcome.retry_after
    elif outcome.kind == "throttled":
        changes["throttles"] = event["throttles"] + 1
        if changes["throttles"] >= policy.max_throttles:
            return _failed("shopify_throttled",
                           f"Shopify answered 429 (rate limited) {policy.max_throttles} times.")
        delay = outcome.retry_after
    else:  # unavailable
        changes["failures"] = event["failures"] + 1
        if changes["failures"] >= policy.max_attempts:
            return _failed("shopify_unavailable",
                           f"{outcome.detail} Gave up after {changes['failures']} attempts.")
        delay = backoff(changes["failures"], policy)
        if call_kind(event) == "post":  # the draft may exist: the lookup comes next
            delay = max(delay, policy.lookup_lag)

    deadline = changes.get("poll_deadline", event["poll_deadline"])
    if deadline is not None and now + delay > deadline:
        return _failed("poll_timeout",
                       f"Shopify did not finish the draft order within {policy.poll_timeout:g} "
                       f"seconds of polling.")
    changes["next_attempt_at"] = now + delay
    return changes


class Worker:
    def __init__(self, store, client, policy, lease_seconds, clock=time.time,
                 retention_seconds=0, reconcile_days=0, notifier=None):
        self.store = store
        self.client = client
        self.policy = policy
        self.lease_seconds = lease_seconds
        self.clock = clock
        self.retention_seconds = retention_seconds  # 0: keep every event
        self.reconcile_days = reconcile_days  # RECONCILE_DAYS, for the drafts webhooks report on
        self._prune_at = 0.0
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = threading.Event()
        self._held = None  # the id of the event being delivered, for the heartbeat
        self.notifier = notifier  # app/notifier.py: tells the merchant, in its own thread

    def notify(self):
        """Called by the receiver after a commit, so pickup needs no polling."""
        self._wake.set()

    def run_once(self):
        """Deliver one due event; return False when none is due."""
        event = self.store.claim(self.owner, self.clock(), self.lease_seconds,
                                 post_window=self.client.timeout)
        if event is None:
            return False
        self._held = event["id"]
        try:
            self._deliver(event)
        except Exception as error:
            # Anything unforeseen (an answer we cannot store, a database error)
            # counts as a failed call: the event is rescheduled now, flagged as it
            # was, instead of waiting out its lease, and fails once out of attempts.
            log.exception("event %s: delivery failed", event["id"])
            now = self.clock()
            outcome = Outcome("unavailable", detail=f"The answer could not be handled "
                                                    f"({type(error).__name__}).")
            changes = next_state(event, outcome, now, self.policy, self.client.trusted_url)
            self.store.settle(event["id"], self.owner, now, attempts=event["attempts"] + 1,
                              notifications=self._notifications(event, changes, now),
                              **changes)
        finally:
            self._held = None
        return True

    def _deliver(self, event):
        answer, outcome = self._call(event)
        if answer is None:
            log.info("event %s: lease lost before posting", event["id"])
            return
        now = self.clock()
        changes = next_state(event, outcome, now, self.policy, self.client.trusted_url)
        settled = self.store.settle(event["id"], self.owner, now, answer.record(),
                                    attempts=event["attempts"] + 1,
                                    notifications=self._notifications(event, changes, now),
                                    **changes)
        log.info("event %s: %s %s -> %s (%s)", event["id"], answer.method, answer.status,
                 changes.get("status", "rescheduled"), outcome.kind if settled else "lease lost")

    def _notifications(self, event, changes, now):
        """The merchant's notifications a settle with `changes` queues, in its transaction."""
        return self.notifier.messages(event, changes, now) if self.notifier else ()

    def _call(self, event):
        """Make the event's one Shopify call: (answer, outcome), or (None, None)
        when the lease ran out (e.g. while pacing) before the POST could leave."""
        client = self.client
        kind = call_kind(event, client.needs_preparation(event["payload"]))
        if kind == "poll":
            return client.poll(event["poll_url"])
        if kind == "lookup":
            return client.lookup(event["id"], event["created_at"] - LOOKUP_MARGIN_SECONDS)
        if kind == "prepare":
            return client.prepare(event["payload"])

        def ready():
            now = self.clock()
            return self.store.mark_posting(event["id"], self.owner, now, self.lease_seconds,
                                           answer_by=now + client.timeout)

        return client.create(event["payload"], event["prepared"], ready)

    def run_forever(self, stop):
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
                due = self.store.next_due_at(post_window=self.client.timeout)
                if due is None or due > self.clock():
                    self._prune_when_idle(stop)
            except Exception:
                log.exception("worker loop error; retrying")
                due = None
            wait = IDLE_POLL_SECONDS if due is None else due - self.clock()
            self._wake.wait(min(max(wait, 0.001), IDLE_POLL_SECONDS))

    def apply_webhooks(self):
        """Apply the Shopify webhooks kept since the last pass: no Shopify call."""
        return shopify_webhooks.apply_pending(self.store, self.clock(), self.reconcile_days)

    def prune(self, go_on=lambda: True):
        """Delete the settled events older than the retention period, batch by
        batch while `go_on()`; None when retention is off."""
        if not self.retention_seconds:
            return None
        return self.store.prune(self.clock() - self.retention_seconds, PRUNE_BATCH, go_on)

    def _prune_when_idle(self, stop):
        """Prune at most every PRUNE_INTERVAL_SECONDS, giving way between batches
        as soon as an event arrives or falls due; a pass cut short resumes at
        the next idle moment."""
        now = self.clock()
        if not self.retention_seconds or now < self._prune_at:
            return
        self._prune_at = now + PRUNE_INTERVAL_SECONDS  # after an error too: no retry storm
        pruned = self.prune(lambda: not (stop.is_set() or self._wake.is_set() or self._due()))
        if pruned.events:
            log.info("retention: deleted %d settled events and their %d answers",
                     pruned.events, pruned.answers)
        if not pruned.done:
            self._prune_at = now

    def _due(self):
        due = self.store.next_due_at(post_window=self.client.timeout)
        return due is not None and due <= self.clock()

    def _heartbeat(self, stop):
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

    def start(self):
        """Run in a daemon thread of this process (RUN_WORKER=1)."""
        stop = threading.Event()
        thread = threading.Thread(target=self.run_forever, args=(stop,),
                                  name="draft-order-worker", daemon=True)
        thread.start()
        return stop
