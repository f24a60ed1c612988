"""The states things move through, named once: a base module (it imports
nothing of the app's), so every layer can use them. For now, an event's statuses.

The store writes them into SQL, the worker settles events with them, the admin
pages and the shopper's status document show them, and static/send-cart.js
waits for the settled ones (tests/test_event_status.py checks its copy). A
StrEnum, like rq's JobStatus: each member is the very string stored in the
events table and sent in JSON.
"""

from enum import StrEnum


class EventStatus(StrEnum):
    QUEUED = "queued"          # stored, waiting for a worker (again, after a retry)
    PROCESSING = "processing"  # leased by a worker
    COMPLETED = "completed"    # Shopify made the draft order
    FAILED = "failed"          # given up on; the merchant may retry it


ACTIVE = (EventStatus.QUEUED, EventStatus.PROCESSING)  # a worker may still claim these
SETTLED = (EventStatus.COMPLETED, EventStatus.FAILED)  # nothing more happens unless retried
