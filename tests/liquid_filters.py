"""Render templates/snippet.liquid the way a Shopify theme does, with a real
Liquid engine (python-liquid) plus the two Shopify filters the snippet needs.

Shopify documents `hmac_sha256` as the hex HMAC-SHA256 of the input string
keyed by the argument, and `json` as the JSON form of any value, nil being
`null`. python-liquid's own `json` (liquid.extra) fails on undefined values,
so both are written here from those descriptions.
"""

import hashlib
import hmac
import json

from liquid import Environment, is_undefined

from app.setup import snippet


def _text(value):
    """Liquid's string form of a filter input: nil and undefined are ''."""
    if value is None or is_undefined(value):
        return ""
    return value if isinstance(value, str) else str(value)


def hmac_sha256(value, key=None):
    return hmac.new(_text(key).encode(), _text(value).encode(), hashlib.sha256).hexdigest()


def json_filter(value):
    return json.dumps(None if is_undefined(value) else value)


def shopify_environment():
    env = Environment()
    env.add_filter("hmac_sha256", hmac_sha256)
    env.add_filter("json", json_filter)
    return env


def render_snippet(receiver_url, secret, cart, customer=None):
    """The snippet's HTML, with the merchant's two values filled in as the
    setup page tells them to, for a shopper with this cart (and account)."""
    template = shopify_environment().from_string(snippet(receiver_url, secret))
    return template.render(cart=cart, customer=customer)
