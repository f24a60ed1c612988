"""A draft order's life after the worker created it: open, invoice sent,
completed (paid: an order exists) or deleted, as Shopify's webhooks and the
worker's re-reads report it. Pure functions: what an event's columns become.

Webhooks may come twice or out of order, and may never come; so a report
older than the last one applied changes nothing, a deleted or completed draft
is final, and an open draft is re-read on a widening schedule until
RECONCILE_DAYS after the event arrived.
"""

from dataclasses import dataclass

from .event import Event
from .states import DraftState

FINAL = (DraftState.COMPLETED, DraftState.DELETED)  # no report changes these

# Seconds after the previous look (the creation, then each re-read) until the next.
RECONCILE_DELAYS = (60, 600, 3600, 86400)
DAY = 86400
# Shopify's updated_at later than this after our clock is not believed: it would
# make every true report after it "out of order", for as long as it is ahead.
MAX_AHEAD_SECONDS = DAY


@dataclass(frozen=True)
class DraftSeen:
    """What Shopify says of a draft order at one moment."""

    state: DraftState
    updated_at: float | None       # Shopify's updated_at, epoch seconds; None: always news
    order_id: int | None = None
    order_name: str | None = None
    financial_status: str | None = None  # the order's, e.g. "paid", "pending"
    invoice_sent: bool = False     # Shopify says the invoice went out (invoice_sent_at)


def next_reconcile_at(created_at: float, looks: int, now: float, days: int) -> float | None:
    """When to re-read a draft that is still open after `looks` re-reads; None
    once that would fall beyond `days` after the event arrived (or days is 0)."""
    if not days:
        return None
    delay = RECONCILE_DELAYS[looks] if looks < len(RECONCILE_DELAYS) else DAY
    at = now + delay
    return at if at <= created_at + days * DAY else None


def beyond_belief(at: float | None, now: float) -> bool:
    """Whether a time Shopify reports is further ahead of `now` than any clock
    skew explains (MAX_AHEAD_SECONDS): such a date is not taken."""
    return at is not None and at > now + MAX_AHEAD_SECONDS


def changes_for(event: Event, seen: DraftSeen, now: float,
                days: int) -> dict[str, object] | None:
    """The event columns to change for `seen`, or None when it is no news:
    older than the draft's last report applied, dated ahead of `now` by more
    than MAX_AHEAD_SECONDS, or about a draft already final.
    The one report taken about a completed draft is its order's name, which
    orders/create may bring after draft_orders/update said "completed"; only
    for the order the draft became, when that is known."""
    current, last = event["draft_state"], event["draft_updated_at"]
    if current in FINAL:
        if current == DraftState.COMPLETED and seen.order_name and not event["order_name"] \
                and event["order_id"] in (None, seen.order_id):
            return _order(seen)
        return None
    if seen.updated_at is not None and (last is not None and seen.updated_at <= last
                                        or beyond_belief(seen.updated_at, now)):
        return None
    changes = {"draft_state": DraftState.COMPLETED if seen.order_id is not None else seen.state,
               **_order(seen)}
    if seen.updated_at is not None:
        changes["draft_updated_at"] = seen.updated_at
    changes["reconcile_at"] = None if changes["draft_state"] in FINAL else next_reconcile_at(
        event["created_at"], event["reconcile_count"], now, days)
    return changes


def _order(seen: DraftSeen) -> dict[str, object]:
    """The order columns `seen` brings (an order exists once a draft is paid)."""
    fields = {"order_id": seen.order_id, "order_name": seen.order_name,
              "order_financial_status": seen.financial_status}
    return {column: value for column, value in fields.items() if value is not None}
