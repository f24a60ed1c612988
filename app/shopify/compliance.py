"""Shopify's three mandatory compliance webhooks, their pure rules: what each
body asks for.

Shopify sends them, HMAC-signed like its other webhooks, to the address a
shopify.app.toml declares as `compliance_topics` (they cannot be subscribed
through the Admin API); a bad signature must be answered 401, a good one 2xx,
and the action is due within 30 days
(https://shopify.dev/docs/apps/build/privacy-law-compliance):

- `customers/data_request`: shop_id, shop_domain, orders_requested[],
  customer {id, email, phone}, data_request {id}: give the merchant the data
  held about that customer;
- `customers/redact`: shop_id, shop_domain, customer {id, email, phone},
  orders_to_redact[]: erase that customer's data;
- `shop/redact`: shop_id, shop_domain, 48 hours after the app's uninstall:
  erase the shop's data.

app/intake/shopify_webhooks.py keeps them (app/shopify/webhooks.py's
`receipt` asks `read_request` whether a body is one), app/delivery/privacy.py
acts on them.
"""

from typing import Any, NamedTuple

from ..ids import MAX_BIGINT, positive_id

DATA_REQUEST, CUSTOMER_REDACT, SHOP_REDACT = \
    "customers/data_request", "customers/redact", "shop/redact"
COMPLIANCE_TOPICS = (DATA_REQUEST, CUSTOMER_REDACT, SHOP_REDACT)

MAX_EMAIL_CHARS = 254  # RFC 5321's longest forward path, less its brackets
MAX_REQUEST_ID_CHARS = 64


class PrivacyRequest(NamedTuple):
    """What a compliance webhook asks for; a customer's requests name an id, an
    email or both (`email` as given, compared case-insensitively)."""

    topic: str
    customer_id: int | None = None
    email: str | None = None
    data_request_id: str | None = None


def valid_email(value: object) -> str | None:
    """`value` when it is text of an email address's shape and length, else None."""
    if not isinstance(value, str) or not 3 <= len(value) <= MAX_EMAIL_CHARS:
        return None
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain or any(char.isspace() or ord(char) < 0x20
                                                 for char in value):
        return None
    return value


def read_request(topic: str, payload: Any) -> tuple[PrivacyRequest, None] | tuple[None, str]:
    """The PrivacyRequest a compliance webhook's body makes, or (None, why it
    makes none). `payload` is the body as JSON (Any)."""
    if not isinstance(payload, dict):
        return None, "the body is not a JSON object"
    if topic == SHOP_REDACT:
        return PrivacyRequest(SHOP_REDACT), None
    customer = payload.get("customer")
    if not isinstance(customer, dict):
        return None, "the body names no customer"
    customer_id = positive_id(customer.get("id"), MAX_BIGINT)
    email = valid_email(customer.get("email"))
    if customer_id is None and email is None:
        return None, "the body's customer has no readable id or email"
    request_id = None
    if topic == DATA_REQUEST:
        data_request = payload.get("data_request")
        raw = data_request.get("id") if isinstance(data_request, dict) else None
        request_id = str(raw)[:MAX_REQUEST_ID_CHARS] if isinstance(raw, (int, str)) else None
    return PrivacyRequest(topic, customer_id, email, request_id), None


def request_essentials(payload: Any) -> dict[str, Any]:
    """Of a body too long to keep (a long orders_requested), the fields
    `read_request` reads."""
    kept: dict[str, Any] = {}
    for key, fields in (("customer", ("id", "email")), ("data_request", ("id",))):
        value = payload.get(key) if isinstance(payload, dict) else None
        if isinstance(value, dict):
            kept[key] = {field: _bounded(value[field]) for field in fields
                         if isinstance(value.get(field), (int, str))}
    return kept


def _bounded(value: int | str) -> int | str:
    """A field as `read_request` reads it, but never longer than the longest it
    takes (a longer email is none, still; a data request id is cut shorter)."""
    return value[:MAX_EMAIL_CHARS + 1] if isinstance(value, str) else value
