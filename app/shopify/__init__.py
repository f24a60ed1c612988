"""Talking to Shopify's Admin API: one interface, two backends.

`SHOPIFY_API` chooses the backend, `rest` (rest.py, the default) or `graphql`
(graphql.py); the worker, the exactly-once rules and the store never know which.
Each backend offers:

- `timeout`, and `trusted_url(location)` (raises UntrustedLocation);
- `tokens` (tokens.py): where its access token comes from. Any call may raise
  tokens.CredentialsUnavailable (the merchant's setup gives no token: wait) or
  tokens.TokenUnavailable (the token endpoint failed: try again later), before
  anything is sent;
- `needs_preparation(payload)`: whether the event needs a read before its draft
  (the stock policy, a B2B company contact), and `prepare(payload)`;
- `create(payload, prepared, ready)`: the one call that may make a draft. It asks
  `ready()` after pacing, and returns (None, None) when that says no;
- `poll(url)`: a REST 202's Location;
- `lookup(event_id, since)`: the draft marked with the event, if any;
- `send_invoice(draft_id, subject, message, ready)`: the draft's invoice to its
  customer's email (an empty subject or message: Shopify's); `ready()` as for
  `create`. Outcome kinds: sent | rejected | throttled | unavailable;
- `read_draft(draft_id, with_order=True)`: the draft as it is now, Outcome kind
  "seen" with a lifecycle.DraftSeen (a draft Shopify no longer has: deleted),
  and the name of the order it became, unless `with_order` is false (REST reads
  the order in a second call, which needs read_orders);
- `pacer`, whose `has_room()` says the bucket is at most half used: calls that
  can wait (re-reading drafts) go only then;
- `read_shop_and_scopes()`, for doctor (one call under GraphQL);
- `list_webhooks()`: (Answer, [{"topic", "address"}] or None), the shop's
  webhook subscriptions, each topic as the API spells it (REST
  `orders/create`, GraphQL `ORDERS_CREATE`), for doctor and `webhooks list`;
- `create_webhook(topic, address)`: (Answer, None when subscribed, else why
  not in a sentence), `topic` in REST's spelling (`webhooks register`).

Calls return `(Answer, Outcome)`: the exchange as the event log keeps it, and
what it means (answers.py).

Shopify's other rules live here too: `pacing` (its rate limits), `scopes` (the
access scopes each call needs), `webhooks` (its webhooks' topics, signature and
reading) and `subscriptions` (subscribing to them).

May import: the base modules (config, states, ids, lifecycle, retry) only;
never store, intake, notifications, delivery, web, ops or dev.
"""

from .addresses import admin_api_url, admin_url, draft_order_admin_url, is_web_url, shop_domain
from .answers import Answer, Outcome, UntrustedLocation
from .graphql import GraphQLClient
from .pacing import CallPacer
from .rest import RestClient

__all__ = ["Answer", "GraphQLClient", "Outcome", "RestClient", "UntrustedLocation",
           "admin_api_url", "admin_url", "draft_order_admin_url", "is_web_url", "make_client",
           "shop_domain"]


def make_client(settings, tokens=None):
    """The backend `settings` (the app's config) choose, paced for its API, with
    its token from `tokens` (tokens.py; by default SHOPIFY_ACCESS_TOKEN's)."""
    common = (settings["SHOPIFY_BASE_URL"], tokens or settings["SHOPIFY_ACCESS_TOKEN"],
              settings["SHOPIFY_API_VERSION"], settings["SHOPIFY_TIMEOUT"])
    if settings.get("SHOPIFY_API") == "graphql":  # the feature settings are read as it drafts
        return GraphQLClient(*common, features=settings)  # paced by cost
    return RestClient(*common, pacer=CallPacer(settings["SHOPIFY_LEAK_RATE"]))
