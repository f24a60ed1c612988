"""Which Admin API access scopes this service needs, in one place.

`required_scopes` is the one rule for what a configuration needs: doctor checks
the token against it, `flask --app app shopify-config` declares it in
shopify.app.toml, and a test holds the README's list for the default settings
to it. `OPERATION_SCOPES` says what each call we make needs, so that a refusal
(a REST 403, a GraphQL ACCESS_DENIED) names the scope to add whatever Shopify's
own message says ("Access denied for draftOrderCreate field." names none).
"""

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ..config import stock_check

# Creating draft orders; Shopify's write scope grants its read scope too.
DRAFT_SCOPES = ("write_draft_orders",)
STOCK_SCOPES = ("read_products", "read_inventory")
B2B_SCOPES = ("read_customers", "read_companies")
# The order a paid draft became: read by the re-reads of drafts and, for
# orders/create, by webhooks (the draft topics come with write_draft_orders).
ORDER_SCOPES = ("read_orders",)
# The app proxy (Dev Dashboard apps only: Shopify signs with the client secret)
# "requires the write_app_proxy access scope"
# (https://shopify.dev/docs/apps/build/online-store/app-proxies).
APP_PROXY_SCOPES = ("write_app_proxy",)

_WRITE_DRAFTS, _READ_DRAFTS, _READ_ORDERS = \
    ("write_draft_orders",), ("read_draft_orders",), ("read_orders",)

# What each call needs. REST: the DraftOrder resource needs the draft_orders
# scopes (https://shopify.dev/docs/api/admin-rest/latest/resources/draftorder),
# the Order resource read_orders
# (https://shopify.dev/docs/api/admin-rest/latest/resources/order); listing and
# creating webhooks need nothing but the topic's own scope (TOPIC_SCOPES).
# GraphQL, by the operation names graphql.py posts: draftOrderCreate and
# draftOrderInvoiceSend "Requires write_draft_orders access scope"
# (https://shopify.dev/docs/api/admin-graphql/latest/mutations/draftOrderCreate,
# .../mutations/draftOrderInvoiceSend); draftOrders and draftOrder read with
# read_draft_orders (.../queries/draftOrders, .../queries/draftOrder), and the
# draft's `order` with read_orders (.../objects/Order). The shop and the app's
# own installation need no scope; webhookSubscriptionCreate needs the topic's
# (.../mutations/webhookSubscriptionCreate). PrepareDraft: prepare_scopes.
OPERATION_SCOPES: dict[str, tuple[str, ...]] = {
    "POST draft_orders.json": _WRITE_DRAFTS,
    "GET draft_orders.json": _READ_DRAFTS,
    "GET draft_orders/{id}.json": _READ_DRAFTS,
    "POST draft_orders/{id}/send_invoice.json": _WRITE_DRAFTS,
    "GET orders/{id}.json": _READ_ORDERS,
    "GET webhooks.json": (),
    "POST webhooks.json": (),
    "DraftOrderCreate": _WRITE_DRAFTS,
    "DraftOrderByMarker": _READ_DRAFTS,
    "DraftOrderInvoiceSend": _WRITE_DRAFTS,
    "DraftOrderState": _READ_DRAFTS + _READ_ORDERS,
    "ShopAndScopes": (),
    "WebhookSubscriptions": (),
    "WebhookSubscriptionCreate": (),
}

# A webhook topic needs the read scope of what it is about
# (https://shopify.dev/docs/api/webhooks: each topic lists its required scope).
TOPIC_SCOPES: dict[str, tuple[str, ...]] = {
    "draft_orders/update": _READ_DRAFTS,
    "draft_orders/delete": _READ_DRAFTS,
    "orders/create": _READ_ORDERS,
}

# `config` is the app's settings, as Flask's config holds them (values of any type): Any.

_VERSIONED_PATH = re.compile(r"^/admin/api/[^/]+/(.+)$")
_NUMBER_SEGMENT = re.compile(r"(?<=/)\d+(?=[/.])")


def follows_webhooks(config: Mapping[str, Any]) -> bool:
    """Whether Shopify's webhooks are on: with SHOPIFY_WEBHOOK_SECRET set, or
    with Dev Dashboard credentials, whose shopify.app.toml declares them."""
    return bool(config.get("SHOPIFY_WEBHOOK_SECRET") or config.get("SHOPIFY_CLIENT_ID"))


def required_scopes(config: Mapping[str, Any]) -> list[str]:
    """The access scopes the configured features need, in a stable order."""
    scopes = list(DRAFT_SCOPES)
    if stock_check(config):
        scopes += STOCK_SCOPES
    if config.get("B2B_ORDERS"):
        scopes += B2B_SCOPES
    if config.get("RECONCILE_DAYS") or follows_webhooks(config):
        scopes += ORDER_SCOPES
    if config.get("SHOPIFY_CLIENT_ID"):
        scopes += APP_PROXY_SCOPES
    return scopes


def prepare_scopes(stock: bool, company: bool) -> tuple[str, ...]:
    """What one PrepareDraft query needs: the variants' products and inventory
    (the stock policy), the customer and the company location (a B2B cart)."""
    return (STOCK_SCOPES if stock else ()) + (B2B_SCOPES if company else ())


def topic_scopes(topic: str) -> tuple[str, ...]:
    """What subscribing to a webhook topic (REST's spelling) needs."""
    return TOPIC_SCOPES.get(topic, ())


def rest_operation(method: str, url: str) -> str | None:
    """The OPERATION_SCOPES key of a REST call ("GET draft_orders/{id}.json"),
    or None for an address we do not call that way (a 202's Location, say)."""
    found = _VERSIONED_PATH.match(urlsplit(url).path)
    if found is None:
        return None
    operation = f"{method} {_NUMBER_SEGMENT.sub('{id}', found.group(1))}"
    return operation if operation in OPERATION_SCOPES else None


def rest_scopes(method: str, url: str) -> tuple[str, ...]:
    """What the REST call to `url` needs (nothing known: empty)."""
    operation = rest_operation(method, url)
    return OPERATION_SCOPES[operation] if operation else ()


def lacking(needed: tuple[str, ...], said: str = "") -> str:
    """A refusal's detail: the scope the call needs, named by us, then what
    Shopify said (`said`), which may name none."""
    names = ", ".join(needed)
    if len(needed) == 1:
        detail = f"The access token lacks the {names} scope this call needs."
    elif needed:
        detail = f"The access token lacks one of the {names} scopes this call needs."
    else:
        detail = "The access token lacks a scope this call needs."
    return f"{detail} Shopify says: {said}" if said else detail
