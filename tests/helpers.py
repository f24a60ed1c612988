"""What test modules build the same way: the receiver's settings, a cart as the
storefront sends it (small, or a real /cart.js of up to 250 lines), a submission
through the test client, events put straight into a store, and the clock tests
move by hand. Import from any test: `from helpers import cart_body`."""

import json
import time

from app.config import DEFAULT_API_VERSION
from app.intake.signature import sign
from app.store import open_store, stored_payload

SHOP = "https://test-shop.myshopify.com"
TOKEN = "shpat_test_token_never_logged"
SECRET = "storefront-secret"
API = f"{SHOP}/admin/api/{DEFAULT_API_VERSION}"

PAYLOAD = {"draft_order": {"line_items": [{"variant_id": 1, "quantity": 1, "properties": []}]}}
STORED = stored_payload(PAYLOAD)  # PAYLOAD as `store.add` takes it
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
        # The guest form's checks are tested on their own (test_guest_*.py); the
        # other tests' guests post bare carts, as before the form existed.
        "GUEST_FIELDS": "none",
        "GUEST_MIN_FILL_SECONDS": "0",
        **overrides,
    }


def cart_body(customer_id=207119551, signature=None, items=None, guest=None, **cart_fields):
    """A body as the storefront script sends it (a guest's form: `guest`)."""
    cart = {"token": "c1-abc", "items": items or [
        {"variant_id": 39072856, "quantity": 2, "price": 1, "title": "Shirt",
         "properties": {"Engraving": "Für dich ♥"}},
        {"variant_id": "457924702", "quantity": 1, "properties": None},
    ], **cart_fields}
    if signature is None and customer_id is not None:
        signature = sign(customer_id, SECRET)
    body = {"cart": cart, "customerId": customer_id, "customerIdSignature": signature}
    if guest is not None:
        body["guest"] = guest
    return body


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
    store.add(event_id, '{"cart": {"items": []}}', stored_payload(payload), customer_id, created)
    if settled is not None:
        assert store.claim("w", created, 60)["id"] == event_id
        assert store.settle(event_id, "w", settled, ANSWER, status=status)


DESCRIPTION = (
    "Knitted in Portugal from soft, breathable organic cotton, this piece keeps its "
    "shape wash after wash. A relaxed fit through the body, ribbed cuffs and hem, and a "
    "clean crew neckline make it an easy layer for every season. Garment-dyed for a "
    "lived-in colour that varies slightly from piece to piece. Machine wash cold with "
    "like colours, lay flat to dry. Model is 185 cm and wears a size M. Fabric: 100% "
    "organic cotton, 280 g/m². Certified to the Global Organic Textile Standard."
)  # an ordinary product description: about 500 characters


def storefront_line(index, properties_per_line):
    """Line `index` of a real cart as Shopify's /cart.js gives it, every field included."""
    variant_id = 40_112_233_440_000 + index
    product_id = 8_012_345_678_000 + index
    title, variant_title = f"Organic cotton crew sweater no. {index}", "M / Heather grey"
    handle = f"organic-cotton-crew-sweater-{index}"
    image = f"https://cdn.shopify.com/s/files/1/0612/3456/7890/files/{handle}.jpg?v=1732000000"
    price, quantity = 8900, 1 + index % 3
    properties = {name: value for name, value in [
        ("Engraving", f"Happy birthday, Anna! ♥ {index}"), ("Gift wrap", "Yes, with a card"),
        ("_configurator_id", f"cfg-8f3a2c1e-{index:04d}-4b7d-9e21-5c6d7e8f9a0b"),
        ("Delivery note", "Leave with the neighbour at no. 12"),
    ][:properties_per_line]}
    return {
        "id": variant_id, "properties": properties, "quantity": quantity,
        "variant_id": variant_id, "key": f"{variant_id}:5d41402abc4b2a76b9719d911017c592",
        "title": f"{title} - {variant_title}", "price": price, "original_price": price,
        "presentment_price": price / 100, "discounted_price": price,
        "line_price": price * quantity, "original_line_price": price * quantity,
        "total_discount": 0, "discounts": [], "sku": f"OCS-{index:05d}-M-HG", "grams": 420,
        "vendor": "Northwind Knitwear", "taxable": True, "product_id": product_id,
        "product_has_only_default_variant": False, "gift_card": False, "final_price": price,
        "final_line_price": price * quantity, "url": f"/products/{handle}?variant={variant_id}",
        "featured_image": {"aspect_ratio": 0.8, "alt": title, "height": 1500, "url": image,
                           "width": 1200},
        "image": image, "handle": handle, "requires_shipping": True, "product_type": "Sweaters",
        "product_title": title, "product_description": DESCRIPTION,
        "variant_title": variant_title, "variant_options": ["M", "Heather grey"],
        "options_with_values": [{"name": "Size", "value": "M"},
                                {"name": "Colour", "value": "Heather grey"}],
        "line_level_discount_allocations": [], "line_level_total_discount": 0,
        "quantity_rule": {"min": 1, "max": None, "increment": 1}, "has_components": False,
    }


def storefront_body(lines=250, properties_per_line=3, customer_id=207119551, secret=SECRET):
    """The bytes static/send-cart.js posts for a real cart of `lines` lines: Shopify's
    /cart.js object whole (prices, images and product descriptions included), the
    customer id and its signature, as JSON.stringify writes them."""
    items = [storefront_line(index, properties_per_line) for index in range(lines)]
    total = sum(item["final_line_price"] for item in items)
    cart = {
        "token": "Z2NwLWV1cm9wZS13ZXN0NDowMUpEUzdHN0s4WEI2TjNQUjhZVjJaUVRSUA"
                 "?key=0a8d71ce2c7fa6a1f53d5a13aa5e0ba2",
        "note": "Please deliver after 5pm.", "attributes": {"Gift": "yes", "Source": "quote"},
        "original_total_price": total, "total_price": total, "total_discount": 0,
        "total_weight": 420 * len(items), "item_count": sum(i["quantity"] for i in items),
        "items": items, "requires_shipping": True, "currency": "EUR",
        "items_subtotal_price": total, "cart_level_discount_applications": [],
        "discount_codes": [],
    }
    submission = {"cart": cart, "customerId": customer_id,
                  "customerIdSignature": sign(customer_id, secret)}
    return json.dumps(submission, ensure_ascii=False, separators=(",", ":")).encode()
