"""What many test modules build the same way: the receiver's settings, a cart as
the storefront sends it, a submission through the test client, events put
straight into a store, and the clock tests move by hand.
Import from any test: `from helpers import cart_body`."""

import time

from app.signature import sign
from app.store import open_store

SHOP = "https://test-shop.myshopify.com"
TOKEN = "shpat_test_token_never_logged"
SECRET = "storefront-secret"
API = f"{SHOP}/admin/api/2025-10"

PAYLOAD = {"draft_order": {"line_items": [{"variant_id": 1, "quantity": 1, "properties": []}]}}
ANSWER = {"method": "POST", "url": "https://shop/admin/draft_orders.json", "status": 201,
          "body": '{"draft_order": {}}'}


class Clock:
    """A clock a test moves by hand with `advance`, so Retry-After, leases and
    lockouts pass without sleeping. By default it is real time plus the advances,
    so events the receiver stamps with time.time() stay in the past; `Clock(at=…)`
    stands still at `at` between advances, for exact arithmetic."""

    def __init__(self, at=None):
        self._now = time.time if at is None else (lambda: at)
        self.offset = 0.0

    def __call__(self):
        return self._now() + self.offset

    def advance(self, seconds):
        self.offset += seconds


def settings(tmp_path, **overrides):
    """The receiver's environment for a test: a mocked shop, its own SQLite file."""
    return {
        "SHOPIFY_SHOP": "test-shop.myshopify.com",
        "SHOPIFY_ACCESS_TOKEN": TOKEN,
        "SHARED_SECRET": SECRET,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'events.sqlite3'}",
        "RUN_WORKER": "0",
        "ALLOWED_ORIGINS": "*",
        "GUEST_CARTS": "allow",
        "DRAFT_ORDER_TAGS": "",
        "SECRET_KEY": "",
        **overrides,
    }


def cart_body(customer_id=207119551, signature=None, items=None, **cart_fields):
    """A body as the storefront script sends it."""
    cart = {"token": "c1-abc", "items": items or [
        {"variant_id": 39072856, "quantity": 2, "price": 1, "title": "Shirt",
         "properties": {"Engraving": "Für dich ♥"}},
        {"variant_id": "457924702", "quantity": 1, "properties": None},
    ], **cart_fields}
    if signature is None and customer_id is not None:
        signature = sign(customer_id, SECRET)
    return {"cart": cart, "customerId": customer_id, "customerIdSignature": signature}


def submit(client, address=None, **body):
    """Post cart_body(**body) to the receiver's test client (from `address` if
    given) and check it was accepted: the 202's document (id, status_url)."""
    environ = {} if address is None else {"REMOTE_ADDR": address}
    response = client.post("/webhooks/cart", json=cart_body(**body), environ_base=environ)
    assert response.status_code == 202, response.get_json()
    return response.get_json()


def migrated_store(database_url):
    """A store on `database_url` with every migration applied, as `init-db` leaves it."""
    store = open_store(database_url)
    store.migrate()
    return store


def add_event(store, event_id, created, settled=None, status="completed", customer_id=None,
              lines=1):
    """An event of `lines` lines put straight into `store`, received at `created`
    and, if `settled`, settled then as `status` with one answer from Shopify."""
    payload = {"draft_order": {"line_items": PAYLOAD["draft_order"]["line_items"] * lines}}
    store.add(event_id, '{"cart": {"items": []}}', payload, customer_id, created)
    if settled is not None:
        assert store.claim("w", created, 60)["id"] == event_id
        assert store.settle(event_id, "w", settled, ANSWER, status=status)
