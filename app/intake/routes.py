"""The storefront-facing endpoints: accept a cart, report on it later.

A submission is answered 202 only after its event is committed; every refusal
happens before anything is written, so a refused cart leaves no trace and never
reaches Shopify.
"""

import time
import uuid
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, URLSafeSerializer

from ..store import stored_payload
from ..store.base import SqlStore
from . import cart, contact, cors, limits, signature, waiting
from .body import json_body
from .errors import ApiError

bp = Blueprint("receiver", __name__)
cors.enable(bp)


def _tokens() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="event-status")


def status_token(event_id: str) -> str:
    """The signed token of an event's status address."""
    return _tokens().dumps(event_id)


def accepted(event_id: str, status: str, status_url: str) -> ResponseReturnValue:
    """The 202 a stored cart gets, however it came: its event, its status and
    where to follow it."""
    return jsonify(id=event_id, status=status, status_url=status_url), 202


def refuse_guest(customer_id: int | None) -> None:
    """GUEST_CARTS=reject: a cart without a customer is refused."""
    if customer_id is None and current_app.config["GUEST_CARTS"] == "reject":
        raise ApiError(403, "guest_cart_rejected",
                       "Please sign in to your account before sending your cart.",
                       field="customerId")


def accept_cart(text: str, size: int, body: Mapping[str, Any], customer_id: int | None,
                company: dict[str, int] | None, client_ip: str | None,
                now: float) -> tuple[str, str]:
    """Once the customer (and company) are known, however the route knew them:
    the cart mapped to its draft order and stored, within the rate limits, or
    the first submission's event for a resubmission: (event id, status)."""
    config = current_app.config
    guest = contact.read_guest(body, customer_id, config, now)
    event_id = str(uuid.uuid4())
    payload = cart.draft_order_payload(body["cart"], customer_id, config["DRAFT_ORDER_TAGS"],
                                       event_id, currency=config["CART_CURRENCY"],
                                       discount_codes=config["CART_DISCOUNT_CODES"],
                                       company=company, guest=guest)
    token = cart.cart_token(body["cart"])
    stored = stored_payload(payload)
    # What the event keeps is bounded; a payload too large for it is refused here.
    excerpt = cart.body_excerpt(text, size, len(stored.text.encode()), token)
    if guest is not None:
        contact.check_captcha(body, config, client_ip)

    store: SqlStore = current_app.extensions["store"]
    window = config["DEDUPE_WINDOW"]
    added = store.add(event_id, excerpt, stored, customer_id, now,
                      fingerprint=cart.fingerprint(payload, token, client_ip),
                      client_ip=client_ip, dedupe_since=now - window if window else None,
                      limits=limits.submission_limits(now, client_ip, customer_id,
                                                      config["RATE_LIMIT_PER_IP"],
                                                      config["RATE_LIMIT_PER_CUSTOMER"],
                                                      contact.rate_key(guest, config["SECRET_KEY"]),
                                                      config["RATE_LIMIT_PER_EMAIL"]))
    if added.limited_by is not None:
        raise limits.rate_limited(added, now)
    if added.new:
        current_app.extensions["worker"].notify()
    # Only a refusal by a limit (raised above) comes without an event.
    assert added.event_id is not None and added.status is not None
    return added.event_id, added.status


@bp.route("/webhooks/cart", methods=["POST", "OPTIONS"])
def receive_cart() -> ResponseReturnValue:
    config, now = current_app.config, time.time()
    text, size, body = json_body()
    customer_id = signature.signed_customer_id(
        body, config["SHARED_SECRET"], mode=config["SIGNATURE_MODE"],
        tolerance=config["SIGNATURE_TOLERANCE"], now=now)
    refuse_guest(customer_id)
    # With B2B_ORDERS off, the snippet's company lines are not even read.
    company = signature.signed_company(body, config["SHARED_SECRET"], customer_id) \
        if config["B2B_ORDERS"] else None
    event_id, status = accept_cart(text, size, body, customer_id, company, request.remote_addr,
                                   now)
    # A double click or a browser retry gets the first submission's event back.
    status_url = url_for("receiver.event_status", token=status_token(event_id), _external=True)
    return accepted(event_id, status, status_url)


def status_response(token: str) -> Response:
    """The status document of the event `token` names, or a 404."""
    try:
        event_id = _tokens().loads(token)
    except BadSignature:
        raise waiting.no_event() from None
    # ?wait=N&since=V: a long poll (waiting.py)
    return waiting.status_response(event_id, request.args)


@bp.route("/events/<token>", methods=["GET", "OPTIONS"])
def event_status(token: str) -> Response:
    return status_response(token)
