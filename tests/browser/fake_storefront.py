"""A fake Shopify storefront: one cart page rendering templates/snippet.liquid
with a real Liquid engine, and a live /cart.js that a test can change after the
page has loaded, as a shopper editing the cart in another tab would."""

import copy

from flask import Flask, jsonify
from liquid_filters import render_snippet

SECRET = "browser-test-secret"
CUSTOMER = {"id": 207119551, "email": "bob.norman@example.com", "first_name": "Bob"}

# Records what the page's own scripts throw, independently of Chrome's log format.
_ERROR_HOOK = """<script>
  window.__pageErrors = [];
  addEventListener("error", function (e) { __pageErrors.push(String(e.message)); });
  addEventListener("unhandledrejection", function (e) { __pageErrors.push(String(e.reason)); });
</script>"""
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Your cart</title>{hook}</head>
<body><h1>Your cart</h1>
{snippet}
</body></html>"""


def sample_cart():
    """A cart as Shopify's /cart.js gives it (the fields the receiver reads and some it ignores)."""
    return {
        "token": "c1-7a2f4e9d0b", "note": "Gift wrap, please", "attributes": {"Deliver": "Friday"},
        "item_count": 3, "currency": "USD", "total_price": 5900, "requires_shipping": True,
        "items": [
            {"id": 39072856, "key": "39072856:9f1c", "variant_id": 39072856, "quantity": 2,
             "product_id": 7513594, "title": "Shirt - M", "price": 1950,
             "properties": {"Engraving": 'Für dich ♥ "quoted" <b>&amp;</b>'}},
            {"id": 457924702, "key": "457924702:1b2c", "variant_id": 457924702, "quantity": 1,
             "product_id": 632910392, "title": "Mug", "price": 2000, "properties": {}},
        ],
    }


class Storefront:
    """The shop's theme: one cart page with our snippet, and the live /cart.js."""

    def __init__(self):
        self.receiver_url = None
        self.reset()

    def reset(self):
        self.cart = sample_cart()
        self.customer = copy.deepcopy(CUSTOMER)
        self.secret = SECRET
        self.cart_js_fails = False

    def app(self):
        app = Flask(__name__)

        @app.get("/cart")
        def cart_page():
            snippet = render_snippet(self.receiver_url, self.secret, self.cart, self.customer)
            return _PAGE.format(hook=_ERROR_HOOK, snippet=snippet)

        @app.get("/cart.js")
        def cart_js():
            if self.cart_js_fails:
                return jsonify(status=500, message="Internal error"), 500
            return jsonify(self.cart)

        @app.get("/favicon.ico")
        def favicon():
            return "", 204

        return app
