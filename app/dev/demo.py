"""`flask --app app demo`: the whole product on loopback, no Shopify store needed.

Three servers on three origins, as in production: the Admin API simulator
(Shopify), the receiver pointed at it, and a demo storefront whose cart page
renders templates/snippet.liquid with a real Liquid engine. The browser tests
use the same storefront, so what a newcomer sees is what the tests check.

The receiver gets its tokens as a Dev Dashboard app does since 2026: by default
with client credentials (the shop organization's own app), or with `--oauth` by
the merchant installing it (an authorization code, then refresh tokens).

`app.dev.cli` holds the command's options and imports this module only when
the demo runs; the demo brings its own settings, so none need to be set.
"""

import copy
import hashlib
import hmac
import json
import signal
import socket
import tempfile
import threading
import uuid
from pathlib import Path

import click
from flask import Flask, jsonify, redirect, request
from markupsafe import escape

from .. import create_app
from ..config import DEFAULT_API_VERSION
from ..shopify.subscriptions import subscribe
from ..shopify.webhooks import PATH, TOPICS
from ..web.setup_page import snippet
from .serving import serve_in_thread
from .simulator import create_simulator
from .storefront_proxy import AppProxy, forward

SECRET = "demo-shared-secret"
# The demo app's credentials, as the Dev Dashboard gives them; the simulator signs
# its webhooks with the client secret, as Shopify does for such apps.
CLIENT_ID = "demo_client_id"
CLIENT_SECRET = "demo_client_secret_7d41c9e2a5"
TOKEN = "shpat_demo_token"  # a legacy admin-created app's token the simulator still takes
INSTALL_PATH = "/auth/shopify"  # on the receiver: the app URL Shopify opens
CALLBACK_PATH = "/auth/shopify/callback"  # on the receiver: the OAuth redirect_uri
ADMIN_PASSWORD = "demo"
CUSTOMER = {"id": 207119551, "email": "bob.norman@example.com", "first_name": "Bob"}

# With --api graphql: a code to try, a second currency, and an item that sells out,
# which the receiver's OUT_OF_STOCK_POLICY=drop leaves out of the draft.
DISCOUNT_CODE = "SPRING10"
CURRENCIES = ("USD", "EUR")
SOLD_OUT = {"variant_id": 808950810, "product_id": 921728736, "title": "Poster (sold out)",
            "price": 1500}
# The shop's products, whichever API the receiver speaks: each draft is titled and
# priced from here, so both APIs' invoices show what the cart page shows.
CATALOGUE = {
    39072856: {"title": "Shirt - M", "price": "19.50"},
    457924702: {"title": "Mug", "price": "20.00"},
    SOLD_OUT["variant_id"]: {"title": SOLD_OUT["title"], "price": "15.00",
                             "inventory_quantity": 0, "inventory_policy": "deny"},
}
GRAPHQL_SHOP = {"discount_codes": {DISCOUNT_CODE: {"percentage": 10}}}
GRAPHQL_SETTINGS = {"SHOPIFY_API": "graphql", "OUT_OF_STOCK_POLICY": "drop"}


def sample_cart():
    """A cart as Shopify's /cart.js gives it: the fields we read and some we ignore."""
    return {
        "token": "c1-7a2f4e9d0b", "note": "Gift wrap, please", "attributes": {"Deliver": "Friday"},
        "item_count": 3, "currency": "USD", "total_price": 5900, "requires_shipping": True,
        "discount_codes": [],
        "items": [
            {"id": 39072856, "key": "39072856:9f1c", "variant_id": 39072856, "quantity": 2,
             "product_id": 7513594, "title": "Shirt - M", "price": 1950,
             "properties": {"Engraving": 'Für dich ♥ "quoted" <b>&amp;</b>'}},
            {"id": 457924702, "key": "457924702:1b2c", "variant_id": 457924702, "quantity": 1,
             "product_id": 632910392, "title": "Mug", "price": 2000, "properties": {}},
        ],
    }


# --- Liquid, as a Shopify theme renders it -------------------------------------------------

def _liquid():
    """python-liquid, a dev dependency: imported on use, so that the demo run
    without the dev extras says what to install rather than showing a traceback."""
    try:
        import liquid
    except ImportError:
        raise click.ClickException(
            'the demo renders Liquid with python-liquid: pip install -e ".[dev]"') from None
    return liquid


def _liquid_text(value):
    """Liquid's string form of a filter input: nil and undefined are ''."""
    if value is None or _liquid().is_undefined(value):
        return ""
    return value if isinstance(value, str) else str(value)


def hmac_sha256(value, key=None):
    """Shopify's filter: hex HMAC-SHA256 of the input, keyed by the argument."""
    return hmac.new(_liquid_text(key).encode(), _liquid_text(value).encode(),
                    hashlib.sha256).hexdigest()


def json_filter(value):
    """Shopify's `json`: nil and undefined become null (python-liquid's would fail)."""
    return json.dumps(None if _liquid().is_undefined(value) else value)


def render_snippet(receiver_url, secret, cart, customer=None, signature_mode="mechanic",
                   mode="hmac"):
    """The snippet's HTML with the merchant's values filled in as the setup
    page tells them to, for a shopper with this cart (and account); `mode`
    "proxy" is the app proxy's snippet, which has no secret.

    python-liquid's own `date` already renders `"now" | date: "%s"` as Shopify
    does (the current unix seconds), which the timestamped signature needs."""
    env = _liquid().Environment()
    env.add_filter("hmac_sha256", hmac_sha256)
    env.add_filter("json", json_filter)
    text = snippet(receiver_url, secret, signature_mode, mode)
    return env.from_string(text).render(cart=cart, customer=customer)


# --- The storefront ------------------------------------------------------------------------

_GRAPHQL_EXTRAS = """<form action="/cart/currency"><label>Currency
<select name="code">{currencies}</select></label> <button>Change</button></form>
<form action="/cart/discount"><label>Discount code
<input name="code" placeholder="{code}" size="12"></label> <button>Apply</button>
{applied}</form>
<p><a href="/cart/add-sold-out">Add a sold-out poster</a> (the receiver drops it from the
draft: OUT_OF_STOCK_POLICY=drop)</p>"""

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Your cart</title>{head}
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}}
li{{margin:.25rem 0}}</style></head>
<body><h1>Your cart</h1>
<p>Signed in as {who}. Shopify renders this page; the button below is our snippet.</p>
<ul>{lines}</ul>
<p><a href="/cart/add-mug">Add a mug</a> (changes the cart without re-rendering the button's
<code>data-cart</code>: the script still sends the current cart)</p>
{extras}
{snippet}
<p id="demo-invoice" hidden>Shopify emails the invoice to the customer; here it is:
<a id="demo-invoice-link" target="_blank" rel="noopener">open the invoice</a> and pay it
("Pay now"), then watch this page.</p>
<script>
/* The theme's own code may listen to the snippet's events (README): here, to link the invoice. */
document.addEventListener("cart-draft-order:success", function (event) {{
  var url = event.detail.draftOrder.invoice_url;
  if (url) {{
    document.getElementById("demo-invoice-link").href = url;
    document.getElementById("demo-invoice").hidden = false;
  }}
}});
</script>
</body></html>"""


class Storefront:
    """The shop's theme: one cart page with our snippet, and a live /cart.js;
    with `graphql`, also a currency to switch to and a discount code to apply.
    With `proxy` (an AppProxy), the shop's /apps/<subpath>/… is forwarded to the
    receiver as Shopify's app proxy does, and `mode` "proxy" renders its snippet."""

    def __init__(self, head="", graphql=False, mode="hmac"):
        self.head = head  # extra <head> markup, e.g. a test's error hook
        self.graphql = graphql
        self.receiver_url = None
        self.default_mode = mode
        self.proxy = None
        self.reset()

    def reset(self):
        """A new shopping session: a cart with a token of its own, as Shopify gives
        each new cart (the receiver treats the same token and lines as a resubmission)."""
        self.cart = {**sample_cart(), "token": f"c1-{uuid.uuid4().hex[:12]}"}
        self.customer = copy.deepcopy(CUSTOMER)
        self.secret = SECRET
        self.signature_mode = "mechanic"
        self.mode = self.default_mode
        self.cart_js_fails = False

    def _page(self, guest=False):
        """The cart page; `guest`: as a shopper who is not signed in sees it (the
        snippet's contact form), whoever the storefront's customer is."""
        customer = None if guest else self.customer
        lines = "".join(f"<li>{item['quantity']} × {escape(item.get('title', item['variant_id']))}"
                        f"</li>" for item in self.cart["items"])
        who = f"customer {customer['id']}" if customer else "a guest"
        html = render_snippet(self.receiver_url, self.secret, self.cart, customer,
                              self.signature_mode, self.mode)
        return _PAGE.format(head=self.head, who=who, lines=lines, snippet=html,
                            extras=self._graphql_extras() if self.graphql else "")

    def _graphql_extras(self):
        currencies = "".join(
            f'<option{" selected" if code == self.cart["currency"] else ""}>{code}</option>'
            for code in CURRENCIES)
        codes = [entry["code"] for entry in self.cart["discount_codes"]]
        applied = f"applied: {escape(', '.join(codes))}" if codes else ""
        return _GRAPHQL_EXTRAS.format(currencies=currencies, code=DISCOUNT_CODE, applied=applied)

    def app(self):
        app = Flask(__name__)

        @app.get("/")
        def home():
            return redirect("/cart")

        @app.get("/cart")
        def cart_page():
            return self._page()

        @app.get("/guest/cart")
        def guest_cart_page():  # a guest's quote: the contact form above the button
            return self._page(guest=True)

        @app.get("/cart.js")
        def cart_js():
            if self.cart_js_fails:
                return jsonify(status=500, message="Internal error"), 500
            return jsonify(self.cart)

        @app.get("/cart/add-mug")
        def add_mug():
            self.cart["items"][-1]["quantity"] += 1
            return redirect("/cart")

        @app.get("/cart/currency")
        def change_currency():
            if request.args.get("code") in CURRENCIES:
                self.cart["currency"] = request.args["code"]
            return redirect("/cart")

        @app.get("/cart/discount")
        def apply_discount():
            code = request.args.get("code", "").strip()[:255]
            if code:  # as Shopify's cart does, listed whether or not it applies
                self.cart["discount_codes"].append(
                    {"code": code, "applicable": code.upper() == DISCOUNT_CODE})
            return redirect("/cart")

        @app.get("/cart/add-sold-out")
        def add_sold_out():
            self.cart["items"].append({**SOLD_OUT, "id": SOLD_OUT["variant_id"],
                                       "key": f"{SOLD_OUT['variant_id']}:0", "quantity": 1,
                                       "properties": {}})
            return redirect("/cart")

        @app.route("/apps/<subpath>/<path:rest>", methods=["GET", "POST"])
        def app_proxy(subpath, rest):
            if self.proxy is None or subpath != self.proxy.subpath:
                return "Not found", 404
            return forward(self.proxy, rest, self.customer["id"] if self.customer else None)

        @app.get("/favicon.ico")
        def favicon():
            return "", 204

        return app


# --- Putting the three together --------------------------------------------------------------

def demo_shop(api="rest", oauth=False, receiver_url=None):
    """The simulator's settings: the demo app's credentials; with `oauth`, an app
    of another organization, not yet installed (client credentials are refused
    with shop_not_permitted), whose app URL and redirect URL are the receiver's."""
    shop = {"token": TOKEN, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "catalogue": CATALOGUE, **(GRAPHQL_SHOP if api == "graphql" else {})}
    if oauth:
        shop |= {"organization": False, "installed": False,
                 "application_url": receiver_url + INSTALL_PATH,
                 "redirect_urls": [receiver_url + CALLBACK_PATH]}
    return shop


def token_lives(seconds):
    """The simulator's settings that make every access token it issues last
    `seconds`, so that renewals can be watched."""
    return {"token_seconds": seconds, "expiring_seconds": seconds}


def receiver_settings(shop_url, receiver_url, storefront_url, directory, api="rest",
                      oauth=False):
    """The receiver's settings: the app's client id and secret (no access token, and
    no webhook secret: it is the client secret); with `oauth`, its own address."""
    return {
        "SHOPIFY_SHOP": shop_url, "SHOPIFY_CLIENT_ID": CLIENT_ID,
        "SHOPIFY_CLIENT_SECRET": CLIENT_SECRET, "SHARED_SECRET": SECRET,
        "DATABASE_URL": f"sqlite:///{Path(directory) / 'demo-events.sqlite3'}",
        "ALLOWED_ORIGINS": storefront_url, "RUN_WORKER": "1",
        "ADMIN_PASSWORD": ADMIN_PASSWORD, "SECRET_KEY": "", "GUEST_CARTS": "allow",
        "SEND_INVOICE": "1", "GUEST_CUSTOM_FIELDS": "PO number",
        **({"PUBLIC_URL": receiver_url} if oauth else {}),
        **(GRAPHQL_SETTINGS if api == "graphql" else {}),
    }


class _LateApp:
    """A WSGI app named after its server listens, so that the receiver's settings
    can hold its own address (PUBLIC_URL) when the port is picked at start."""

    def __init__(self):
        self.app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


def start(directory, ports=(0, 0, 0), simulator_config=None, api="rest", oauth=False,
          mode="proxy"):
    """Start simulator, receiver (with its worker thread) and storefront; return
    their servers and the simulator's state. Port 0 picks a free port.
    `simulator_config` overrides the demo shop's settings; `oauth` has the app
    installed by the merchant (/_sim/launch) rather than run on client credentials;
    `mode` is the snippet's: "proxy" (the app proxy, the storefront forwarding
    /apps/send-cart/… signed with the client secret) or "hmac" (SHARED_SECRET)."""
    receiver_port, simulator_port, storefront_port = ports
    late = _LateApp()
    receiver = serve_in_thread(late, port=receiver_port)
    simulator_app = create_simulator({**demo_shop(api, oauth, receiver.url),
                                      **(simulator_config or {})})
    simulator = serve_in_thread(simulator_app, port=simulator_port)
    shop = simulator_app.extensions["shopify_simulator"]
    storefront = Storefront(graphql=api == "graphql", mode=mode)
    storefront_server = serve_in_thread(storefront.app(), port=storefront_port)
    receiver_app = create_app(receiver_settings(simulator.url, receiver.url,
                                                storefront_server.url, directory, api, oauth))
    late.app = receiver_app
    storefront.receiver_url = receiver.url
    storefront.proxy = AppProxy(receiver.url, CLIENT_SECRET, shop.config["shop_domain"],
                                receiver_app.config["APP_PROXY_SUBPATH"])
    if oauth:
        # Not installed yet, the receiver has no token to subscribe with: the app's
        # subscriptions come with it, as a Dev Dashboard app declares them in its
        # configuration and Shopify applies them to each shop it is installed on.
        for topic in TOPICS:
            shop.subscribe(topic, receiver.url + PATH, DEFAULT_API_VERSION)
    else:
        # What `flask --app app webhooks register` does for a deployed receiver.
        for topic, problem in subscribe(receiver_app.extensions["shopify"], TOPICS,
                                        receiver.url + PATH):
            if problem:
                raise click.ClickException(
                    f"the simulator refused the {topic} webhook: {problem}")
    stop_worker = receiver_app.extensions["worker"].start()
    return {"simulator": simulator, "storefront": storefront_server, "receiver": receiver,
            "shop": shop, "stop_worker": stop_worker}


ROLES = ("receiver", "simulator", "storefront")  # on --port and the next two ports


def stop(running):
    """Stop what `start` started: the worker, then the three servers."""
    running["stop_worker"].set()
    for name in ("receiver", "storefront", "simulator"):
        running[name].shutdown()


def unavailable_ports(ports, host="127.0.0.1"):
    """(port, role, reason) for each port a server could not listen on now.

    Checked before starting: Werkzeug's server, on a busy port, prints its own
    message naming that one port and exits, without a word about --port."""
    found = []
    for port, role in zip(ports, ROLES, strict=True):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
            try:
                probe.bind((host, port))
            except OSError as error:
                found.append((port, role, error.strerror))
    return found


def banner(urls, api="rest", oauth=False):
    """What the demo prints once running, `urls` being the three servers' addresses."""
    install = (f"  1. Install the app: open {urls['simulator']}/_sim/launch\n"
               f"     (the merchant installs it: Shopify opens the receiver's {INSTALL_PATH},\n"
               f"     which sends you to the install page, then back to {CALLBACK_PATH})\n"
               if oauth else "")
    try_out = (f"  with the GraphQL Admin API: try the code {DISCOUNT_CODE}, the currency "
               f"{CURRENCIES[1]} and a sold-out item on the cart page\n"
               if api == "graphql" else "")
    how = ("an app installed by OAuth" if oauth
           else "the shop's own app, tokens by client credentials")
    return (
        "Demo running on loopback (Ctrl-C to stop):\n" + install + try_out +
        f"  storefront  {urls['storefront']}/cart   <- open this, press the button,\n"
        f"              then open the invoice it links to and pay it\n"
        f"              {urls['storefront']}/guest/cart   (a guest's quote form)\n"
        f"  receiver    {urls['receiver']}/   (event log: /admin, "
        f"password '{ADMIN_PASSWORD}')\n"
        f"  simulator   {urls['simulator']}/_sim/draft_orders   "
        f"(the draft orders 'Shopify' holds)\n"
        f"              {how}: client id '{CLIENT_ID}',\n"
        f"              client secret '{CLIENT_SECRET}'")


def run(port, polling, api="rest", oauth=False, token_seconds=None, mode="proxy"):
    """The demo command: serve until Ctrl-C or SIGTERM, then remove the temporary folder.
    `token_seconds` shortens the simulator's token lives, to watch renewals."""
    ports = (port, port + 1, port + 2)
    unavailable = unavailable_ports(ports)
    if unavailable:
        reasons = "; ".join(f"port {number} (the {role}): {reason}"
                            for number, role, reason in unavailable)
        raise click.ClickException(
            f"cannot listen on {reasons}. The demo needs three free ports in a row: "
            f"--port for the receiver, the next two for the simulator and the storefront; "
            f"choose others with --port, e.g. --port {port + 1000}")
    # GraphQL's draftOrderCreate answers at once: there is no 202 to poll.
    config = {"mode": "accepted", "accepted_polls": 1} if polling and api == "rest" else {}
    if token_seconds:
        config |= token_lives(token_seconds)
    # SIGTERM (kill, a process manager) stops the demo as Ctrl-C does, so the
    # temporary folder is removed either way.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with tempfile.TemporaryDirectory(prefix="cart-draft-demo-") as directory:
        running = start(directory, ports, config, api, oauth, mode)
        click.echo(banner({role: running[role].url for role in ROLES}, api, oauth))
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            click.echo("\ndemo stopped")
        finally:
            stop(running)
