"""The shop's addresses, built in one place (app/shopify.py) for the client,
the doctor, the event log and the setup page."""

from app.shopify import admin_api_url, admin_url, draft_order_admin_url, shop_domain

SHOP = "https://example.myshopify.com"


def test_admin_api_addresses_carry_the_api_version():
    assert admin_api_url(SHOP, "2025-10", "shop.json") == \
        "https://example.myshopify.com/admin/api/2025-10/shop.json"


def test_unversioned_endpoints_sit_directly_under_admin():
    assert admin_url(SHOP, "oauth/access_scopes.json") == \
        "https://example.myshopify.com/admin/oauth/access_scopes.json"


def test_a_draft_orders_page_is_in_the_shop_admin():
    assert draft_order_admin_url(SHOP, 1069920479) == \
        "https://example.myshopify.com/admin/draft_orders/1069920479"


def test_the_shop_is_named_by_its_host_and_a_simulators_port():
    assert shop_domain(SHOP) == "example.myshopify.com"
    assert shop_domain("http://127.0.0.1:8081") == "127.0.0.1:8081"
