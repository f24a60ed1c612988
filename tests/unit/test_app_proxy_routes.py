"""The storefront through Shopify's app proxy (app/intake/proxy.py): the customer
is the one Shopify signs, refusals store nothing, a signature carries one body,
and rate limits see the shopper's address, not Shopify's."""

import sqlite3
import time
from urllib.parse import urlencode

import pytest
import responses
from helpers import Clock, cart_body

from app.config import DEFAULT_API_VERSION
from app.intake.proxy import ShopDomain
from app.intake.signature import sign
from app.shopify.app_proxy import TOLERANCE, signed_query
from app.shopify.tokens import CredentialsUnavailable

CLIENT_SECRET = "proxy-client-secret"
SHOP_DOMAIN = "test-shop.myshopify.com"
CUSTOMER = 207119551
SHOPIFY_SERVER = "192.0.2.10"  # the address Shopify's servers connect from
DEV_DASHBOARD = {"SHOPIFY_ACCESS_TOKEN": "", "SHOPIFY_CLIENT_ID": "proxy-client-id",
                 "SHOPIFY_CLIENT_SECRET": CLIENT_SECRET}


@pytest.fixture
def proxy_app(make_app):
    return lambda **overrides: make_app(**DEV_DASHBOARD, **overrides)


def query(customer=CUSTOMER, shop=SHOP_DOMAIN, timestamp=None, secret=CLIENT_SECRET):
    """The signed query Shopify appends to a proxied request."""
    pairs = [("shop", shop), ("logged_in_customer_id", "" if customer is None else str(customer)),
             ("path_prefix", "/apps/send-cart"),
             ("timestamp", str(int(time.time() if timestamp is None else timestamp)))]
    return urlencode(signed_query(pairs, secret))


def proxy_body(**cart_fields):
    """What the proxy snippet's script posts: the cart, no customer fields."""
    return {"cart": cart_body(customer_id=None, **cart_fields)["cart"]}


def post(app, body=None, signed=None, shopper="203.0.113.9", path="/proxy/cart"):
    return app.test_client().post(
        f"{path}?{signed or query()}", json=proxy_body() if body is None else body,
        headers={"X-Forwarded-For": shopper} if shopper else {},
        environ_base={"REMOTE_ADDR": SHOPIFY_SERVER})


def events(app):
    with sqlite3.connect(app.extensions["store"].path) as conn:
        return conn.execute("SELECT id, customer_id, client_ip FROM events").fetchall()


def assert_refused(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == code


def test_the_customer_is_the_one_shopify_signed(proxy_app):
    app = proxy_app()
    response = post(app)
    assert response.status_code == 202
    [(event_id, customer_id, _)] = events(app)
    assert (response.get_json()["id"], customer_id) == (event_id, CUSTOMER)


def test_the_status_url_stays_on_the_shops_domain_under_the_signed_path(proxy_app):
    response = post(proxy_app())
    assert response.get_json()["status_url"].startswith("/apps/send-cart/events/")


def test_a_customer_id_in_the_body_is_ignored(proxy_app):
    app = proxy_app()
    body = {**proxy_body(), "customerId": 42, "customerIdSignature": sign(42, "storefront-secret")}
    post(app, body)
    assert [row[1] for row in events(app)] == [CUSTOMER]


def test_a_guest_has_no_customer_whatever_the_body_says(proxy_app):
    app = proxy_app()
    post(app, {**proxy_body(), "customerId": CUSTOMER}, query(customer=None))
    assert [row[1] for row in events(app)] == [None]


def test_a_guest_is_refused_when_guests_are_rejected(proxy_app):
    app = proxy_app(GUEST_CARTS="reject")
    assert_refused(post(app, signed=query(customer=None)), 403, "guest_cart_rejected")
    assert events(app) == []


def test_a_wrong_signature_is_refused_and_nothing_stored(proxy_app):
    app = proxy_app()
    assert_refused(post(app, signed=query(secret="forged")), 401, "signature_invalid")
    assert events(app) == []


def test_a_request_sent_straight_to_the_receiver_without_a_query_is_refused(proxy_app):
    app = proxy_app()
    assert_refused(post(app, signed="logged_in_customer_id=1"), 401, "signature_missing")
    assert events(app) == []


def test_the_previous_client_secret_is_accepted_during_a_rotation(proxy_app):
    app = proxy_app(SHOPIFY_CLIENT_SECRET_PREVIOUS="the-old-secret")
    assert post(app, signed=query(secret="the-old-secret")).status_code == 202


def test_a_stale_signed_query_is_refused(proxy_app):
    app = proxy_app()
    stale = query(timestamp=time.time() - TOLERANCE - 60)
    assert_refused(post(app, signed=stale), 401, "signature_expired")
    assert events(app) == []


def test_a_query_signed_for_another_shop_is_refused(proxy_app):
    app = proxy_app()
    assert_refused(post(app, signed=query(shop="other-shop.myshopify.com")), 401,
                   "signature_invalid")
    assert events(app) == []


def test_without_dev_dashboard_credentials_there_is_no_proxy(make_app):
    app = make_app()  # a legacy access token: no client secret to check with
    assert_refused(post(app), 404, "not_found")


def test_a_replayed_signed_request_returns_the_first_event(proxy_app):
    app = proxy_app(DEDUPE_WINDOW="0")  # not the resubmission check: the signature's use
    signed = query()
    first, again = post(app, signed=signed), post(app, signed=signed)
    assert again.status_code == 202
    assert again.get_json()["id"] == first.get_json()["id"]
    assert len(events(app)) == 1


def test_a_signature_reused_with_another_cart_is_refused(proxy_app):
    app = proxy_app()
    signed = query()
    post(app, signed=signed)
    response = post(app, proxy_body(note="another cart"), signed)
    assert_refused(response, 401, "signature_invalid")
    assert len(events(app)) == 1


def test_rate_limits_count_the_address_shopify_forwards(proxy_app):
    app = proxy_app(RATE_LIMIT_PER_IP="1")
    first = post(app, signed=query(customer=None), shopper="203.0.113.9")
    other = post(app, proxy_body(note="b"), query(customer=None), shopper="198.51.100.4")
    again = post(app, proxy_body(note="c"), query(customer=None), shopper="203.0.113.9")
    assert (first.status_code, other.status_code) == (202, 202)
    assert_refused(again, 429, "rate_limited")
    assert sorted(row[2] for row in events(app)) == ["198.51.100.4", "203.0.113.9"]


def test_without_a_forwarded_address_the_connection_is_counted(proxy_app):
    app = proxy_app()
    post(app, shopper=None)
    assert [row[2] for row in events(app)] == [SHOPIFY_SERVER]


def test_the_status_document_is_read_through_the_proxy(proxy_app):
    app = proxy_app()
    status_url = post(app).get_json()["status_url"]
    token = status_url.rsplit("/", 1)[1]
    response = app.test_client().get(f"/proxy/events/{token}?{query()}")
    assert response.status_code == 200
    assert response.get_json()["status"] == "queued"


def test_an_unsigned_status_read_through_the_proxy_path_is_refused(proxy_app):
    app = proxy_app()
    token = post(app).get_json()["status_url"].rsplit("/", 1)[1]
    assert_refused(app.test_client().get(f"/proxy/events/{token}"), 401, "signature_missing")


def test_a_guests_form_is_read_through_the_proxy_only_signed(proxy_app):
    client = proxy_app().test_client()
    signed = client.get(f"/proxy/guest-form?{query(customer=None)}")
    assert (signed.status_code, signed.headers["Cache-Control"]) == (200, "no-store")
    assert signed.get_json()["form_token"]
    assert_refused(client.get("/proxy/guest-form"), 401, "signature_missing")


def test_b2b_the_body_names_the_location_unsigned_for_shopify_to_check(proxy_app):
    app = proxy_app(SHOPIFY_API="graphql", B2B_ORDERS="1")
    response = post(app, {**proxy_body(), "companyId": 11, "companyLocationId": 22})
    event = app.extensions["store"].get(response.get_json()["id"])
    assert event["payload"]["cart_context"]["company"] == {"company_id": 11, "location_id": 22}


def test_b2b_a_guest_cannot_name_a_location(proxy_app):
    app = proxy_app(SHOPIFY_API="graphql", B2B_ORDERS="1")
    response = post(app, {**proxy_body(), "companyId": 11, "companyLocationId": 22},
                    query(customer=None))
    assert_refused(response, 422, "invalid_company_location")
    assert events(app) == []


# --- SHOPIFY_SHOP as a base URL: the shop is the one the Admin API names -------------------

BASE = "http://127.0.0.1:8081"


def shop_answers(mock, domain=SHOP_DOMAIN, status=200):
    mock.add(responses.POST, f"{BASE}/admin/oauth/access_token",
             json={"access_token": "shpat_proxy", "scope": "write_draft_orders",
                   "expires_in": 86399})
    mock.add(responses.GET, f"{BASE}/admin/api/{DEFAULT_API_VERSION}/shop.json", status=status,
             json={"shop": {"name": "Test", "myshopify_domain": domain, "currency": "USD"}})


def test_the_shops_domain_is_read_from_the_admin_api_once(proxy_app, shopify):
    app = proxy_app(SHOPIFY_SHOP=BASE)
    shop_answers(shopify)
    assert post(app).status_code == 202
    later = query(timestamp=time.time() + 1)  # a request of its own, signed anew
    assert post(app, proxy_body(note="second"), later).status_code == 202
    assert sum(call.request.url.endswith("shop.json") for call in shopify.calls) == 1


def test_the_admin_apis_shop_is_the_one_the_query_must_name(proxy_app, shopify):
    app = proxy_app(SHOPIFY_SHOP=BASE)
    shop_answers(shopify, domain="another-shop.myshopify.com")
    assert_refused(post(app), 401, "signature_invalid")


def test_an_unreadable_shop_is_a_503_and_nothing_stored(proxy_app, shopify):
    app = proxy_app(SHOPIFY_SHOP=BASE)
    shop_answers(shopify, status=500)
    assert_refused(post(app), 503, "shop_unavailable")
    assert events(app) == []


def test_guests_in_the_same_second_share_a_signature_and_each_get_their_cart(proxy_app):
    app = proxy_app()
    signed = query(customer=None)
    first = post(app, signed=signed, shopper="203.0.113.9")
    second = post(app, proxy_body(note="another guest"), signed, shopper="198.51.100.4")
    assert (first.status_code, second.status_code) == (202, 202)
    assert len(events(app)) == 2


def test_a_failed_shop_read_is_not_tried_again_at_once_then_is():
    clock = Clock(at=0)
    cache, reads = ShopDomain(clock=clock), []

    def read():
        reads.append(clock())
        return None if len(reads) == 1 else SHOP_DOMAIN

    assert (cache.get(read), cache.get(read)) == (None, None)
    clock.advance(ShopDomain.RETRY_SECONDS)
    assert (cache.get(read), cache.get(read)) == (SHOP_DOMAIN, SHOP_DOMAIN)
    assert reads == [0, ShopDomain.RETRY_SECONDS]


def test_a_shop_read_without_a_token_is_a_failed_read():
    def read():
        raise CredentialsUnavailable("app_not_installed", "The app is not installed.")

    assert ShopDomain().get(read) is None
