"""Shopify's own webhooks: what became of each draft order this service made.

`POST /webhooks/shopify` checks Shopify's signature (X-Shopify-Hmac-Sha256:
the base64 HMAC-SHA256 of the raw body, keyed with SHOPIFY_WEBHOOK_SECRET),
keeps the webhook and answers 200 at once: Shopify waits 5 seconds at most,
then sends it again. A delivery sent again (same X-Shopify-Webhook-Id), or
another copy of the same event (same X-Shopify-Event-Id), is kept once.

The worker then applies the kept webhooks in the order they came, without
calling Shopify (`apply_pending`): each becomes a `lifecycle.DraftSeen` of the
event's draft, and `lifecycle.changes_for` decides, as for the worker's
re-reads, whether it is news. One that is not (out of order, a draft already
final), or is about a draft this service did not create, is kept as ignored,
with the reason, for the merchant's event log.
"""

import base64
import hashlib
import hmac
import json
import logging
import time
from functools import partial
from typing import NamedTuple

from flask import Blueprint, current_app, jsonify, request

from . import lifecycle
from .config import webhook_secrets
from .errors import ApiError
from .ids import EVENT_MARKER, MAX_BIGINT, positive_id
from .receiver import body_bytes
from .shopify import shop_domain
from .shopify.answers import draft_seen, read_order
from .shopify.graphql import topic_enum

bp = Blueprint("shopify_webhooks", __name__)
log = logging.getLogger(__name__)

PATH = "/webhooks/shopify"
DRAFT_UPDATE, DRAFT_DELETE, ORDER_CREATE = \
    "draft_orders/update", "draft_orders/delete", "orders/create"
TOPICS = (DRAFT_UPDATE, DRAFT_DELETE, ORDER_CREATE)
PENDING, APPLIED, IGNORED = "pending", "applied", "ignored"

MAX_KEPT_BODY = 64 * 1024  # characters of a body kept as sent; a longer one keeps what is read
MAX_HEADER_CHARS = 255
MAX_MARKER_CHARS = 255  # an event id is 36
APPLY_BATCH = 100  # webhooks applied per pass of the worker

NOT_OURS = "not a draft order this service created"
FROM_DRAFT = "shopify_draft_order"  # an order's source_name when a draft became it


def signature_valid(raw, secrets, given):
    """Whether `given` (the X-Shopify-Hmac-Sha256 header, or None) signs `raw`
    with any of `secrets` (two during a rotation of the client secret)."""
    if not given:
        return False
    return any(hmac.compare_digest(
        base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()),
        given.encode()) for secret in secrets)


class Report(NamedTuple):
    """What a webhook says, and how to find the event it is about."""

    find: tuple  # ("draft_order_id", id) or ("id", event id)
    seen: lifecycle.DraftSeen


def _marker(order):
    """The event id an order's note attributes carry (a draft's attributes pass to its order)."""
    attributes = order.get("note_attributes")
    for pair in attributes if isinstance(attributes, list) else ():
        if isinstance(pair, dict) and pair.get("name") == EVENT_MARKER:
            value = pair.get("value")
            return value if isinstance(value, str) and 0 < len(value) <= MAX_MARKER_CHARS \
                else None
    return None


def read_report(topic, payload):
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
        return Report(("id", event_id), lifecycle.DraftSeen(lifecycle.COMPLETED, None,
                                                             *order)), None
    draft_id = positive_id(payload.get("id"), MAX_BIGINT)
    if draft_id is None:
        return None, "the body names no draft order"
    if topic == DRAFT_DELETE:
        if "status" in payload:  # the topic is not signed: this is a draft's body, not {"id"}
            return None, "the body is a draft order's, not a deletion's"
        return Report(("draft_order_id", draft_id), lifecycle.DraftSeen(lifecycle.DELETED, None)), \
            None
    order_id = payload.get("order_id")
    seen = draft_seen(payload.get("status"), payload.get("updated_at"),
                      payload.get("invoice_sent_at"),
                      None if order_id is None else (order_id, None, None))
    if seen is None or seen.updated_at is None:
        return None, "the body has no readable status, updated_at and order_id"
    return Report(("draft_order_id", draft_id), seen), None


def _essentials(payload):
    """Of a body too long to keep, the fields `read_report` reads."""
    kept = {key: payload[key] for key in ("id", "status", "updated_at", "order_id", "name",
                                          "financial_status", "source_name") if key in payload}
    marker = _marker(payload)
    if marker is not None:
        kept["note_attributes"] = [{"name": EVENT_MARKER, "value": marker}]
    return kept


def _header(name, required=False):
    value = request.headers.get(name) or None
    if value is None and required or value is not None and len(value) > MAX_HEADER_CHARS:
        raise ApiError(400, "webhook_header_invalid",
                       f"{name} is {'too long' if value else 'missing'}.", field=name)
    return value


def receipt(topic, sender, shop, payload):
    """(status, note) a webhook is kept with: pending, or ignored and why.
    `sender`: X-Shopify-Shop-Domain; `shop`: the configured shop's host, which
    must send it when it is a Shopify shop (a local simulator is any host)."""
    if topic not in TOPICS:
        return IGNORED, "a topic this service does not follow"
    if shop.endswith(".myshopify.com") and (sender or "").lower() != shop:
        return IGNORED, "sent for another shop"
    report, why = read_report(topic, payload)
    return (PENDING, None) if report is not None else (IGNORED, why)


def _payload(raw):
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return None


@bp.post(PATH)
def receive():
    """Keep a webhook Shopify signed, answer at once, and wake the worker."""
    secrets = webhook_secrets(current_app.config)
    if not secrets:
        raise ApiError(404, "not_found", "There is nothing at this address.")
    raw = body_bytes()
    if not signature_valid(raw, secrets, request.headers.get("X-Shopify-Hmac-Sha256")):
        raise ApiError(401, "webhook_signature_invalid",
                       "The webhook's signature does not match its body.",
                       log="X-Shopify-Hmac-Sha256 missing or not the body's signature")
    webhook_id = _header("X-Shopify-Webhook-Id", required=True)
    topic = _header("X-Shopify-Topic") or ""
    sender = _header("X-Shopify-Shop-Domain")
    payload = _payload(raw)
    status, note = receipt(topic, sender,
                           shop_domain(current_app.config["SHOPIFY_BASE_URL"]), payload)
    body = raw.decode("utf-8", "replace")
    if len(body) > MAX_KEPT_BODY:
        body = json.dumps(_essentials(payload) if isinstance(payload, dict) else {})
    store = current_app.extensions["store"]
    if not store.add_webhook(webhook_id, _header("X-Shopify-Event-Id"), topic, sender,
                             time.time(), body, status, note):
        return jsonify(duplicate=True)
    if status == PENDING:
        current_app.extensions["worker"].notify()
    return jsonify(received=True)


def judge(event, report, now, days):
    """(status, note, event columns to change) for a webhook about `event`
    (None: no event has its draft or marker)."""
    if event is None or event["draft_order_id"] is None:
        return IGNORED, NOT_OURS, None
    changes = lifecycle.changes_for(event, report.seen, now, days)
    if changes is None:
        if event["draft_state"] in lifecycle.FINAL:
            return IGNORED, "already final", None
        ahead = (report.seen.updated_at or 0) > now + lifecycle.MAX_AHEAD_SECONDS
        return IGNORED, "dated ahead of this server's clock" if ahead else "out of order", None
    return APPLIED, None, changes


def _ignored(why, event):
    return IGNORED, why, None


def apply_pending(store, now, days, batch=APPLY_BATCH):
    """Apply the pending webhooks, oldest first, each in its own transaction;
    return how many were applied or ignored. `days`: RECONCILE_DAYS.

    A webhook that cannot be applied (a bug, not a database error: marking it
    fails too then) is kept as ignored and logged, so that it never holds up
    the others nor the worker's deliveries."""
    done = 0
    for row in store.pending_webhooks(batch):
        report, why = read_report(row["topic"], _payload(row["body"].encode()))
        try:
            if report is None:  # kept by a release that read webhooks otherwise
                done += store.apply_webhook(row["id"], now, None, partial(_ignored, why))
            else:
                done += store.apply_webhook(row["id"], now, report.find,
                                            partial(judge, report=report, now=now, days=days))
        except Exception as error:
            log.exception("Shopify webhook %s could not be applied", row["id"])
            done += store.apply_webhook(row["id"], now, None, partial(
                _ignored, f"could not be applied ({type(error).__name__})"))
    return done


def missing_topics(subscriptions, address):
    """The topics of TOPICS with no subscription at `address` (None: at any
    address ending in PATH, when PUBLIC_URL is unset). Topics compare as
    GraphQL spells them, which both APIs' lists can be read as."""
    def ours(subscription):
        where = subscription["address"] or ""
        return where == address if address else where.endswith(PATH)
    covered = {topic_enum(subscription["topic"] or "") for subscription in subscriptions
               if ours(subscription)}
    return [topic for topic in TOPICS if topic_enum(topic) not in covered]


def subscribe(client, topics, address):
    """Subscribe `address` to each of `topics` through `client`: [(topic, why
    not, or None when subscribed)]."""
    return [(topic, client.create_webhook(topic, address)[1]) for topic in topics]


def public_address(config):
    """Where Shopify should send its webhooks, from PUBLIC_URL; None when unset."""
    return config["PUBLIC_URL"] + PATH if config.get("PUBLIC_URL") else None
