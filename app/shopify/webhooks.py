"""Shopify's own webhooks, their pure rules: what became of each draft order
this service made, as a webhook's body says.

The topics followed, Shopify's signature (X-Shopify-Hmac-Sha256: the base64
HMAC-SHA256 of the raw body, keyed with SHOPIFY_WEBHOOK_SECRET), and the
reading of a body: `receipt` says whether a webhook is kept pending or ignored
(app/intake/shopify_webhooks.py keeps it), and `judge` what an applied one
changes (app/delivery/webhooks.py applies them). Each becomes a
`lifecycle.DraftSeen` of the event's draft, and `lifecycle.changes_for`
decides, as for the worker's re-reads, whether it is news. One that is not
(out of order, a draft already final), or is about a draft this service did
not create, is kept as ignored, with the reason, for the merchant's event log.
"""

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from .. import lifecycle
from ..event import Event
from ..ids import EVENT_MARKER, MAX_BIGINT, positive_id
from ..states import DraftState, WebhookStatus
from .answers import draft_seen, read_order
from .compliance import COMPLIANCE_TOPICS, read_request, request_essentials

PATH = "/webhooks/shopify"
DRAFT_UPDATE, DRAFT_DELETE, ORDER_CREATE = \
    "draft_orders/update", "draft_orders/delete", "orders/create"
TOPICS = (DRAFT_UPDATE, DRAFT_DELETE, ORDER_CREATE)

MAX_MARKER_CHARS = 255  # an event id is 36

NOT_OURS = "not a draft order this service created"
FROM_DRAFT = "shopify_draft_order"  # an order's source_name when a draft became it

# `Any` here is JSON: a webhook's body, as Shopify sent it.


def signature_valid(raw: bytes, secrets: Iterable[str], given: str | None) -> bool:
    """Whether `given` (the X-Shopify-Hmac-Sha256 header, or None) signs `raw`
    with any of `secrets` (two during a rotation of the client secret)."""
    if not given:
        return False
    return any(hmac.compare_digest(
        base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()),
        given.encode()) for secret in secrets)


class Report(NamedTuple):
    """What a webhook says, and how to find the event it is about."""

    find: tuple[str, object]  # ("draft_order_id", id) or ("id", event id)
    seen: lifecycle.DraftSeen


def _marker(order: Mapping[str, Any]) -> str | None:
    """The event id an order's note attributes carry (a draft's attributes pass to its order)."""
    attributes = order.get("note_attributes")
    for pair in attributes if isinstance(attributes, list) else ():
        if isinstance(pair, dict) and pair.get("name") == EVENT_MARKER:
            value = pair.get("value")
            return value if isinstance(value, str) and 0 < len(value) <= MAX_MARKER_CHARS \
                else None
    return None


def read_report(topic: str, payload: Any) -> tuple[Report, None] | tuple[None, str]:
    """The Report a webhook's payload makes, or (None, why it makes none)."""
    if not isinstance(payload, dict):
        return None, "the body is not a JSON object"
    if topic == ORDER_CREATE:
        event_id = _marker(payload)
        order = read_order(payload.get("id"), payload.get("name"),
                           payload.get("financial_status"))
        if payload.get("source_name") != FROM_DRAFT:  # a draft's own body has none
            return None, "an order not made from a draft order"
        if event_id is None or order is None:
            return None, NOT_OURS
        return Report(("id", event_id), lifecycle.DraftSeen(DraftState.COMPLETED, None,
                                                             *order)), None
    draft_id = positive_id(payload.get("id"), MAX_BIGINT)
    if draft_id is None:
        return None, "the body names no draft order"
    if topic == DRAFT_DELETE:
        if "status" in payload:  # the topic is not signed: this is a draft's body, not {"id"}
            return None, "the body is a draft order's, not a deletion's"
        return Report(("draft_order_id", draft_id),
                      lifecycle.DraftSeen(DraftState.DELETED, None)), None
    order_id = payload.get("order_id")
    seen = draft_seen(payload.get("status"), payload.get("updated_at"),
                      payload.get("invoice_sent_at"),
                      None if order_id is None else (order_id, None, None))
    if seen is None or seen.updated_at is None:
        return None, "the body has no readable status, updated_at and order_id"
    return Report(("draft_order_id", draft_id), seen), None


def essentials(payload: Mapping[str, Any], topic: str = "") -> dict[str, Any]:
    """Of a body too long to keep, the fields `read_report` (or for a compliance
    `topic`, `compliance.read_request`) reads."""
    if topic in COMPLIANCE_TOPICS:
        return request_essentials(payload)
    kept = {key: payload[key] for key in ("id", "status", "updated_at", "order_id", "name",
                                          "financial_status", "source_name") if key in payload}
    marker = _marker(payload)
    if marker is not None:
        kept["note_attributes"] = [{"name": EVENT_MARKER, "value": marker}]
    return kept


def receipt(topic: str, sender: str | None, shop: str,
            payload: Any) -> tuple[WebhookStatus, str | None]:
    """(status, note) a webhook is kept with: pending, or ignored and why.
    `sender`: X-Shopify-Shop-Domain; `shop`: the configured shop's host, which
    must send it when it is a Shopify shop (a local simulator is any host)."""
    if topic not in TOPICS and topic not in COMPLIANCE_TOPICS:
        return WebhookStatus.IGNORED, "a topic this service does not follow"
    if shop.endswith(".myshopify.com") and (sender or "").lower() != shop:
        return WebhookStatus.IGNORED, "sent for another shop"
    if topic in COMPLIANCE_TOPICS:  # a privacy request: app/delivery/privacy.py acts on it
        request, why = read_request(topic, payload)
        return (WebhookStatus.PENDING, None) if request else (WebhookStatus.IGNORED, why)
    report, why = read_report(topic, payload)
    if report is None:
        return WebhookStatus.IGNORED, why
    return WebhookStatus.PENDING, None


def parse_body(raw: bytes) -> Any:
    """A webhook's raw body as JSON, or None when it is none."""
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return None


def judge(event: Event | None, report: Report, now: float,
          days: int) -> tuple[WebhookStatus, str | None, dict[str, object] | None]:
    """(status, note, event columns to change) for a webhook about `event`
    (None: no event has its draft or marker)."""
    if event is None or event["draft_order_id"] is None:
        return WebhookStatus.IGNORED, NOT_OURS, None
    changes = lifecycle.changes_for(event, report.seen, now, days)
    if changes is None:
        if event["draft_state"] in lifecycle.FINAL:
            return WebhookStatus.IGNORED, "already final", None
        ahead = lifecycle.beyond_belief(report.seen.updated_at, now)
        return (WebhookStatus.IGNORED,
                "dated ahead of this server's clock" if ahead else "out of order", None)
    return WebhookStatus.APPLIED, None, changes
