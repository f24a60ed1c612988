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
"""

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass

from . import shopify_webhooks
from .lifecycle import FINAL, INVOICE_SENT, OPEN, changes_for, next_reconcile_at
from .retry import BACKOFF_BASE, BACKOFF_CAP, backoff
from .shopify import Outcome, UntrustedLocation
from .shopify.tokens import CredentialsUnavailable, TokenUnavailable
from .states import EventStatus

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
    backoff_base: float = BACKOFF_BASE  # app/retry.py's backoff between them
    backoff_cap: float = BACKOFF_CAP
    # How long a new draft may take to show up in the backend's lookup (GraphQL
    # searches an index that lags a little); no lookup after a lost POST comes sooner.
    lookup_lag: float = 0.0


@dataclass(frozen=True)
class FollowUp:
    """What becomes of a draft once it exists: its invoice, and its re-reads."""
    send_invoice: bool = False
    invoice_subject: str | None = None   # None: Shopify's
    invoice_message: str | None = None
    reconcile_days: int = 0              # 0: no re-reads

    @classmethod
    def from_settings(cls, settings):
        return cls(settings["SEND_INVOICE"], settings["INVOICE_SUBJECT"],
                   settings["INVOICE_MESSAGE"], settings["RECONCILE_DAYS"])


GUEST_INVOICE = "guest cart: no email to send the invoice to"
_INVOICE_KINDS = ("invoice", "invoice_check")


def _failed(code, detail, lines=()):
    changes = {"status": EventStatus.FAILED, "error_code": code, "error_detail": detail}
    if lines:
        changes["error_lines"] = list(lines)
    return changes


def call_kind(event, needs_preparation=False):
    """Which Shopify call the event needs next: poll, lookup, prepare or post;
    once its draft exists, the invoice (invoice_check first when a send may have
    left). `needs_preparation`: whether the backend reads something before
    drafting this payload; once prepared, the findings are kept with the event."""
    if event["draft_order_id"] is not None:
        return "invoice_check" if event["invoice_maybe_sent"] else "invoice"
    if event["poll_url"]:
        return "poll"
    if event["maybe_posted"]:
        return "lookup"
    return "prepare" if needs_preparation and event["prepared"] is None else "post"


def next_state(event, outcome, now, policy, trusted_url, follow_up=FollowUp()):
    """The columns to change after `outcome`, as a pure function of the event."""
    kind = call_kind(event)
    if kind in _INVOICE_KINDS:
        return _invoice_transition(event, outcome, now, policy, follow_up)
    changes = _transition(event, outcome, now, policy, trusted_url, follow_up)
    if outcome.nothing_created and kind == "post":  # or a preparation
        changes["maybe_posted"] = 0  # no lookup needed before the next POST
    return changes


def _completed(event, now, follow_up, **columns):
    """The event settles with its draft, which is re-read from now on."""
    return {"status": EventStatus.COMPLETED,
            "reconcile_at": next_reconcile_at(event["created_at"], 0, now,
                                              follow_up.reconcile_days), **columns}


def _created(event, draft, now, follow_up):
    """The draft exists: the event completes, unless its invoice is still to send
    (a guest cart's cannot be: no email)."""
    changes = {"draft_order_id": draft["id"], "draft_order_name": draft["name"],
               "invoice_url": draft["invoice_url"], "error_code": None, "error_detail": None,
               "draft_state": OPEN}
    if not follow_up.send_invoice:
        return _completed(event, now, follow_up, **changes)
    if "customer" not in event["payload"]["draft_order"]:
        return _completed(event, now, follow_up, invoice_status="skipped",
                          invoice_detail=GUEST_INVOICE, **changes)
    # Still active: the invoice is the next call, with attempts of its own.
    return {**changes, "invoice_status": "pending", "failures": 0, "throttles": 0,
            "next_attempt_at": now}


def _transition(event, outcome, now, policy, trusted_url, follow_up):
    if outcome.kind == "created":
        return _created(event, outcome.draft_order, now, follow_up)
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
    else:  # throttled or unavailable
        counted, delay, given_up = _retry(event, outcome, policy)
        if given_up is not None:
            return _failed(*given_up)
        changes.update(counted)
        if outcome.kind == "unavailable" and call_kind(event) == "post":
            delay = max(delay, policy.lookup_lag)  # the draft may exist: the lookup comes next

    deadline = changes.get("poll_deadline", event["poll_deadline"])
    if deadline is not None and now + delay > deadline:
        return _failed("poll_timeout",
                       f"Shopify did not finish the draft order within {policy.poll_timeout:g} "
                       f"seconds of polling.")
    changes["next_attempt_at"] = now + delay
    return changes


def _retry(event, outcome, policy):
    """A throttled or unavailable call, tried again: (the counts to store, the
    delay, None), or (.., .., (code, detail)) once it has failed too often. 429s
    count only in a row (up to max_throttles); other failures up to max_attempts."""
    if outcome.kind == "throttled":
        throttles = event["throttles"] + 1
        if throttles >= policy.max_throttles:
            return {}, None, ("shopify_throttled", f"Shopify answered 429 (rate limited) "
                                                   f"{policy.max_throttles} times.")
        return {"throttles": throttles}, outcome.retry_after, None
    failures = event["failures"] + 1
    if failures >= policy.max_attempts:
        return {}, None, ("shopify_unavailable",
                          f"{outcome.detail} Gave up after {failures} attempts.")
    return {"throttles": 0, "failures": failures}, backoff(failures, policy), None


def _invoice_transition(event, outcome, now, policy, follow_up):
    """After the invoice's send, or the re-read of a draft whose invoice may
    have been sent: whichever way it ends, the event completes (its draft
    exists); only transient failures try again."""
    if outcome.kind == "sent":
        return _completed(event, now, follow_up, invoice_status="sent", invoice_detail=None,
                          draft_state=INVOICE_SENT)
    if outcome.kind == "seen":
        return _invoice_seen(event, outcome.seen, now, follow_up)
    if outcome.kind == "rejected":
        return _completed(event, now, follow_up, invoice_status="failed",
                          invoice_detail=outcome.detail)
    changes, delay, given_up = _retry(event, outcome, policy)
    if given_up is not None:
        return _completed(event, now, follow_up, invoice_status="failed",
                          invoice_detail=given_up[1])
    if outcome.nothing_created and call_kind(event) == "invoice":
        changes["invoice_maybe_sent"] = 0  # surely not sent: no re-read needed first
    changes["next_attempt_at"] = now + delay
    return changes


def _invoice_seen(event, seen, now, follow_up):
    """A flagged event's re-read: the invoice went out (never send it twice), the
    draft ended without one, or it surely did not go: send it now."""
    news = changes_for(event, seen, now, follow_up.reconcile_days) or {}
    if seen.invoice_sent:
        return {**_completed(event, now, follow_up, invoice_status="sent",
                             invoice_detail=None, draft_state=INVOICE_SENT), **news}
    if seen.state in FINAL:
        return {**_completed(event, now, follow_up, invoice_status="skipped",
                             invoice_detail=f"the draft order was {seen.state} before its "
                                            f"invoice was sent"), **news}
    if event["next_attempt_at"] > event["updated_at"]:
        # Taken over from a worker that died with its send out, before the send's
        # answer was due: Shopify may not have recorded it yet. Look again then.
        return {"next_attempt_at": event["next_attempt_at"]}
    return {"invoice_maybe_sent": 0, "next_attempt_at": now}


def reconcile_state(event, outcome, now, days):
    """The columns a re-read of a completed event's draft changes: its news
    (lifecycle.changes_for), one more look, and when the next look is due (none
    once the draft is final). A read that failed only moves the next look on."""
    if outcome.kind != "seen":
        return {"reconcile_at": next_reconcile_at(event["created_at"], event["reconcile_count"],
                                                  now, days)}
    looks = event["reconcile_count"] + 1
    news = changes_for({**event, "reconcile_count": looks}, outcome.seen, now, days) or {}
    if "reconcile_at" not in news:  # no news, or only an order's name
        final = news.get("draft_state", event["draft_state"]) in FINAL
        news["reconcile_at"] = None if final else next_reconcile_at(event["created_at"], looks,
                                                                    now, days)
    return {"reconcile_count": looks, **news}


class Worker:
    def __init__(self, store, client, policy, lease_seconds, clock=time.time,
                 retention_seconds=0, follow_up=FollowUp(), notifier=None):
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
        self._held = None  # the id of the event being delivered, for the heartbeat
        self.notifier = notifier  # app/notifier.py: tells the merchant, in its own thread

    def notify(self):
        """Called by the receiver after a commit, so pickup needs no polling."""
        self._wake.set()

    def run_once(self):
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

    def _hold(self, event, work, failed, waits):
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
            failed(event, Outcome("unavailable", detail=str(error), nothing_created=True))
        except CredentialsUnavailable as problem:
            waits(event, problem)
        except Exception as error:
            log.exception("event %s: %s failed", event["id"], work.__name__.strip("_"))
            failed(event, Outcome("unavailable", detail=f"The answer could not be handled "
                                                        f"({type(error).__name__})."))
        finally:
            self._held = None

    def _delivery_failed(self, event, outcome):
        """Rescheduled like a failed call, flagged as it was; fails once out of attempts."""
        now = self.clock()
        changes = self._next_state(event, outcome, now)
        self.store.settle(event["id"], self.owner, now, attempts=event["attempts"] + 1,
                          notifications=self._notifications(event, changes, now), **changes)

    def _delivery_waits(self, event, problem):
        """Due again at once, its attempts untouched, the reason shown in /admin:
        run_once claims nothing until the token can be had."""
        self.store.settle(event["id"], self.owner, self.clock(), error_code=problem.code,
                          error_detail=problem.detail, next_attempt_at=self.clock())

    def _reconcile_waits(self, event, problem):
        self.store.settle(event["id"], self.owner, self.clock())

    def _next_state(self, event, outcome, now):
        return next_state(event, outcome, now, self.policy, self.client.trusted_url,
                          self.follow_up)

    def _deliver(self, event):
        answer, outcome = self._call(event)
        if answer is None:
            log.info("event %s: lease lost before calling", event["id"])
            return
        now = self.clock()
        changes = self._next_state(event, outcome, now)
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
        when the lease ran out (e.g. while pacing) before a POST could leave."""
        client, follow_up = self.client, self.follow_up
        kind = call_kind(event, client.needs_preparation(event["payload"]))
        if kind == "invoice_check":
            return client.read_draft(event["draft_order_id"])
        if kind == "invoice":
            return client.send_invoice(event["draft_order_id"], follow_up.invoice_subject,
                                       follow_up.invoice_message,
                                       self._ready(event, self.store.mark_invoicing))
        if kind == "poll":
            return client.poll(event["poll_url"])
        if kind == "lookup":
            return client.lookup(event["id"], event["created_at"] - LOOKUP_MARGIN_SECONDS)
        if kind == "prepare":
            return client.prepare(event["payload"])
        return client.create(event["payload"], event["prepared"],
                             self._ready(event, self.store.mark_posting))

    def _ready(self, event, mark):
        """The `ready()` a backend asks right before a call that may change the
        shop leaves: `mark` (mark_posting, mark_invoicing) flags the event, or
        says the lease is lost and the call must not leave."""
        def ready():
            now = self.clock()
            return mark(event["id"], self.owner, now, self.lease_seconds,
                        answer_by=now + self.client.timeout)
        return ready

    def _claim_reconcile(self):
        """A completed event whose draft is due for a re-read, when re-reads are
        on and the pacer has room for one (creation keeps the rest)."""
        if not self.follow_up.reconcile_days or not self.client.pacer.has_room():
            return None
        return self.store.claim_reconcile(self.owner, self.clock(), self.lease_seconds)

    def _reconcile(self, event):
        answer, outcome = self.client.read_draft(event["draft_order_id"],
                                                 with_order=event["order_name"] is None)
        now = self.clock()
        changes = reconcile_state(event, outcome, now, self.follow_up.reconcile_days)
        self.store.settle(event["id"], self.owner, now, answer.record(), **changes)
        log.info("event %s: re-read draft %s: %s -> %s", event["id"], event["draft_order_id"],
                 outcome.kind, changes.get("draft_state", event["draft_state"]))

    def _reconcile_failed(self, event, outcome):
        now = self.clock()
        self.store.settle(event["id"], self.owner, now,
                          **reconcile_state(event, outcome, now, self.follow_up.reconcile_days))

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

    def apply_webhooks(self):
        """Apply the Shopify webhooks kept since the last pass: no Shopify call."""
        return shopify_webhooks.apply_pending(self.store, self.clock(),
                                             self.follow_up.reconcile_days)

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
