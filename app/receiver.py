"""The storefront-facing endpoints: accept a cart, report on it later.

A submission is answered 202 only after its event is committed; every refusal
happens before anything is written, so a refused cart leaves no trace and never
reaches Shopify.
"""

import json
import math
import re
import time
import uuid

from flask import Blueprint, current_app, jsonify, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.exceptions import RequestEntityTooLarge

from . import cart, cors, lifecycle, limits, signature
from .errors import ApiError
from .store import stored_payload

bp = Blueprint("receiver", __name__)
cors.enable(bp)

_ACCEPTED_TYPES = ("application/json", "text/plain", "")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def _finite_float(text):
    number = float(text)
    if not math.isfinite(number):  # 1e400 would reach Shopify as "inf"
        raise ValueError(f"{text} is out of range")
    return number


def body_bytes():
    """The raw body, refusing one over MAX_BODY_BYTES even when it came chunked:
    Werkzeug then stops reading at the limit instead of refusing. (Shopify's
    webhooks are read by it too.)"""
    raw = request.get_data(cache=False)
    if request.content_length is None and len(raw) >= current_app.config["MAX_CONTENT_LENGTH"] \
            and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()
    return raw


def _json_body():
    """The body's text, its size in bytes, and the JSON object it holds, which
    carries a cart (text/plain too, which lets the storefront skip the CORS preflight)."""
    if request.mimetype not in _ACCEPTED_TYPES:
        raise ApiError(415, "unsupported_media_type",
                       "Send the body as application/json or text/plain.")
    raw = body_bytes()
    try:
        # Strict UTF-8 (json.loads would guess UTF-16/32 and let encoded surrogates in).
        text = raw.decode("utf-8-sig")
        body = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
        # A lone "\ud800" escape is valid JSON but no text: Shopify and our pages
        # could not encode it. Only a body with such an escape needs the full check.
        if _SURROGATE_ESCAPE.search(text):
            json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError):
        raise ApiError(400, "invalid_json", "The body is not valid UTF-8 JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "The body must be a JSON object.")
    if "cart" not in body:
        raise ApiError(400, "missing_cart", "The body has no cart.", field="cart")
    return text, len(raw), body


def _tokens():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="event-status")


@bp.route("/webhooks/cart", methods=["POST", "OPTIONS"])
def receive_cart():
    config, now = current_app.config, time.time()
    text, size, body = _json_body()
    customer_id = signature.signed_customer_id(
        body, config["SHARED_SECRET"], mode=config["SIGNATURE_MODE"],
        tolerance=config["SIGNATURE_TOLERANCE"], now=now)
    if customer_id is None and config["GUEST_CARTS"] == "reject":
        raise ApiError(403, "guest_cart_rejected",
                       "Please sign in to your account before sending your cart.",
                       field="customerId")
    # With B2B_ORDERS off, the snippet's company lines are not even read.
    company = signature.signed_company(body, config["SHARED_SECRET"], customer_id) \
        if config["B2B_ORDERS"] else None
    event_id = str(uuid.uuid4())
    payload = cart.draft_order_payload(body["cart"], customer_id, config["DRAFT_ORDER_TAGS"],
                                       event_id, currency=config["CART_CURRENCY"],
                                       discount_codes=config["CART_DISCOUNT_CODES"],
                                       company=company)
    token = cart.cart_token(body["cart"])
    stored = stored_payload(payload)
    # What the event keeps is bounded; a payload too large for it is refused here.
    excerpt = cart.body_excerpt(text, size, len(stored.text.encode()), token)

    store, client_ip, window = (current_app.extensions["store"], request.remote_addr,
                                config["DEDUPE_WINDOW"])
    added = store.add(event_id, excerpt, stored, customer_id, now,
                      fingerprint=cart.fingerprint(payload, token, client_ip),
                      client_ip=client_ip, dedupe_since=now - window if window else None,
                      limits=limits.submission_limits(now, client_ip, customer_id,
                                                      config["RATE_LIMIT_PER_IP"],
                                                      config["RATE_LIMIT_PER_CUSTOMER"]))
    if added.limited_by is not None:
        raise limits.rate_limited(added, now)
    if added.new:
        current_app.extensions["worker"].notify()
    # A double click or a browser retry gets the first submission's event back.
    status_url = url_for("receiver.event_status", token=_tokens().dumps(added.event_id),
                         _external=True)
    return jsonify(id=added.event_id, status=added.status, status_url=status_url), 202


# What a shopper reads about a failed event, by its error code. The stored
# error_detail (Shopify's words, the setting to check) is for the merchant's
# /admin only: it can name settings and internals.
_BUSY = "The store's order system did not answer in time; please try again later."
_STORE_SIDE = "The problem is on the store's side; please contact the store."
SHOPPER_ERROR_DETAILS = {
    "shopify_rejected": "The store could not accept this cart as it is; please check the "
                        "items in your cart or contact the store.",
    "shopify_unavailable": _BUSY,
    "shopify_throttled": _BUSY,
    "poll_timeout": _BUSY,
    "items_unavailable": "Some items in your cart are unavailable (listed below); please "
                         "change your cart and send it again.",
    "b2b_contact_not_found": _STORE_SIDE,
    "shopify_access_denied": _STORE_SIDE,
    "shopify_graphql_error": _STORE_SIDE,
}
# A line's detail by its code, where the stored one is Shopify's words (a
# userError's message), kept for /admin.
SHOPPER_LINE_DETAILS = {
    "rejected_by_shopify": "The store could not accept this item as it is; please change or "
                           "remove it, or contact the store.",
}


def _shopper_line(line):
    return {**line, "detail": SHOPPER_LINE_DETAILS.get(line["code"], line["detail"])}


# The invoice's statuses a shopper hears of (pending is no news yet).
SHOWN_INVOICE = ("sent", "skipped", "failed")
# The order's financial statuses that mean the customer paid (and kept it).
PAID = ("paid", "partially_refunded")


def status_document(event):
    """What a shopper may see of an event: its outcome, nothing of its payload,
    the cart lines left out of its draft order, and for a failure its code, a
    shopper's sentence (not the stored detail) and the cart lines it names.

    Line objects ({line, variant_id, code, detail}) are written for shoppers by
    the backends, but for the lines Shopify refused. Events delivered before
    migrations 3 and 4 have these columns empty: no lines, no order, and their
    draft is shown as open."""
    draft = order = None
    invoice = event.get("invoice_status")
    if event["draft_order_id"] is not None:
        draft = {"id": event["draft_order_id"], "name": event["draft_order_name"],
                 "invoice_url": event["invoice_url"],
                 "state": event.get("draft_state") or lifecycle.OPEN,
                 "invoice": invoice if invoice in SHOWN_INVOICE else None}
    if event.get("order_id") is not None:
        order = {"name": event.get("order_name"),
                 "paid": event.get("order_financial_status") in PAID}
    error = None
    if event["error_code"]:
        error = {"code": event["error_code"],
                 "detail": SHOPPER_ERROR_DETAILS.get(event["error_code"], _STORE_SIDE)}
        if event.get("error_lines"):
            error["lines"] = [_shopper_line(line) for line in event["error_lines"]]
    prepared = event.get("prepared") or {}
    return {"id": event["id"], "status": event["status"], "draft_order": draft, "error": error,
            "dropped_lines": prepared.get("dropped", []), "order": order}


@bp.route("/events/<token>", methods=["GET", "OPTIONS"])
def event_status(token):
    try:
        event_id = _tokens().loads(token)
    except BadSignature:
        raise ApiError(404, "not_found", "There is no event at this address.") from None
    event = current_app.extensions["store"].get(event_id)
    if event is None:
        raise ApiError(404, "not_found", "There is no event at this address.")
    response = jsonify(status_document(event))
    response.headers["Cache-Control"] = "no-store"
    return response
