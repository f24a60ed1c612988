"""What comes next for an event, as pure functions of it: which Shopify call it
needs (`call_kind`), the columns an outcome changes (`next_state`, for a
delivery and its invoice), and those a re-read of a completed event's draft
changes (`reconcile_state`). `Policy` and `FollowUp` are the settings they
follow. No I/O here: app/delivery/worker.py makes the calls and settles the
changes in the store.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..event import Event
from ..lifecycle import FINAL, DraftSeen, beyond_belief, changes_for, next_reconcile_at
from ..retry import BACKOFF_BASE, BACKOFF_CAP, backoff
from ..shopify import Outcome, UntrustedLocation
from ..shopify.answers import DraftOrder, Line
from ..states import CallKind, DraftState, EventStatus, InvoiceStatus, OutcomeKind


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
    # A guest's invoice goes to the email they typed only when the merchant says
    # so too (SEND_INVOICE_TO_GUESTS): else anyone could make the store email anyone.
    send_invoice_to_guests: bool = False

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> "FollowUp":
        return cls(settings["SEND_INVOICE"], settings["INVOICE_SUBJECT"],
                   settings["INVOICE_MESSAGE"], settings["RECONCILE_DAYS"],
                   bool(settings.get("SEND_INVOICE_TO_GUESTS")))


GUEST_INVOICE = "guest cart: no email to send the invoice to"
GUEST_INVOICE_OFF = ("guest cart: invoices to a guest's typed email are off "
                     "(SEND_INVOICE_TO_GUESTS=0); review the draft and send it from Shopify")


def _guest_skip(draft: Mapping[str, Any], follow_up: FollowUp) -> str | None:
    """Why a guest's draft gets no invoice from us, or None: a customer's, or a
    guest's with an email when the merchant opted in."""
    if "customer" in draft:
        return None
    if not draft.get("email"):
        return GUEST_INVOICE
    return None if follow_up.send_invoice_to_guests else GUEST_INVOICE_OFF
_INVOICE_KINDS = (CallKind.INVOICE, CallKind.INVOICE_CHECK)

# The event columns to change, as store.settle takes them (`**changes`): its
# `answer` and `notifications` are passed before them, so mypy knows no column is one.
Changes = dict[str, object]
# (the counts to store, the delay, None) or (.., .., (code, detail)): `_retry`'s.
Retry = tuple[Changes, float, tuple[str, str] | None]


def _failed(code: str | None, detail: str | None, lines: Iterable[Line] = ()) -> Changes:
    changes: Changes = {"status": EventStatus.FAILED, "error_code": code, "error_detail": detail}
    if lines:
        changes["error_lines"] = list(lines)
    return changes


def call_kind(event: Event, needs_preparation: bool = False) -> CallKind:
    """Which Shopify call the event needs next: poll, lookup, prepare or post;
    once its draft exists, the invoice (invoice_check first when a send may have
    left). `needs_preparation`: whether the backend reads something before
    drafting this payload; once prepared, the findings are kept with the event."""
    if event["draft_order_id"] is not None:
        return CallKind.INVOICE_CHECK if event["invoice_maybe_sent"] else CallKind.INVOICE
    if event["poll_url"]:
        return CallKind.POLL
    if event["maybe_posted"]:
        return CallKind.LOOKUP
    return CallKind.PREPARE if needs_preparation and event["prepared"] is None \
        else CallKind.POST


def next_state(event: Event, outcome: Outcome, now: float, policy: Policy,
               trusted_url: Callable[[str], str], follow_up: FollowUp = FollowUp()) -> Changes:
    """The columns to change after `outcome`, as a pure function of the event."""
    kind = call_kind(event)
    if kind in _INVOICE_KINDS:
        return _invoice_transition(event, outcome, now, policy, follow_up)
    changes = _transition(event, outcome, now, policy, trusted_url, follow_up)
    if outcome.nothing_created and kind == CallKind.POST:  # or a preparation
        changes["maybe_posted"] = 0  # no lookup needed before the next POST
    return changes


def _completed(event: Event, now: float, follow_up: FollowUp, **columns: object) -> Changes:
    """The event settles with its draft, which is re-read from now on."""
    return {"status": EventStatus.COMPLETED,
            "reconcile_at": next_reconcile_at(event["created_at"], 0, now,
                                              follow_up.reconcile_days), **columns}


def _created(event: Event, draft: DraftOrder, now: float, follow_up: FollowUp) -> Changes:
    """The draft exists: the event completes, unless its invoice is still to send
    (a guest's is not, unless they gave an email and the merchant opted in)."""
    changes: Changes = {"draft_order_id": draft["id"], "draft_order_name": draft["name"],
               "invoice_url": draft["invoice_url"], "error_code": None, "error_detail": None,
               "draft_state": DraftState.OPEN,
               # Shopify's time of the draft as made, when its answer says.
               "draft_updated_at": _dated(event, _believed(draft.get("updated_at"), now))}
    if not follow_up.send_invoice:
        return _completed(event, now, follow_up, **changes)
    skipped = _guest_skip(event["payload"]["draft_order"], follow_up)
    if skipped is not None:
        return _completed(event, now, follow_up, invoice_status=InvoiceStatus.SKIPPED,
                          invoice_detail=skipped, **changes)
    # Still active: the invoice is the next call, with attempts of its own.
    return {**changes, "invoice_status": InvoiceStatus.PENDING, "failures": 0, "throttles": 0,
            "next_attempt_at": now}


def _transition(event: Event, outcome: Outcome, now: float, policy: Policy,
                trusted_url: Callable[[str], str], follow_up: FollowUp) -> Changes:
    if outcome.kind == OutcomeKind.CREATED:
        assert outcome.draft_order is not None  # a created draft's: answers.created_draft
        return _created(event, outcome.draft_order, now, follow_up)
    if outcome.kind == OutcomeKind.REJECTED:
        return _failed(outcome.code, outcome.detail, outcome.lines)

    changes: Changes = {"throttles": 0}  # 429s count only in a row
    deadline = event["poll_deadline"]
    if outcome.kind == OutcomeKind.PREPARED:  # post at once, with what the reading found
        changes["prepared"] = outcome.prepared
        delay = 0.0
    elif outcome.kind == OutcomeKind.ABSENT and event["next_attempt_at"] > event["updated_at"]:
        # Taken over from a worker that died with its POST out: the list was read
        # (after the claim, which stamps updated_at) before that POST's answer was
        # due, so the draft may still be in the making. Look again once it is due.
        delay = event["next_attempt_at"] - now
    elif outcome.kind == OutcomeKind.ABSENT:  # the lookup found no draft: safe to post
        changes["maybe_posted"] = 0
        delay = 0.0
    elif outcome.kind == OutcomeKind.PENDING:
        assert outcome.location is not None and outcome.retry_after is not None  # a 202's
        try:
            changes["poll_url"] = trusted_url(outcome.location)
        except UntrustedLocation as error:
            return _failed("untrusted_location", str(error))
        deadline = event["poll_deadline"] or now + policy.poll_timeout
        changes["poll_deadline"] = deadline
        delay = outcome.retry_after
    else:  # throttled or unavailable
        counted, delay, given_up = _retry(event, outcome, policy)
        if given_up is not None:
            return _failed(*given_up)
        changes.update(counted)
        if outcome.kind == OutcomeKind.UNAVAILABLE and call_kind(event) == CallKind.POST:
            delay = max(delay, policy.lookup_lag)  # the draft may exist: the lookup comes next

    if deadline is not None and now + delay > deadline:
        return _failed("poll_timeout",
                       f"Shopify did not finish the draft order within {policy.poll_timeout:g} "
                       f"seconds of polling.")
    changes["next_attempt_at"] = now + delay
    return changes


def _retry(event: Event, outcome: Outcome, policy: Policy) -> Retry:
    """A throttled or unavailable call, tried again: (the counts to store, the
    delay, None), or (.., .., (code, detail)) once it has failed too often. 429s
    count only in a row (up to max_throttles); other failures up to max_attempts."""
    if outcome.kind == OutcomeKind.THROTTLED:
        throttles = event["throttles"] + 1
        if throttles >= policy.max_throttles:
            return {}, 0.0, ("shopify_throttled", f"Shopify answered 429 (rate limited) "
                                                   f"{policy.max_throttles} times.")
        assert outcome.retry_after is not None  # a 429's (rest.py, graphql.py)
        return {"throttles": throttles}, outcome.retry_after, None
    failures = event["failures"] + 1
    if failures >= policy.max_attempts:
        return {}, 0.0, ("shopify_unavailable",
                          f"{outcome.detail} Gave up after {failures} attempts.")
    return {"throttles": 0, "failures": failures}, backoff(failures, policy), None


def _invoice_transition(event: Event, outcome: Outcome, now: float, policy: Policy,
                        follow_up: FollowUp) -> Changes:
    """After the invoice's send, or the re-read of a draft whose invoice may
    have been sent: whichever way it ends, the event completes (its draft
    exists); only transient failures try again."""
    if outcome.kind == OutcomeKind.SENT:
        return _completed(event, now, follow_up, invoice_status=InvoiceStatus.SENT,
                          invoice_detail=None, draft_state=DraftState.INVOICE_SENT,
                          # Shopify's time of the send (GraphQL), else this clock (REST).
                          draft_updated_at=_dated(event, _sent_at(outcome, now)))
    if outcome.kind == OutcomeKind.SEEN:
        assert outcome.seen is not None  # a re-read's (kind "seen")
        return _invoice_seen(event, outcome.seen, now, follow_up)
    if outcome.kind == OutcomeKind.REJECTED:
        return _completed(event, now, follow_up, invoice_status=InvoiceStatus.FAILED,
                          invoice_detail=outcome.detail)
    changes, delay, given_up = _retry(event, outcome, policy)
    if given_up is not None:
        return _completed(event, now, follow_up, invoice_status=InvoiceStatus.FAILED,
                          invoice_detail=given_up[1])
    if outcome.nothing_created and call_kind(event) == CallKind.INVOICE:
        changes["invoice_maybe_sent"] = 0  # surely not sent: no re-read needed first
    changes["next_attempt_at"] = now + delay
    return changes


def _believed(shopify_at: float | None, now: float) -> float | None:
    """Shopify's updated_at in an answer, unless none or dated ahead of this
    clock beyond belief (lifecycle.MAX_AHEAD_SECONDS)."""
    return None if shopify_at is None or beyond_belief(shopify_at, now) else shopify_at


def _sent_at(outcome: Outcome, now: float) -> float:
    """When the invoice went out: Shopify's updatedAt in the answer, else now."""
    believed = _believed(outcome.updated_at, now)
    return now if believed is None else believed


def _dated(event: Event, at: float | None) -> float | None:
    """The draft_updated_at of the worker's own change to the draft, made at
    `at` (None: unknown, the column is kept): never earlier than the last report
    applied. A draft_orders/update dated before it is then no news
    (lifecycle.changes_for), so a late one cannot undo the worker's change."""
    last = event["draft_updated_at"]
    if at is None:
        return last
    return at if last is None else max(last, at)


def _invoice_seen(event: Event, seen: DraftSeen, now: float, follow_up: FollowUp) -> Changes:
    """A flagged event's re-read: the invoice went out (never send it twice), the
    draft ended without one, or it surely did not go: send it now."""
    news = changes_for(event, seen, now, follow_up.reconcile_days) or {}
    if seen.invoice_sent:
        return {**_completed(event, now, follow_up, invoice_status=InvoiceStatus.SENT,
                             invoice_detail=None, draft_state=DraftState.INVOICE_SENT), **news}
    if seen.state in FINAL:
        return {**_completed(event, now, follow_up, invoice_status=InvoiceStatus.SKIPPED,
                             invoice_detail=f"the draft order was {seen.state} before its "
                                            f"invoice was sent"), **news}
    if event["next_attempt_at"] > event["updated_at"]:
        # Taken over from a worker that died with its send out, before the send's
        # answer was due: Shopify may not have recorded it yet. Look again then.
        return {"next_attempt_at": event["next_attempt_at"]}
    return {"invoice_maybe_sent": 0, "next_attempt_at": now}


def reconcile_state(event: Event, outcome: Outcome, now: float, days: int) -> Changes:
    """The columns a re-read of a completed event's draft changes: its news
    (lifecycle.changes_for), one more look, and when the next look is due (none
    once the draft is final). A read that failed only moves the next look on."""
    if outcome.kind != OutcomeKind.SEEN:
        return {"reconcile_at": next_reconcile_at(event["created_at"], event["reconcile_count"],
                                                  now, days)}
    assert outcome.seen is not None  # a re-read's (kind "seen")
    looks = event["reconcile_count"] + 1
    looked = event.copy()
    looked["reconcile_count"] = looks
    news = changes_for(looked, outcome.seen, now, days) or {}
    if "reconcile_at" not in news:  # no news, or only an order's name
        final = news.get("draft_state", event["draft_state"]) in FINAL
        news["reconcile_at"] = None if final else next_reconcile_at(event["created_at"], looks,
                                                                    now, days)
    return {"reconcile_count": looks, **news}
