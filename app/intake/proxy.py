"""The storefront through Shopify's app proxy: `POST /proxy/cart` and
`GET /proxy/events/<token>`, which Shopify forwards from the shop's own
`/apps/<subpath>/cart` and `/apps/<subpath>/events/<token>`.

Shopify signs the query of each forwarded request with the app's client secret
(app/shopify/app_proxy.py); the customer is the signed `logged_in_customer_id`
and nothing else: a customer id or signature in the body is never read. A
request whose query does not verify, is stale, or is signed for another shop
is refused 401 before its body is read, so nothing is stored. The cart goes
the way of `/webhooks/cart` from there (routes.accept_cart). No CORS: the
shopper's page calls its own shop's domain.
"""

import threading
import time
from collections.abc import Callable

from flask import Blueprint, Response, current_app, request
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue

from ..config import client_secrets
from ..shopify import ShopifyBackend
from ..shopify.app_proxy import (
    PATH,
    TOLERANCE,
    ProxyQuery,
    Refused,
    configured_shop,
    read_query,
    shopper_address,
)
from ..shopify.oauth import valid_shop
from ..shopify.tokens import CredentialsUnavailable, TokenUnavailable
from ..store.base import SqlStore
from . import signature
from .body import json_body
from .errors import ApiError
from .guest_form import form_response
from .replays import UsedSignatures
from .routes import accept_cart, accepted, refuse_guest, status_response, status_token

bp = Blueprint("proxy", __name__, url_prefix=PATH)


class ShopDomain:
    """The myshopify domain the Admin API names for this shop, read once per
    process (single flight) and kept. A failed read is not tried again for
    RETRY_SECONDS: meanwhile requests are answered at once, not queued behind
    a slow Shopify."""

    RETRY_SECONDS = 10.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._domain: str | None = None
        self._failed_at: float | None = None
        self._lock = threading.Lock()
        self._clock = clock

    def get(self, read: Callable[[], str | None]) -> str | None:
        with self._lock:
            if self._domain is None and (self._failed_at is None or
                                         self._clock() - self._failed_at >= self.RETRY_SECONDS):
                try:
                    found = read()
                except (CredentialsUnavailable, TokenUnavailable):
                    found = None
                if found is not None and valid_shop(found):
                    self._domain = found.lower()
                else:
                    self._failed_at = self._clock()
            return self._domain


class ProxyState:
    """What the proxied routes keep in the process: the shop's domain, and the
    signatures used (replays.py)."""

    def __init__(self) -> None:
        self.shop = ShopDomain()
        self.used = UsedSignatures()


@bp.record_once
def _keep_state(setup: BlueprintSetupState) -> None:
    setup.app.extensions["app_proxy"] = ProxyState()


def _state() -> ProxyState:
    state: ProxyState = current_app.extensions["app_proxy"]
    return state


def this_shop() -> str:
    """The shop a proxied request must be signed for: SHOPIFY_SHOP's myshopify
    domain, or, when SHOPIFY_SHOP is a base URL, the one the Admin API names;
    503 while that cannot be read."""
    base_url = current_app.config["SHOPIFY_BASE_URL"]
    configured = configured_shop(base_url)
    if configured is not None:
        return configured
    client: ShopifyBackend = current_app.extensions["shopify"]
    domain = _state().shop.get(client.read_shop_domain)
    if domain is None:
        raise ApiError(503, "shop_unavailable",
                       "The store cannot take carts right now; please try again in a minute.",
                       headers={"Retry-After": "60"},
                       log="the app proxy's shop could not be checked: the Admin API did not "
                           "name the shop's myshopify domain (GET shop.json)")
    return domain


def verified_query(now: float) -> ProxyQuery:
    """The request's query, signed by Shopify for this shop, or a refusal."""
    secrets = client_secrets(current_app.config)
    if not secrets:
        raise ApiError(404, "not_found", "There is nothing at this address.",
                       log="the app proxy needs Dev Dashboard credentials "
                           "(SHOPIFY_CLIENT_ID and SHOPIFY_CLIENT_SECRET)")
    query = read_query(list(request.args.items(multi=True)), len(request.query_string),
                       secrets, now)
    if isinstance(query, Refused):
        raise ApiError(401, query.code, signature.UNCONFIRMED, log=f"app proxy: {query.reason}")
    shop = this_shop()
    if query.shop != shop:
        raise ApiError(401, "signature_invalid", signature.UNCONFIRMED,
                       log=f"app proxy: the request is signed for {query.shop}, not {shop}")
    return query


def _accepted(event_id: str, status: str, query: ProxyQuery) -> ResponseReturnValue:
    # Relative to the shop's domain, under the path the shopper used, so that
    # the status poll goes through the proxy too.
    return accepted(event_id, status, f"{query.path_prefix}/events/{status_token(event_id)}")


@bp.post("/cart")
def receive_cart() -> ResponseReturnValue:
    config, now = current_app.config, time.time()
    query = verified_query(now)
    text, size, body = json_body()
    customer_id = query.customer_id
    # A guest's signature vouches for nobody: anyone gets one by posting through
    # the shop, and all guests' requests in the same second share it.
    used = _state().used if customer_id is not None else None
    if used is not None:
        allowed, earlier = used.claim(query.signature, text.encode(), now, 2 * TOLERANCE)
        if not allowed:
            raise ApiError(401, "signature_invalid", signature.UNCONFIRMED,
                           log="app proxy: a signature already used with another body")
        store: SqlStore = current_app.extensions["store"]
        event = store.get(earlier) if earlier is not None else None
        if event is not None:
            return _accepted(event["id"], event["status"], query)
    refuse_guest(customer_id)
    company = signature.named_company(body, customer_id) if config["B2B_ORDERS"] else None
    # Shopify's servers connect to us: the shopper is the address Shopify forwards.
    client_ip = shopper_address(request.headers.get("X-Forwarded-For"),
                                config["TRUSTED_PROXIES"]) or request.remote_addr
    event_id, status = accept_cart(text, size, body, customer_id, company, client_ip, now)
    if used is not None:
        used.record(query.signature, event_id)
    return _accepted(event_id, status, query)


@bp.get("/events/<token>")
def event_status(token: str) -> Response:
    verified_query(time.time())
    return status_response(token)


@bp.get("/guest-form")
def guest_form() -> Response:
    """A guest's form, asked of the shop's own origin as the cart is."""
    now = time.time()
    verified_query(now)
    return form_response(now)
