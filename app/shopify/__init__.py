"""Talking to Shopify's Admin API: one interface, two backends.

`SHOPIFY_API` chooses the backend, `rest` (rest.py, the default) or `graphql`
(graphql.py); the worker, the exactly-once rules and the store never know which.
What each offers, and may be asked, is backend.py's ShopifyBackend.

Shopify's other rules live here too: `pacing` (its rate limits), `scopes` (the
access scopes each call needs), `webhooks` (its webhooks' topics, signature and
reading), `compliance` (the three privacy webhooks' bodies) and `subscriptions`
(subscribing to them).

May import: the base modules (config, states, ids, lifecycle, retry) only;
never store, intake, notifications, delivery, web, ops or dev.
"""

from collections.abc import Mapping
from typing import Any

from .addresses import admin_api_url, admin_url, draft_order_admin_url, is_web_url, shop_domain
from .answers import Answer, Outcome, UntrustedLocation
from .backend import ShopifyBackend
from .graphql import GraphQLClient
from .pacing import CallPacer
from .rest import RestClient
from .tokens import Tokens

__all__ = ["Answer", "GraphQLClient", "Outcome", "RestClient", "ShopifyBackend",
           "UntrustedLocation", "admin_api_url", "admin_url", "draft_order_admin_url",
           "is_web_url", "make_client", "shop_domain"]


# `settings` is the app's config, as Flask's config holds it (values of any type): Any.
def make_client(settings: Mapping[str, Any], tokens: Tokens | None = None) -> ShopifyBackend:
    """The backend `settings` (the app's config) choose, paced for its API, with
    its token from `tokens` (tokens.py; by default SHOPIFY_ACCESS_TOKEN's)."""
    common = (settings["SHOPIFY_BASE_URL"], tokens or settings["SHOPIFY_ACCESS_TOKEN"],
              settings["SHOPIFY_API_VERSION"], settings["SHOPIFY_TIMEOUT"])
    if settings.get("SHOPIFY_API") == "graphql":  # the feature settings are read as it drafts
        return GraphQLClient(*common, features=settings)  # paced by cost
    return RestClient(*common, pacer=CallPacer(settings["SHOPIFY_LEAK_RATE"]))
