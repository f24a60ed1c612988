"""The app proxy snippet in Chromium: the storefront origin forwards its
/apps/send-cart/… to a receiver running on Dev Dashboard credentials, signed
with the client secret as Shopify does. The page holds no secret and never
leaves the shop's origin; a forged customer sent straight to the receiver is
refused."""

import sqlite3
import time
from urllib.parse import urlencode

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from servers import procfile_receiver

from app.dev.demo import CUSTOMER, SECRET
from app.dev.simulator import DEFAULT_CONFIG
from app.dev.storefront_proxy import AppProxy
from app.shopify.app_proxy import signed_query
from browser.conftest import GUEST_MIN_FILL_SECONDS
from browser.test_send_cart import click_and_wait


@pytest.fixture(scope="module")
def proxy_receiver(simulator_server, storefront_server, tmp_path_factory):
    with procfile_receiver(tmp_path_factory.mktemp("proxy"), simulator_server.url, "", SECRET,
                           allowed_origins=storefront_server.url,
                           SHOPIFY_CLIENT_ID=DEFAULT_CONFIG["client_id"],
                           SHOPIFY_CLIENT_SECRET=DEFAULT_CONFIG["client_secret"],
                           GUEST_MIN_FILL_SECONDS=str(GUEST_MIN_FILL_SECONDS)) as running:
        yield running


@pytest.fixture
def proxy_cart(storefront, proxy_receiver, open_cart):
    """The cart page rendering the app proxy snippet, its /apps/send-cart/…
    forwarded to that receiver."""
    storefront.mode = "proxy"
    storefront.receiver_url = proxy_receiver.url
    storefront.proxy = AppProxy(proxy_receiver.url, DEFAULT_CONFIG["client_secret"],
                                DEFAULT_CONFIG["shop_domain"])
    return open_cart


def stored_customers(receiver):
    with sqlite3.connect(receiver.database_path) as db:
        return [row[0] for row in db.execute("SELECT customer_id FROM events")]


def test_a_signed_in_customer_gets_a_draft_order_through_the_proxy(proxy_cart, simulator,
                                                                   proxy_receiver):
    driver = proxy_cart()
    button = driver.find_element(By.ID, "mechanic_cart_submit")
    assert button.get_attribute("data-proxy-path") == "/apps/send-cart"
    assert button.get_attribute("data-customer-id-signature") is None
    assert SECRET not in driver.page_source

    shown = click_and_wait(driver)

    assert shown.text == "Your cart was sent: draft order #D1"
    [draft] = simulator.state.draft_orders
    assert draft["customer"] == {"id": CUSTOMER["id"]}


def test_a_guests_quote_goes_through_the_proxy_with_the_form_it_asks_for(
        proxy_cart, storefront, simulator, fill_guest_form):
    storefront.customer = None
    driver = proxy_cart()
    WebDriverWait(driver, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "[data-guest-field]"))
    fill_guest_form(driver, email="ann@example.com", message="Ship Friday?")

    shown = click_and_wait(driver)

    assert shown.text == "Your cart was sent: draft order #D1"
    [draft] = simulator.state.draft_orders
    assert draft.get("customer") is None and draft["email"] == "ann@example.com"
    assert "Ship Friday?" in draft["note"]


def test_a_forged_customer_sent_straight_to_the_receiver_is_refused(proxy_cart, simulator,
                                                                    proxy_receiver):
    driver = proxy_cart()
    forged = urlencode(signed_query(
        [("shop", DEFAULT_CONFIG["shop_domain"]), ("logged_in_customer_id", str(CUSTOMER["id"])),
         ("path_prefix", "/apps/send-cart"), ("timestamp", str(int(time.time())))],
        "a-guessed-secret"))
    url = f"{proxy_receiver.url}/proxy/cart?{forged}"
    before = stored_customers(proxy_receiver)

    driver.execute_async_script("""
        var done = arguments[arguments.length - 1];
        fetch(arguments[0], {method: "POST", mode: "no-cors", body: JSON.stringify(
            {cart: {token: "forged", items: [{variant_id: 39072856, quantity: 1}]}})})
          .then(function () { done(); }, function () { done(); });""", url)
    answer = requests.post(url, json={"cart": {"items": [{"variant_id": 1, "quantity": 1}]}},
                           timeout=5)

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "signature_invalid"
    assert stored_customers(proxy_receiver) == before
    assert simulator.state.draft_orders == []
