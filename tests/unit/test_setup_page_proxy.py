"""The setup page's choice of snippet, and the app proxy snippet as Liquid
renders it: no secret, the shop's own /apps/ path, no customer fields."""

import html
import re

from app.dev.demo import render_snippet
from app.web.setup_page import SECRET_PLACEHOLDER, snippet

CART = {"token": "c1", "items": [{"variant_id": 39072856, "quantity": 2, "properties": {}}]}
B2B_CUSTOMER = {"id": 207119551, "b2b?": True, "current_company": {"id": 98369},
                "current_location": {"id": 5501}}
DEV_DASHBOARD = {"SHOPIFY_ACCESS_TOKEN": "", "SHOPIFY_CLIENT_ID": "client-id",
                 "SHOPIFY_CLIENT_SECRET": "client-secret-value"}


def shown_snippet(page):
    return html.unescape(re.search(r'<code id="snippet">(.*?)</code>', page, re.S).group(1))


def attributes(rendered):
    return {name: html.unescape(value)
            for name, value in re.findall(r'(data-[a-z-]+)="([^"]*)"', rendered)}


def proxy_button(customer=None, subpath="send-cart"):
    text = render_snippet("https://drafts.example.com", "unused", CART, customer, mode="proxy")
    assert subpath in text
    return attributes(text)


def test_with_dev_dashboard_credentials_the_page_shows_the_proxy_snippet(make_app):
    page = make_app(**DEV_DASHBOARD).test_client().get("/").get_data(as_text=True)
    assert shown_snippet(page) == snippet("http://localhost", mode="proxy")


def test_the_proxy_snippet_holds_no_secret_line(make_app):
    page = make_app(**DEV_DASHBOARD).test_client().get("/").get_data(as_text=True)
    assert "draft_order_secret =" not in shown_snippet(page)
    assert SECRET_PLACEHOLDER not in shown_snippet(page) and "client-secret-value" not in page


def test_the_page_shows_the_hmac_snippet_when_asked(make_app):
    page = make_app(**DEV_DASHBOARD).test_client().get("/?snippet=hmac").get_data(as_text=True)
    assert shown_snippet(page) == snippet("http://localhost")


def test_without_dev_dashboard_credentials_there_is_no_proxy_snippet(client):
    page = client.get("/?snippet=proxy").get_data(as_text=True)
    assert shown_snippet(page) == snippet("http://localhost")
    assert 'id="snippet-mode"' not in page


def test_the_proxy_snippet_names_the_subpath_setting(make_app):
    app = make_app(**DEV_DASHBOARD, APP_PROXY_SUBPATH="drafts")
    page = app.test_client().get("/").get_data(as_text=True)
    assert '{%- assign draft_order_proxy_path = "/apps/drafts" -%}' in shown_snippet(page)


def test_the_proxy_button_posts_through_the_shops_path_without_customer_fields():
    button = proxy_button({"id": 207119551})
    assert button["data-proxy-path"] == "/apps/send-cart"
    assert not {"data-receiver-url", "data-customer-id", "data-customer-id-signature"} & set(button)


def test_the_proxy_button_names_a_contacts_location_unsigned():
    button = proxy_button(B2B_CUSTOMER)
    assert (button["data-company-id"], button["data-company-location-id"]) == ("98369", "5501")
    assert "data-company-location-signature" not in button


def test_the_proxy_snippet_still_loads_the_script_from_the_receiver():
    text = render_snippet("https://drafts.example.com", "unused", CART, None, mode="proxy")
    assert '<script src="https://drafts.example.com/static/send-cart.js" defer>' in text
