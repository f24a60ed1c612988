"""The states things move through, named once: a base module (it imports
nothing of the app's), so every layer can use them.

The store writes them into SQL, the worker and the webhooks move things with
them, the admin pages and the shopper's status document show them, and
static/send-cart.js knows a few (tests/unit/test_event_status.py and
tests/unit/test_states.py check its copies). Each is a StrEnum, like rq's
JobStatus: each member is the very string stored in the database and sent in
JSON, so rows written before they were enums still compare equal.
"""

from enum import StrEnum


class EventStatus(StrEnum):
    QUEUED = "queued"          # stored, waiting for a worker (again, after a retry)
    PROCESSING = "processing"  # leased by a worker
    COMPLETED = "completed"    # Shopify made the draft order
    FAILED = "failed"          # given up on; the merchant may retry it


ACTIVE = (EventStatus.QUEUED, EventStatus.PROCESSING)  # a worker may still claim these
SETTLED = (EventStatus.COMPLETED, EventStatus.FAILED)  # nothing more happens unless retried


class DraftState(StrEnum):
    """A draft order's, after the worker created it (app/lifecycle.py): as
    Shopify's webhooks and the worker's re-reads report it."""

    OPEN = "open"
    INVOICE_SENT = "invoice_sent"
    COMPLETED = "completed"    # paid: an order exists
    DELETED = "deleted"



class InvoiceStatus(StrEnum):
    """The invoice email of an event's draft (events.invoice_status), when
    SEND_INVOICE asks for one."""

    PENDING = "pending"        # the next call; a shopper hears nothing of it yet
    SENT = "sent"
    SKIPPED = "skipped"        # a guest cart's (no email), or a draft that ended first
    FAILED = "failed"


class WebhookStatus(StrEnum):
    """A kept Shopify webhook's (shopify_webhooks.status)."""

    PENDING = "pending"        # kept, not yet applied by the worker
    APPLIED = "applied"
    IGNORED = "ignored"        # with the reason, in its note


class NotificationStatus(StrEnum):
    """A merchant's notification in the outbox (notifications.status)."""

    PENDING = "pending"        # not sent yet (again, after a failed attempt)
    SENT = "sent"
    FAILED = "failed"          # given up on after the last attempt
    FOLDED = "folded"          # not sent: over its channel's bound, counted in a digest


class CallKind(StrEnum):
    """Which Shopify call an event needs next (app/delivery/transitions.py)."""

    POLL = "poll"
    LOOKUP = "lookup"
    PREPARE = "prepare"
    POST = "post"
    INVOICE = "invoice"
    INVOICE_CHECK = "invoice_check"


class OutcomeKind(StrEnum):
    """What one Shopify call means for its event (app/shopify/answers.py's Outcome)."""

    PREPARED = "prepared"        # a preparation's findings
    CREATED = "created"          # the draft exists
    ABSENT = "absent"            # the lookup found no draft
    PENDING = "pending"          # a 202: poll its Location
    THROTTLED = "throttled"      # a 429
    UNAVAILABLE = "unavailable"  # a 5xx, a timeout, an unreadable answer
    REJECTED = "rejected"        # refused for good
    SENT = "sent"                # a draft's invoice
    SEEN = "seen"                # a draft's state, as a re-read found it
