import time

import pytest
import responses as responses_lib

from app import create_app
from app.signature import sign
from app.worker import Worker

SHOP = "https://test-shop.myshopify.com"
TOKEN = "shpat_test_token_never_logged"
SECRET = "storefront-secret"
API = f"{SHOP}/admin/api/2025-10"


class Clock:
    """Real time plus an offset the tests move by hand, so Retry-After and leases
    need no sleep while events stamped by the receiver stay in the past."""

    def __init__(self):
        self.offset = 0.0

    def __call__(self):
        return time.time() + self.offset

    def advance(self, seconds):
        self.offset += seconds


def settings(tmp_path, **overrides):
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


@pytest.fixture
def make_app(tmp_path):
    return lambda **overrides: create_app(settings(tmp_path, **overrides))


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def store(app):
    return app.extensions["store"]


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def worker(app, clock):
    core = app.extensions["worker"]
    return Worker(core.store, core.client, core.policy, core.lease_seconds, clock=clock)


@pytest.fixture
def shopify():
    """Shopify's Admin API, mocked: any call not registered by the test fails it."""
    with responses_lib.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


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
