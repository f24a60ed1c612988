"""A local stand-in for the Shopify Admin API, REST and GraphQL: draft orders, scopes, shop.

It exists so the receiver can be tested against Shopify's awkward behaviours
(202 polling, leaky-bucket 429s, 422 validation, 5xx, lost answers) without a
network or a real store. It also serves the two pages a draft order links to
(the shop admin's and the invoice), so the demo's merchant view has no dead
ends. Its GraphQL endpoint (simulator_graphql) works on the same drafts, with
its own cost bucket. It plays a draft's lifecycle too: invoices, completion into
an order ("the customer paid", from /_sim or the invoice page's Pay now),
deletion, and the signed webhooks each change sends to the subscribed addresses
(simulator_webhooks). Its app has a client id and secret, as Dev Dashboard apps
do: tokens come from its token endpoint, by client credentials, an OAuth install
or a refresh (simulator_auth). It depends on nothing else in `app`, so it can run in
another process: `python -m waitress --call app.dev.simulator:create_simulator`.
"""

import base64
import json
import math
import re
import secrets
import socket
import threading
import time
from copy import deepcopy
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import urlencode, urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template_string,
    request,
)
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from . import simulator_auth as auth
from . import simulator_graphql as graphql
from . import simulator_webhooks as webhooks
from .simulator_graphql import Refused

EXTENSION = "shopify_simulator"
DROP_KEY = "shopify_simulator.drop"
FIRST_DRAFT_ID = 1069920000
FIRST_ORDER_ID = 5500000000
FIRST_ORDER_NUMBER = 1001
FIRST_WEBHOOK_ID = 4759306000
MAX_LIMIT = 250
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
RATE_LIMITED = "*rate limited*"  # hold key: a 429 asks every path to wait
REQUIRED_SCOPES = {
    "shopify_admin.create_draft_order": "write_draft_orders",
    "shopify_admin.get_draft_order": "read_draft_orders",
    "shopify_admin.list_draft_orders": "read_draft_orders",
    "shopify_admin.send_invoice": "write_draft_orders",
    "shopify_admin.get_order": "read_orders",
}

DEFAULT_CONFIG = {
    "token": "shpat_simulator_token",  # a legacy admin-created app's static token
    # The Dev Dashboard app: its client id and secret get tokens at /admin/oauth/access_token.
    "client_id": "sim_client_id",
    "client_secret": "sim_client_secret",
    # Set during a secret rotation: the token endpoint takes either secret, and
    # redirects, launches and webhooks are signed with this one (the oldest unrevoked).
    "previous_client_secret": None,
    "organization": True,  # the shop organization's own app: client credentials permitted
    "installed": True,  # False: client credentials refused; an install's code sets it True
    "token_seconds": 86399,  # a client-credentials token's life
    "expiring_seconds": 3600,  # an installed app's expiring access token's life
    "refresh_seconds": 7776000,  # a refresh token's life (90 days)
    "redirect_urls": None,  # None: any redirect_uri; else the allowed ones
    "application_url": None,  # the app URL /_sim/launch opens
    "shop_id": 548380009,
    "shop_domain": "simulator.myshopify.com",
    "api_versions": None,  # None: any YYYY-MM version; else only these, others 404
    # None: each version served as asked; else another version asked for is served
    # as the oldest of these, named in X-Shopify-API-Version (api_versions wins if set)
    "supported_versions": None,
    "scopes": ["read_draft_orders", "write_draft_orders", "read_customers", "read_products",
               "read_companies", "read_orders", "write_app_proxy"],
    "mode": "created",  # "created": 201 at once; "accepted": 202, then poll
    "accepted_polls": 2,  # polls answered 202 before the draft is ready
    "accepted_seconds": None,  # or ready once this many seconds have passed
    "accepted_listed": False,  # True: a 202's draft is listed at once, while still calculating
    "retry_after": 1.0,
    "fail_next": 0,
    "fail_status": 503,
    "delay_seconds": 0.0,  # do the work, then hold the answer back this long
    "delay_before_seconds": 0.0,  # hold the request this long before doing anything
    "down": False,  # an outage: every Admin API request gets `down_status`, nothing else
    "down_status": 503,
    "drop_after_create": 0,
    "fail_next_invoice": 0,  # as fail_next, for invoice sends
    "drop_after_invoice": 0,  # as drop_after_create: the invoice is sent, its answer lost
    # {customer_id: {"email": str or None}}; any other customer is customer<id>@example.com
    "customers": {},
    # Signs outgoing webhooks; None: the client secret (the previous one during a rotation)
    "webhook_secret": None,
    "webhooks_paused": False,  # record webhooks, send none
    "webhook_duplicates": False,  # send each webhook twice, same webhook id
    "webhook_reorder": False,  # hold one webhook back, send it after the next
    # {variant_id: {"title", "price", and optionally "inventory_quantity" (100),
    # "inventory_policy" ("deny"|"continue"), "tracked" (true), "product_status"
    # ("active"|"draft"|"archived"), "available" (derived from the others)}};
    # None: every variant exists, active, 100 in stock.
    "catalogue": None,
    "unknown_variants": [],
    "bucket_size": 40,
    "leak_rate": 2.0,
    "graphql_bucket_size": 1000,  # GraphQL cost points the bucket holds
    "graphql_restore_rate": 100.0,  # points restored per second
    "discount_codes": {},  # {"SPRING10": {"percentage": 10}}; other codes do not apply
    "currencies": ["USD", "EUR", "GBP", "CAD"],  # presentment currencies (shop's: USD)
    # {company_id: {"locations": [location ids], "contacts": {customer_id: contact_id}}}
    "companies": {},
}
SHOP_CURRENCY = "USD"
DEFAULT_STOCK = 100


class ConnectionDropped(Exception):
    """Raised to in-process callers (the test client), who have no socket to lose."""


class SimulatorState:
    """Everything the fake shop remembers, behind one lock because servers are threaded."""

    shop_name = "Simulated Shop"
    shop_currency = SHOP_CURRENCY

    def __init__(self, config=None, clock=None):
        self.clock = clock or time.monotonic
        self.lock = threading.RLock()
        self._initial = _normalised({**DEFAULT_CONFIG, **(config or {})})
        self._outbox = webhooks.Outbox(self._record_webhook)
        self.reset()

    def reset(self):
        """Back to the factory configuration, so tests sharing one server stay independent."""
        with self.lock:
            self.config = deepcopy(self._initial)
            self.draft_orders = []  # a deleted draft leaves the list
            self.orders = []  # the orders completed drafts became
            self.invoices = []  # every invoice sent
            self.webhooks = []  # the subscriptions, REST-shaped
            self.webhooks_sent = []  # every webhook delivery tried (or paused)
            self._drafts_made = 0
            self._outbox.forget_held()
            self.requests = []
            self.arrivals = []  # every Admin API request as it comes in, before any delay
            self._jobs = {}
            self._holds = {}
            self._bucket = 0.0
            self._bucket_at = self.clock()
            self._points = float(self.config["graphql_bucket_size"])
            self._points_at = self._bucket_at
            self._line_item_ids = 0
            self.tokens = auth.Tokens()
            self.token_requests = []  # every token endpoint request: grant_type, at, status

    def accepted_currencies(self):
        """The presentment currencies a draft may be in: the shop's own and the configured."""
        return [SHOP_CURRENCY, *(c for c in self.config["currencies"] if c != SHOP_CURRENCY)]

    def configure(self, **changes):
        with self.lock:
            self.config = _normalised({**self.config, **changes})

    def take(self, counter):
        """Spend one unit of a count-down setting such as `fail_next`."""
        with self.lock:
            if self.config[counter] <= 0:
                return False
            self.config[counter] -= 1
            return True

    def accepts_version(self, version):
        allowed = self.config["api_versions"]
        return (
            re.fullmatch(r"\d{4}-\d{2}", version) is not None
            if allowed is None
            else version in allowed
        )

    def served_version(self, version: str) -> str | None:
        """The version that answers a request for `version`, or None (a 404): an
        unsupported one falls back to the oldest supported, as at Shopify."""
        if not self.accepts_version(version):
            return None
        supported = self.config["supported_versions"]
        if self.config["api_versions"] is not None or supported is None or version in supported:
            return version
        return supported[0]

    def authorizes(self, token: str | None, now: float) -> bool:
        """The legacy static token, or a live access token the token endpoint issued."""
        with self.lock:
            return token == self.config["token"] or self.tokens.authorizes(token, now)

    def grant(self, form: dict) -> tuple[int, dict]:
        """The token endpoint: (status, body) for a grant request, each one recorded."""
        with self.lock:
            now = self.clock()
            grant_type = form.get("grant_type") or "authorization_code"
            try:
                auth.check_client(self.config, form.get("client_id"), form.get("client_secret"))
                if grant_type == "client_credentials":
                    status, body = 200, self.tokens.client_credentials(self.config, now)
                elif grant_type == "authorization_code":
                    body = self.tokens.authorization_code(
                        self.config, form.get("code"), str(form.get("expiring")) == "1", now)
                    status = 200
                    self.config["installed"] = True  # the merchant approved the install
                elif grant_type == "refresh_token":
                    status, body = 200, self.tokens.refresh_with(
                        self.config, form.get("refresh_token"), now)
                else:
                    raise auth.TokenRefused("unsupported_grant_type",
                                            f"Unsupported grant_type {grant_type!r}.")
            except auth.TokenRefused as refusal:
                status, body = refusal.status, refusal.body()
            self.token_requests.append({"grant_type": grant_type, "at": now, "status": status,
                                        "error": body.get("error")})
            return status, body

    def issue_code(self) -> str:
        with self.lock:
            return self.tokens.issue_code(self.clock())

    def revoke(self) -> dict:
        """Every issued token and code stops working (uninstalled, or revoked)."""
        with self.lock:
            return self.tokens.revoke_all()

    def signed_query(self, **params: str) -> dict:
        """`params` with the shop's `shop`, `host` and `timestamp`, and their `hmac`
        by the oldest unrevoked client secret: what Shopify adds to an app's URL."""
        with self.lock:
            domain = self.config["shop_domain"]
            query = {**params, "host": auth.host_parameter(domain), "shop": domain,
                     "timestamp": str(int(time.time()))}
            return {**query, "hmac": auth.query_signature(query, auth.signing_secret(self.config))}

    def find(self, draft_id):
        with self.lock:
            return next((deepcopy(d) for d in self.draft_orders if d["id"] == draft_id), None)

    def find_by_invoice(self, path):
        with self.lock:
            return next((deepcopy(d) for d in self.draft_orders
                         if urlsplit(d["invoice_url"]).path == path), None)

    def validation_errors(self, draft):
        """Shopify's 422 `errors` for this draft, or None when it would be accepted."""
        items = draft.get("line_items")
        if not isinstance(items, list) or not items:
            return {"line_items": ["can't be blank"]}
        messages = []
        for item in items:
            item = item if isinstance(item, dict) else {}
            variant_id = _as_int(item.get("variant_id"))
            if self.variant(variant_id) is None:
                messages.append(f"Variant {item.get('variant_id')} does not exist")
            elif (_as_int(item.get("quantity")) or 0) < 1:
                messages.append("Quantity must be greater than or equal to 1")
        return {"line_items": messages} if messages else None

    def create(self, draft, base_url, discount_codes=(), **extra):
        """Store a validated draft, priced and titled from the catalogue, never the request.

        GraphQL's draftOrderCreate adds what only it can carry: `discount_codes`
        (the first known one applies, the others are skipped as at Shopify) and
        `extra` fields such as currency or purchasing_company, kept as given."""
        with self.lock:
            self._drafts_made += 1
            number = self._drafts_made
            draft_id = FIRST_DRAFT_ID + number - 1
            line_items = [self._line_item(item) for item in draft["line_items"]]
            customer = draft.get("customer") if isinstance(draft.get("customer"), dict) else {}
            customer_id = _as_int(customer.get("id"))
            stamp = _stamp()
            total = sum(Decimal(li["price"]) * li["quantity"] for li in line_items)
            known = self.config["discount_codes"]
            applied = next((code for code in discount_codes if code.upper() in known), None)
            discount = (Decimal(0) if applied is None else
                        (total * Decimal(str(known[applied.upper()]["percentage"])) / 100
                         ).quantize(Decimal("0.01")))
            order = {
                "id": draft_id,
                "name": f"#D{number}",
                "status": "open",
                "invoice_url": (
                    f"{base_url}{self.config['shop_id']}/invoices/{secrets.token_hex(16)}"
                ),
                "admin_graphql_api_id": f"gid://shopify/DraftOrder/{draft_id}",
                "currency": SHOP_CURRENCY,
                "line_items": line_items,
                "subtotal_price": str(total - discount),
                "total_discounts": f"{discount:.2f}",
                "discount_codes": [] if applied is None else [applied],
                "customer": None if customer_id is None else {"id": customer_id},
                "note": draft.get("note"),
                "email": draft.get("email"),  # a guest's; a customer's is read from them
                "billing_address": deepcopy(draft.get("billing_address")),
                "note_attributes": deepcopy(draft.get("note_attributes") or []),
                "tags": draft.get("tags") or "",
                "created_at": stamp,
                "updated_at": stamp,
                "invoice_sent_at": None,
                "completed_at": None,
                "order_id": None,
                **extra,
            }
            self.draft_orders.append(order)
            return deepcopy(order)

    def send_invoice(self, draft_id, invoice, api):
        """Email the draft's invoice: to the customer's email unless `invoice` names
        another `to`. The draft becomes invoice_sent and draft_orders/update goes out.
        Returns the invoice as recorded in `invoices`; KeyError for an unknown draft,
        Refused for a completed one or one with nobody to send to."""
        with self.lock:
            draft = self._draft(draft_id)
            if draft["status"] == "completed":
                raise Refused("base", "This draft order has been completed")
            to = invoice.get("to") or draft.get("email") or self.customer_email(draft["customer"])
            if not to:
                raise Refused("to", "can't be blank")
            self._touch(draft, status="invoice_sent")
            draft["invoice_sent_at"] = draft["updated_at"]
            sent = {"draft_order_id": draft_id, "to": to,
                    "from": invoice.get("from") or f"no-reply@{self.config['shop_domain']}",
                    "subject": invoice.get("subject") or f"Invoice {draft['name']}",
                    "custom_message": invoice.get("custom_message") or "",
                    "sent_at": draft["invoice_sent_at"], "api": api}
            self.invoices.append(sent)
            self._announce("draft_orders/update", draft)
            return deepcopy(sent)

    def complete(self, draft_id):
        """The customer paid: the draft becomes an order (#1001 onwards, paid) and is
        completed; draft_orders/update and orders/create go out. Returns (draft, order);
        KeyError for an unknown draft, Refused for one already completed."""
        with self.lock:
            draft = self._draft(draft_id)
            if draft["status"] == "completed":
                raise Refused("base", "This draft order has already been completed")
            number = FIRST_ORDER_NUMBER + len(self.orders)
            order_id = FIRST_ORDER_ID + len(self.orders)
            self._touch(draft, status="completed", order_id=order_id)
            draft["completed_at"] = draft["updated_at"]
            order = {
                "id": order_id,
                "admin_graphql_api_id": graphql.gid("Order", order_id),
                "name": f"#{number}",
                "order_number": number,
                "financial_status": "paid",
                "fulfillment_status": None,
                "source_name": "shopify_draft_order",
                "currency": draft["currency"],
                "subtotal_price": draft["subtotal_price"],
                "total_discounts": draft["total_discounts"],
                "total_price": draft["subtotal_price"],
                "line_items": deepcopy(draft["line_items"]),
                "customer": deepcopy(draft["customer"]),
                "email": self.customer_email(draft["customer"]),
                "note": draft["note"],
                "note_attributes": deepcopy(draft["note_attributes"]),
                "tags": draft["tags"],
                "created_at": draft["updated_at"],
                "updated_at": draft["updated_at"],
                "processed_at": draft["updated_at"],
            }
            self.orders.append(order)
            self._announce("draft_orders/update", draft)
            self._announce("orders/create", order)
            return deepcopy(draft), deepcopy(order)

    def delete(self, draft_id):
        """Delete the draft (it is no longer found or listed); draft_orders/delete goes out.
        KeyError for an unknown draft."""
        with self.lock:
            self.draft_orders.remove(self._draft(draft_id))
            self._announce("draft_orders/delete", {"id": draft_id})

    def find_order(self, order_id):
        with self.lock:
            return next((deepcopy(o) for o in self.orders if o["id"] == order_id), None)

    def customer_email(self, customer):
        """A draft's customer's email: configured in `customers`, else made up from the id."""
        if not customer:
            return None
        configured = self.config["customers"].get(customer["id"])
        return configured["email"] if configured else f"customer{customer['id']}@example.com"

    def subscribe(self, topic, address, api_version):
        """A webhook subscription; Refused for an unknown topic or a topic and address
        already subscribed, as Shopify refuses them."""
        with self.lock:
            if topic not in webhooks.TOPICS:
                raise Refused("topic", f"Invalid topic specified: {topic}")
            if not isinstance(address, str) or not address:
                raise Refused("address", "can't be blank")
            if any(w["topic"] == topic and w["address"] == address for w in self.webhooks):
                raise Refused("address", "for this topic has already been taken")
            stamp = _stamp()
            subscription = {"id": FIRST_WEBHOOK_ID + len(self.webhooks), "address": address,
                            "topic": topic, "format": "json", "fields": [],
                            "metafield_namespaces": [], "api_version": api_version,
                            "created_at": stamp, "updated_at": stamp}
            self.webhooks.append(subscription)
            return deepcopy(subscription)

    def wait_for_webhooks(self, timeout=5.0):
        """True once every webhook handed to the sender has been tried (for tests)."""
        return self._outbox.wait_idle(timeout)

    def _draft(self, draft_id):
        """The stored draft itself (not a copy), to change under the lock; KeyError if none."""
        found = next((d for d in self.draft_orders if d["id"] == draft_id), None)
        if found is None:
            raise KeyError(draft_id)
        return found

    def _touch(self, draft, **changes):
        """Apply a change; updated_at always moves forward, so each change reads as newer."""
        previous = _parse_time(draft["updated_at"])
        now = datetime.now(timezone.utc).replace(microsecond=0)
        draft.update(changes, updated_at=max(now, previous + timedelta(seconds=1)).isoformat())

    def _announce(self, topic, payload):
        self._outbox.post(webhooks.deliveries(self.webhooks, topic, deepcopy(payload),
                                              self.config, auth.webhook_key(self.config)),
                          self.config)

    def _record_webhook(self, entry):
        with self.lock:
            self.webhooks_sent.append(entry)

    def accept(self, draft, base_url=None):
        """Queue a draft as Shopify does while still calculating; return the poll token.

        With `accepted_listed`, the draft exists (listed, found by id) from now on,
        and polls still answer 202 until it is ready."""
        with self.lock:
            token = secrets.token_hex(12)
            listed = self.config["accepted_listed"]
            self._jobs[token] = {
                "draft": deepcopy(draft),
                "since": self.clock(),
                "polls": 0,
                "id": self.create(draft, base_url)["id"] if listed else None,
                "ready": False,
            }
            return token

    def poll(self, token, base_url):
        """The draft once ready (created on that poll, and only then, unless
        `accepted_listed` created it with the 202), else None.

        KeyError if the token is unknown."""
        with self.lock:
            job = self._jobs[token]
            if not job["ready"]:
                waited = self.clock() - job["since"]
                seconds = self.config["accepted_seconds"]
                if job["polls"] < self.config["accepted_polls"] and (
                    seconds is None or waited < seconds
                ):
                    job["polls"] += 1
                    return None
                job["ready"] = True
                if job["id"] is None:
                    job["id"] = self.create(job["draft"], base_url)["id"]
            return self.find(job["id"])

    def admit(self, now):
        """Take a slot in the leaky bucket; when it is full, return the seconds until one frees."""
        with self.lock:
            level, size = self._leak(now), self.config["bucket_size"]
            if level + 1 > size + 1e-9:
                return (level + 1 - size) / self.config["leak_rate"]
            self._bucket = level + 1
            return None

    def spend_points(self, cost, now):
        """Take `cost` GraphQL points if the bucket holds them (True), else take
        nothing (False); either way, the throttleStatus to answer with."""
        with self.lock:
            size, rate = self.config["graphql_bucket_size"], self.config["graphql_restore_rate"]
            elapsed = max(0.0, now - self._points_at)
            self._points = min(float(size), self._points + elapsed * rate)
            self._points_at = max(now, self._points_at)
            spent = cost <= self._points + 1e-9
            if spent:
                self._points -= cost
            return spent, {"maximumAvailable": float(size),
                           "currentlyAvailable": math.floor(self._points + 1e-9),
                           "restoreRate": rate}

    def calls_used(self, now):
        with self.lock:
            return math.ceil(self._leak(now) - 1e-9)

    def hold(self, key, until):
        """Remember a Retry-After promise, so requests arriving earlier can be flagged."""
        with self.lock:
            self._holds[key] = until

    def is_early(self, path, now):
        with self.lock:
            return now < max(
                self._holds.get(path, -math.inf), self._holds.get(RATE_LIMITED, -math.inf)
            )

    def arrive(self, entry):
        with self.lock:
            self.arrivals.append(entry)

    def record(self, entry):
        with self.lock:
            self.requests.append(entry)

    def snapshot(self, name):
        with self.lock:
            return deepcopy(getattr(self, name))

    def _leak(self, now):
        elapsed = max(0.0, now - self._bucket_at)
        self._bucket = max(0.0, self._bucket - elapsed * self.config["leak_rate"])
        self._bucket_at = max(now, self._bucket_at)
        return self._bucket

    def variant(self, variant_id):
        if variant_id is None or variant_id in self.config["unknown_variants"]:
            return None
        catalogue = self.config["catalogue"]
        if catalogue is None:
            cents = 500 + variant_id * 37 % 9500
            return _catalogue_entry({
                "title": f"Simulated product {variant_id}",
                "price": f"{cents // 100}.{cents % 100:02d}",
            })
        return catalogue.get(variant_id)

    def _line_item(self, item):
        variant_id = _as_int(item["variant_id"])
        variant = self.variant(variant_id)
        self._line_item_ids += 1
        return {
            "id": self._line_item_ids,
            "variant_id": variant_id,
            "title": variant["title"],
            "price": variant["price"],
            "quantity": _as_int(item["quantity"]),
            "properties": deepcopy(item.get("properties") or []),
        }


def _stamp():
    """Now as Shopify writes times, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _as_int(value):
    """Shopify coerces numeric strings; booleans and anything else are not ids."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _normalised(config):
    """Check settings up front, so a typo in a test fails loudly rather than being ignored."""
    unknown = set(config) - set(DEFAULT_CONFIG)
    if unknown:
        raise ValueError(f"unknown simulator settings: {sorted(unknown)}")
    if config["mode"] not in ("created", "accepted"):
        raise ValueError(f"mode must be 'created' or 'accepted', not {config['mode']!r}")
    for counter in (
        "fail_next",
        "drop_after_create",
        "fail_next_invoice",
        "drop_after_invoice",
        "accepted_polls",
        "bucket_size",
        "fail_status",
        "down_status",
    ):
        config[counter] = int(config[counter])
    config["delay_before_seconds"] = float(config["delay_before_seconds"])
    if config["delay_before_seconds"] < 0:
        raise ValueError("delay_before_seconds must not be negative")
    for switch in ("down", "accepted_listed", "webhooks_paused", "webhook_duplicates",
                   "webhook_reorder"):
        _switch(config, switch, False)
    config["leak_rate"] = float(config["leak_rate"])
    if config["bucket_size"] < 1 or config["leak_rate"] <= 0:
        raise ValueError("bucket_size must be at least 1 and leak_rate positive")
    config["unknown_variants"] = sorted(int(v) for v in config["unknown_variants"])
    if config["catalogue"] is not None:
        config["catalogue"] = {
            int(variant_id): _catalogue_entry(entry)
            for variant_id, entry in config["catalogue"].items()
        }
    config["graphql_bucket_size"] = int(config["graphql_bucket_size"])
    config["graphql_restore_rate"] = float(config["graphql_restore_rate"])
    if config["graphql_bucket_size"] < 1 or config["graphql_restore_rate"] <= 0:
        raise ValueError("graphql_bucket_size must be at least 1 and graphql_restore_rate positive")
    config["discount_codes"] = {
        str(code).upper(): {"percentage": float(terms["percentage"])}
        for code, terms in config["discount_codes"].items()
    }
    if any(not 0 < t["percentage"] <= 100 for t in config["discount_codes"].values()):
        raise ValueError("a discount code's percentage must be above 0 and at most 100")
    config["currencies"] = [str(code) for code in config["currencies"]]
    if not all(re.fullmatch(r"[A-Z]{3}", code) for code in config["currencies"]):
        raise ValueError(f"currencies must be ISO 4217 codes, not {config['currencies']!r}")
    config["companies"] = {
        int(company_id): {
            "locations": sorted(int(location) for location in company.get("locations", [])),
            "contacts": {int(customer): int(contact)
                         for customer, contact in company.get("contacts", {}).items()},
        }
        for company_id, company in config["companies"].items()
    }
    config["customers"] = {
        int(customer_id): {"email": None if customer.get("email") is None
                           else str(customer["email"])}
        for customer_id, customer in config["customers"].items()
    }
    for name in ("client_id", "client_secret"):
        _text(config, name)
    for name in ("webhook_secret", "previous_client_secret", "application_url"):
        if config[name] is not None:
            _text(config, name)
    for switch in ("organization", "installed"):
        _switch(config, switch, True)
    for seconds in ("token_seconds", "expiring_seconds", "refresh_seconds"):
        config[seconds] = int(config[seconds])
        if config[seconds] < 1:
            raise ValueError(f"{seconds} must be at least 1")
    if config["redirect_urls"] is not None:
        config["redirect_urls"] = [_text({"url": url}, "url") for url in config["redirect_urls"]]
    if config["supported_versions"] is not None:
        config["supported_versions"] = sorted(str(v) for v in config["supported_versions"])
        if not config["supported_versions"] or not all(
                re.fullmatch(r"\d{4}-\d{2}", v) for v in config["supported_versions"]):
            raise ValueError("supported_versions must be a non-empty list of YYYY-MM versions")
    return config


def _text(entry, key):
    """A setting that must be a non-empty string."""
    value = entry[key]
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a non-empty string, not {value!r}")
    return value


def _choice(entry, key, default, choices):
    value = entry.get(key, default)
    if value not in choices:
        raise ValueError(f"{key} must be one of {choices}, not {value!r}")
    return value


def _switch(entry, key, default):
    value = entry.get(key, default)
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false, not {value!r}")
    return value


def _catalogue_entry(entry):
    """One variant with its stock; `available` (availableForSale) follows from the
    stock unless given, as at Shopify: an active product with stock to sell."""
    variant = {
        "title": str(entry["title"]),
        "price": f"{Decimal(str(entry['price'])):.2f}",
        "inventory_quantity": int(entry.get("inventory_quantity", DEFAULT_STOCK)),
        "inventory_policy": _choice(entry, "inventory_policy", "deny", ("deny", "continue")),
        "tracked": _switch(entry, "tracked", True),
        "product_status": _choice(entry, "product_status", "active",
                                  ("active", "draft", "archived")),
    }
    sellable = (not variant["tracked"] or variant["inventory_policy"] == "continue"
                or variant["inventory_quantity"] > 0)
    variant["available"] = _switch(
        entry, "available", variant["product_status"] == "active" and sellable)
    return variant


def _state():
    return current_app.extensions[EXTENSION]


def _errors(errors, status):
    return jsonify(errors=errors), status


def _seconds(value):
    """Retry-After as Shopify writes it ("2.0"), rounded up so waiting that long always suffices."""
    return f"{math.ceil(value * 10 - 1e-9) / 10:.1f}"


admin = Blueprint("shopify_admin", __name__)
pages = Blueprint("shopify_pages", __name__)
oauth = Blueprint("shopify_oauth", __name__)  # the token endpoint and the install page
control = Blueprint("shopify_control", __name__, url_prefix="/_sim")


def _is_api_call():
    """An Admin API request: the shop admin's pages are for people, and OAuth's
    endpoints take no access token and are outside the API's rate limit."""
    return request.path.startswith("/admin/") and request.blueprint not in (pages.name,
                                                                            oauth.name)


@admin.before_app_request
def _gatekeeper():
    """Version, token, rate limit and scope come before any endpoint, as at Shopify."""
    if not _is_api_call():
        return None
    state = _state()
    state.arrive({"method": request.method, "path": request.path, "time": state.clock()})
    if state.config["delay_before_seconds"] > 0:
        # Still to be handled when it wakes up, even if the client has given up.
        time.sleep(state.config["delay_before_seconds"])
    g.sim_now = now = state.clock()
    g.sim_early = state.is_early(request.path, now)
    if state.config["down"]:
        status = state.config["down_status"]
        return _errors(HTTP_STATUS_CODES.get(status, "Error"), status)
    version = (request.view_args or {}).get("version")
    if version is not None:
        g.sim_version = state.served_version(version)
        if g.sim_version is None:
            return _errors("Not Found", 404)
    if not state.authorizes(request.headers.get("X-Shopify-Access-Token"), now):
        return _errors(INVALID_TOKEN, 401)
    if request.endpoint == GRAPHQL_ENDPOINT:
        return None  # its cost bucket and scopes are the endpoint's own
    wait = state.admit(now)
    if wait is not None:
        response, status = _errors(
            f"Exceeded {state.config['leak_rate']:g} calls per second for api "
            "client. Reduce request rates to resume uninterrupted service.",
            429,
        )
        response.headers["Retry-After"] = _seconds(wait)
        return response, status
    scope = REQUIRED_SCOPES.get(request.endpoint)
    if scope and scope not in state.config["scopes"]:
        return _errors(f"[API] This action requires merchant approval for {scope} scope.", 403)
    return None


@admin.after_app_request
def _account(response):
    """Account for every admin answer, so tests can check the client's manners afterwards."""
    if not _is_api_call():
        return response
    state = _state()
    if g.get("sim_version"):
        response.headers["X-Shopify-API-Version"] = g.sim_version
    entry = {
        "method": request.method,
        "path": request.path,
        "query": request.query_string.decode(),
        "status": response.status_code,
        "time": g.sim_now,
        "early": g.sim_early,
        "dropped": bool(request.environ.get(DROP_KEY)),
        "body": request.get_json(silent=True),
    }
    if request.endpoint == GRAPHQL_ENDPOINT:
        # Early: sent while the cost bucket could not hold it, so it was throttled.
        entry["graphql"] = g.get("sim_graphql", {"operation": None, "throttled": False, "cost": 0})
        entry["early"] = entry["graphql"]["throttled"]
    else:
        used, size = state.calls_used(g.sim_now), state.config["bucket_size"]
        response.headers["X-Shopify-Shop-Api-Call-Limit"] = f"{used}/{size}"
    state.record(entry)
    if "Retry-After" in response.headers:
        key = (
            urlsplit(response.headers["Location"]).path
            if response.status_code == 202
            else RATE_LIMITED
        )
        state.hold(key, g.sim_now + float(response.headers["Retry-After"]))
    if state.config["delay_seconds"] > 0:
        time.sleep(state.config["delay_seconds"])
    return response


@admin.app_errorhandler(HTTPException)
def _http_error(error):
    return _errors(error.name, error.code)


@admin.get("/admin/oauth/access_scopes.json")
def access_scopes():
    return jsonify(access_scopes=[{"handle": handle} for handle in _state().config["scopes"]])


@admin.get("/admin/api/<version>/shop.json")
def shop(version):
    state = _state()
    config = state.config
    return jsonify(
        shop={
            "id": config["shop_id"],
            "name": state.shop_name,
            "currency": state.shop_currency,
            "domain": config["shop_domain"],
            "myshopify_domain": config["shop_domain"],
        }
    )


@admin.post("/admin/api/<version>/draft_orders.json")
def create_draft_order(version):
    state = _state()
    body = request.get_json(silent=True)
    draft = body.get("draft_order") if isinstance(body, dict) else None
    with state.lock:
        if state.take("fail_next"):
            status = state.config["fail_status"]
            return _errors(HTTP_STATUS_CODES.get(status, "Error"), status)
        if not isinstance(draft, dict):
            return _errors({"draft_order": "Required parameter missing or invalid"}, 400)
        errors = state.validation_errors(draft)
        if errors:
            return _errors(errors, 422)
        if state.take("drop_after_create"):
            request.environ[DROP_KEY] = True
        if state.config["mode"] == "accepted":
            return _accepted(version, state.accept(draft, request.host_url), state)
        return jsonify(draft_order=state.create(draft, request.host_url)), 201


@admin.post("/admin/api/<version>/graphql.json")
def graphql_endpoint(version):
    """GraphQL: `fail_next` fails a draftOrderCreate as it fails a REST create, and
    `drop_after_create` loses the answer to one that created its draft;
    `fail_next_invoice` and `drop_after_invoice` do the same to draftOrderInvoiceSend."""
    state = _state()
    try:
        operation = graphql.parse(request.get_json(silent=True))
    except graphql.BadRequest:
        return _errors({"query": "Required parameter missing or invalid"}, 400)
    except graphql.GraphQLError as error:
        return jsonify(graphql.refused(error))
    if (operation.creates and state.take("fail_next")
            or operation.invoices and state.take("fail_next_invoice")):
        status = state.config["fail_status"]
        return _errors(HTTP_STATUS_CODES.get(status, "Error"), status)
    result = graphql.run(state, operation, graphql.Call(request.host_url, version), g.sim_now)
    g.sim_graphql = result.log
    if (result.created and state.take("drop_after_create")
            or result.invoiced and state.take("drop_after_invoice")):
        request.environ[DROP_KEY] = True
    return jsonify(result.payload)


GRAPHQL_ENDPOINT = f"{admin.name}.{graphql_endpoint.__name__}"


def _accepted(version, token, state):
    response = current_app.response_class(status=202)
    response.headers["Location"] = (
        f"{request.host_url}admin/api/{version}/draft_orders/poll/{token}.json"
    )
    response.headers["Retry-After"] = _seconds(state.config["retry_after"])
    return response


@admin.get("/admin/api/<version>/draft_orders/poll/<token>.json")
def poll_draft_order(version, token):
    state = _state()
    try:
        order = state.poll(token, request.host_url)
    except KeyError:
        return _errors("Not Found", 404)
    return _accepted(version, token, state) if order is None else jsonify(draft_order=order)


@admin.get("/admin/api/<version>/draft_orders/<int:draft_id>.json")
def get_draft_order(version, draft_id):
    order = _state().find(draft_id)
    return _errors("Not Found", 404) if order is None else jsonify(draft_order=order)


@admin.post("/admin/api/<version>/draft_orders/<int:draft_id>/send_invoice.json")
def send_invoice(version, draft_id):
    """`fail_next_invoice` fails a send before it is made; `drop_after_invoice` loses
    the answer to one that was made."""
    state = _state()
    body = request.get_json(silent=True)
    invoice = body.get("draft_order_invoice", {}) if isinstance(body, dict) else None
    if not isinstance(invoice, dict):
        return _errors({"draft_order_invoice": "Required parameter missing or invalid"}, 400)
    if state.take("fail_next_invoice"):
        status = state.config["fail_status"]
        return _errors(HTTP_STATUS_CODES.get(status, "Error"), status)
    try:
        sent = state.send_invoice(draft_id, invoice, api="rest")
    except KeyError:
        return _errors("Not Found", 404)
    except Refused as refusal:
        return _errors({refusal.field: [refusal.message]}, 422)
    if state.take("drop_after_invoice"):
        request.environ[DROP_KEY] = True
    return jsonify(draft_order_invoice={key: sent[key] for key in (
        "to", "from", "subject", "custom_message")} | {"bcc": []}), 201


@admin.get("/admin/api/<version>/orders/<int:order_id>.json")
def get_order(version, order_id):
    """An order, cut to `?fields=a,b` when asked, as Shopify does."""
    order = _state().find_order(order_id)
    if order is None:
        return _errors("Not Found", 404)
    fields = [f.strip() for f in request.args.get("fields", "").split(",") if f.strip()]
    return jsonify(order={k: v for k, v in order.items() if not fields or k in fields})


@admin.get("/admin/api/<version>/webhooks.json")
def list_webhooks(version):
    args = request.args
    return jsonify(webhooks=[w for w in _state().snapshot("webhooks")
                             if args.get("topic", w["topic"]) == w["topic"]
                             and args.get("address", w["address"]) == w["address"]])


@admin.post("/admin/api/<version>/webhooks.json")
def create_webhook(version):
    body = request.get_json(silent=True)
    webhook = body.get("webhook") if isinstance(body, dict) else None
    if not isinstance(webhook, dict):
        return _errors({"webhook": "Required parameter missing or invalid"}, 400)
    if webhook.get("format", "json") != "json":
        return _errors({"format": ["is not included in the list"]}, 422)
    try:
        subscription = _state().subscribe(webhook.get("topic"), webhook.get("address"), version)
    except Refused as refusal:
        return _errors({refusal.field: [refusal.message]}, 422)
    return jsonify(webhook=subscription), 201


@admin.get("/admin/api/<version>/draft_orders.json")
def list_draft_orders(version):
    """Ascending by id; a `page_info` cursor carries the filters, as Shopify's does."""
    args = request.args
    if "page_info" in args and set(args) - {"page_info", "limit"}:
        return _errors({"page_info": "page_info cannot be combined with other filters"}, 400)
    try:
        limit = int(args.get("limit", 50))
        filters = (
            _decode_cursor(args["page_info"])
            if "page_info" in args
            else {
                "since_id": int(args.get("since_id", 0)),
                "updated_at_min": args.get("updated_at_min"),
            }
        )
        updated_min = filters["updated_at_min"] and _parse_time(filters["updated_at_min"])
    except (ValueError, TypeError, KeyError):
        return _errors("Bad Request", 400)
    if not 1 <= limit <= MAX_LIMIT:
        return _errors({"limit": f"must be between 1 and {MAX_LIMIT}"}, 400)
    matching = [
        d
        for d in _state().snapshot("draft_orders")
        if d["id"] > filters["since_id"]
        and (not updated_min or _parse_time(d["updated_at"]) >= updated_min)
    ]
    response = jsonify(draft_orders=matching[:limit])
    if len(matching) > limit:
        cursor = _encode_cursor({**filters, "since_id": matching[limit - 1]["id"]})
        query = urlencode({"limit": limit, "page_info": cursor})
        response.headers["Link"] = f'<{request.base_url}?{query}>; rel="next"'
    return response


def _encode_cursor(filters):
    return base64.urlsafe_b64encode(json.dumps(filters).encode()).decode().rstrip("=")


def _decode_cursor(cursor):
    filters = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    return {"since_id": int(filters["since_id"]), "updated_at_min": filters["updated_at_min"]}


def _parse_time(text):
    """ISO 8601 with or without an offset; Shopify reads a bare time as UTC here."""
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


_DRAFT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ heading }} · Simulated Shop</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}
td{padding:0 .5rem}</style></head>
<body><p><small>The Admin API simulator's stand-in for {{ stands_for }}.</small></p>
<h1>{{ heading }}</h1>
<p>Status {{ draft.status }} · customer {{ draft.customer.id if draft.customer else "none" }}
{%- if draft.note %} · note: {{ draft.note }}{% endif %}</p>
<table>{% for line in draft.line_items %}
<tr><td>{{ line.quantity }} &times;</td><td>{{ line.title }}</td><td>{{ line.price }}</td></tr>
{%- endfor %}</table>
{% if draft.discount_codes %}<p>Discount {{ draft.discount_codes | join(", ") }}:
&minus;{{ draft.total_discounts }}</p>{% endif %}
<p>Subtotal {{ draft.subtotal_price }} {{ draft.currency }}</p>
{% if link %}<p><a href="{{ link }}">Invoice</a></p>{% endif %}
{% if order %}<p><strong>Paid: order {{ order.name }}</strong></p>
{% elif pay %}<form method="post" action="{{ pay }}"><button>Pay now</button></form>{% endif %}
</body></html>"""


@pages.get("/admin/draft_orders/<int:draft_id>")
def draft_order_page(draft_id):
    """The draft order in the shop admin: where the receiver's admin links each draft."""
    draft = _state().find(draft_id) or abort(404)
    return render_template_string(_DRAFT_PAGE, draft=draft, heading=f"Draft order {draft['name']}",
                                  stands_for="the shop admin's draft order page",
                                  link=draft["invoice_url"])


@pages.get("/<int:shop_id>/invoices/<token>")
def invoice_page(shop_id, token):
    """The invoice page at the draft's `invoice_url`, as the shopper would be sent it."""
    state = _state()
    draft = state.find_by_invoice(request.path) or abort(404)
    order = draft["order_id"] and state.find_order(draft["order_id"])
    return render_template_string(_DRAFT_PAGE, draft=draft, heading=f"Invoice {draft['name']}",
                                  stands_for="the invoice page Shopify sends the customer",
                                  link=None, order=order, pay=f"{request.path}/pay")


@pages.post("/<int:shop_id>/invoices/<token>/pay")
def pay_invoice(shop_id, token):
    """The shopper pays in the browser: the draft is completed (as /_sim/…/complete
    does), then the invoice page says which order it became."""
    state = _state()
    page = request.path.removesuffix("/pay")
    draft = state.find_by_invoice(page) or abort(404)
    try:
        state.complete(draft["id"])
    except (KeyError, Refused):
        pass  # paid already (or deleted meanwhile): the page says what is
    return redirect(page, code=303)


@oauth.post("/admin/oauth/access_token")
def access_token():
    """Shopify's token endpoint: client credentials, an install's code, or a refresh;
    form-encoded as Shopify documents it, or JSON."""
    body = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    status, answer = _state().grant(body if isinstance(body, dict) else {})
    return jsonify(answer), status


_INSTALL_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Install app · Simulated Shop</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}
</style></head>
<body><p><small>The Admin API simulator's stand-in for Shopify's app install page.</small></p>
{% if problem %}<h1>Oauth error</h1><p>{{ problem }}</p>{% else %}
<h1>Install app</h1>
<p>App (client id) <code>{{ params.client_id }}</code> asks for access to {{ shop }}:</p>
<ul>{% for scope in scopes %}<li>{{ scope }}</li>{% else %}<li>(no scopes)</li>{% endfor %}</ul>
<p>Then you return to <code>{{ params.redirect_uri }}</code>.</p>
<form method="post" action="/admin/oauth/authorize">
{% for name, value in params.items() %}<input type="hidden" name="{{ name }}" value="{{ value }}">
{% endfor %}<button>Install app</button></form>{% endif %}
</body></html>"""


def _install_problem(state, params):
    """Why Shopify would refuse this install request, or None."""
    if params.get("client_id") != state.config["client_id"]:
        return "The client_id is not the id of an app."
    allowed = state.config["redirect_urls"]
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri or not redirect_uri.startswith(("http://", "https://")):
        return "The redirect_uri is missing or not an http(s) address."
    if allowed is not None and redirect_uri not in allowed:
        return "The redirect_uri is not whitelisted for this app."
    return None


@oauth.route("/admin/oauth/authorize", methods=["GET", "POST"])
def authorize():
    """The install page the app sends the merchant to (GET), and its Install
    button (POST): a single-use code, back to `redirect_uri` with a signed query."""
    state = _state()
    params = (request.args if request.method == "GET" else request.form).to_dict()
    problem = _install_problem(state, params)
    if problem or request.method == "GET":
        scopes = [s.strip() for s in params.get("scope", "").split(",") if s.strip()]
        page = render_template_string(_INSTALL_PAGE, problem=problem, params=params,
                                      scopes=scopes, shop=state.config["shop_domain"])
        return page, 400 if problem else 200
    query = state.signed_query(code=state.issue_code(), **(
        {"state": params["state"]} if "state" in params else {}))
    return redirect(_with_query(params["redirect_uri"], query), code=302)


def _with_query(url, params):
    """`url` with `params` added to whatever query it has."""
    return f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(params)}"


@control.route("/config", methods=["GET", "POST"])
def sim_config():
    state = _state()
    if request.method == "POST":
        try:
            state.configure(**(request.get_json(silent=True) or {}))
        except (ValueError, TypeError, KeyError) as error:
            return _errors(str(error), 400)
    return jsonify(state.snapshot("config"))


@control.post("/reset")
def sim_reset():
    _state().reset()
    return jsonify(state="reset")


@control.get("/<any(draft_orders, orders, invoices, webhooks, webhooks_sent, requests, "
             "arrivals, token_requests):name>")
def sim_read_back(name):
    return jsonify({name: _state().snapshot(name)})


@control.post("/draft_orders/<int:draft_id>/complete")
def sim_complete(draft_id):
    """The customer paid."""
    try:
        draft, order = _state().complete(draft_id)
    except KeyError:
        return _errors("Not Found", 404)
    except Refused as refusal:
        return _errors({refusal.field: [refusal.message]}, 422)
    return jsonify(draft_order=draft, order=order)


@control.post("/draft_orders/<int:draft_id>/delete")
def sim_delete(draft_id):
    try:
        _state().delete(draft_id)
    except KeyError:
        return _errors("Not Found", 404)
    return jsonify(deleted=draft_id)


@control.get("/launch")
def sim_launch():
    """The merchant installs or opens the app: Shopify opens the app URL
    (`application_url`, or `?app_url=`) with a signed shop, host and timestamp."""
    state = _state()
    app_url = request.args.get("app_url") or state.config["application_url"]
    if not app_url:
        return _errors("no application_url is configured and no ?app_url= given", 400)
    return redirect(_with_query(app_url, state.signed_query()), code=302)


@control.post("/revoke")
def sim_revoke():
    """The app was uninstalled or its credentials revoked: every issued token stops."""
    return jsonify(revoked=_state().revoke())


class _DropConnection:
    """Closes the socket instead of answering when a view asked to, after the work is done,
    so clients see a lost answer for a draft order that does exist."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        body = self.wsgi_app(environ, start_response)
        if not environ.get(DROP_KEY):
            return body
        if hasattr(body, "close"):
            body.close()
        sock = environ.get("werkzeug.socket") or environ.get("gunicorn.socket")
        if sock is None:
            raise ConnectionDropped(
                "the simulator dropped the connection after creating the draft order"
            )
        sock.shutdown(socket.SHUT_RDWR)
        return []


def create_simulator(config=None, clock=None):
    """A Flask app playing one Shopify shop; its state is `app.extensions["shopify_simulator"]`."""
    app = Flask(__name__)
    app.extensions[EXTENSION] = SimulatorState(config, clock)
    app.register_blueprint(admin)
    app.register_blueprint(pages)
    app.register_blueprint(oauth)
    app.register_blueprint(control)
    app.wsgi_app = _DropConnection(app.wsgi_app)
    return app
