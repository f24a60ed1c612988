"""The shop an app proxy request must be signed for, when SHOPIFY_SHOP is a
base URL: the simulator names its myshopify domain through either Admin API,
and a receiver against it accepts a query signed for that shop only."""

import time
from urllib.parse import urlencode

import pytest
from helpers import cart_body

from app.shopify.app_proxy import signed_query

TOKEN = "shpat_proxy_shop_token"
DOMAIN = "proxied-shop.myshopify.com"


@pytest.fixture
def shop(start_simulator):
    return start_simulator(TOKEN, shop_domain=DOMAIN)


@pytest.mark.parametrize("api", ["rest", "graphql"])
def test_either_backend_reads_the_simulators_myshopify_domain(make_app, shop, api):
    app = make_app(SHOPIFY_SHOP=shop.url, SHOPIFY_ACCESS_TOKEN=TOKEN, SHOPIFY_API=api)
    assert app.extensions["shopify"].read_shop_domain() == DOMAIN


def test_a_receiver_on_the_simulator_takes_a_query_signed_for_its_shop(make_app, shop):
    app = make_app(SHOPIFY_SHOP=shop.url, SHOPIFY_ACCESS_TOKEN="",
                   SHOPIFY_CLIENT_ID="sim_client_id", SHOPIFY_CLIENT_SECRET="sim_client_secret")

    def post(signed_for, at):
        pairs = [("shop", signed_for), ("logged_in_customer_id", "207119551"),
                 ("path_prefix", "/apps/send-cart"), ("timestamp", str(at))]
        query = urlencode(signed_query(pairs, "sim_client_secret"))
        body = {"cart": cart_body(customer_id=None)["cart"]}
        return app.test_client().post(f"/proxy/cart?{query}", json=body).status_code

    now = int(time.time())
    assert (post("simulator.myshopify.com", now), post(DOMAIN, now - 1)) == (401, 202)
