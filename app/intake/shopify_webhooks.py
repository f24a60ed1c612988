"""`POST /webhooks/shopify`: keep a webhook Shopify signed, and answer at once.

The signature is checked (app/shopify/webhooks.py), the webhook kept and 200
answered at once: Shopify waits 5 seconds at most, then sends it again. A
delivery sent again (same X-Shopify-Webhook-Id), or another copy of the same
event (same X-Shopify-Event-Id), is kept once. The worker applies the kept
webhooks later (app/delivery/webhooks.py), without calling Shopify.
"""

import json
import time
from typing import Literal, overload

from flask import Blueprint, Response, current_app, jsonify, request

from ..config import webhook_secrets
from ..shopify import shop_domain
from ..shopify.webhooks import (
    PATH,
    essentials,
    parse_body,
    receipt,
    signature_valid,
)
from ..states import WebhookStatus
from ..store.base import SqlStore
from .body import body_bytes
from .errors import ApiError

bp = Blueprint("shopify_webhooks", __name__)

MAX_KEPT_BODY = 64 * 1024  # characters of a body kept as sent; a longer one keeps what is read
MAX_HEADER_CHARS = 255


# A header's value, or None when it is absent; required=True: never None.
@overload
def _header(name: str, required: Literal[True]) -> str: ...


@overload
def _header(name: str, required: bool = False) -> str | None: ...


def _header(name: str, required: bool = False) -> str | None:
    value = request.headers.get(name) or None
    if value is None and required or value is not None and len(value) > MAX_HEADER_CHARS:
        raise ApiError(400, "webhook_header_invalid",
                       f"{name} is {'too long' if value else 'missing'}.", field=name)
    return value


@bp.post(PATH)
def receive() -> Response:
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
    payload = parse_body(raw)
    status, note = receipt(topic, sender,
                           shop_domain(current_app.config["SHOPIFY_BASE_URL"]), payload)
    # An ignored webhook is about no event of ours: its body (an ordinary
    # order's names its customer) is not kept, only its ids, for Shopify's retries.
    body = raw.decode("utf-8", "replace") if status == WebhookStatus.PENDING else ""
    if len(body) > MAX_KEPT_BODY:
        body = json.dumps(essentials(payload, topic) if isinstance(payload, dict) else {})
    store: SqlStore = current_app.extensions["store"]
    if not store.add_webhook(webhook_id, _header("X-Shopify-Event-Id"), topic, sender,
                             time.time(), body, status, note):
        return jsonify(duplicate=True)
    if status == WebhookStatus.PENDING:
        current_app.extensions["worker"].notify()
    return jsonify(received=True)
