"""The merchant's setup page, the snippet it shows, and the script the snippet loads."""

import html
import json
import re
from pathlib import Path

from helpers import SECRET, TOKEN

from app.dev.demo import render_snippet
from app.intake.signature import sign
from app.web.setup_page import SECRET_PLACEHOLDER, SNIPPET_PATH, setting_rows, snippet

CART = {"token": "c1", "items": [{"variant_id": 39072856, "quantity": 2,
                                  "properties": {"Note": 'say "hi" <b>&</b>'}}]}


def shown_snippet(page):
    """The snippet as the merchant copies it: the <pre> text, unescaped."""
    match = re.search(r'<code id="snippet">(.*?)</code>', page, re.S)
    return html.unescape(match.group(1))


def attribute(rendered, name):
    return html.unescape(re.search(rf'{name}="([^"]*)"', rendered).group(1))


def test_setup_page_explains_the_three_installation_steps(client):
    page = client.get("/").get_data(as_text=True)

    steps = re.search(r"<ol>(.*?)</ol>", page, re.S).group(1)
    assert steps.count("<li>") == 3
    assert "Paste the snippet into your cart template" in steps


def test_setup_page_shows_the_snippet_with_this_apps_url(client):
    page = client.get("/", base_url="https://drafts.example.com").get_data(as_text=True)

    assert shown_snippet(page) == snippet("https://drafts.example.com")
    assert '{%- assign draft_order_receiver = "https://drafts.example.com" -%}' \
        in shown_snippet(page)
    assert '<script src="{{ draft_order_receiver }}/static/send-cart.js" defer>' \
        in shown_snippet(page)


def test_setup_page_leaves_the_secret_a_placeholder(client):
    page = client.get("/").get_data(as_text=True)

    assert f'{{%- assign draft_order_secret = "{SECRET_PLACEHOLDER}" -%}}' in shown_snippet(page)


def test_setup_page_reveals_no_secret(make_app):
    app = make_app(SECRET_KEY="explicit-secret-key-value")
    derived_key = make_app().config["SECRET_KEY"]

    page = app.test_client().get("/").get_data(as_text=True)

    for secret in (TOKEN, SECRET, "explicit-secret-key-value", derived_key):
        assert secret not in page


def test_setup_page_flags_allowed_origins_left_open(make_app):
    page = make_app(ALLOWED_ORIGINS="*").test_client().get("/").get_data(as_text=True)

    assert "Set ALLOWED_ORIGINS to your storefront" in page
    assert "Configuration complete" not in page


def test_setup_page_flags_a_worker_outside_this_process(make_app):
    page = make_app(RUN_WORKER="0").test_client().get("/").get_data(as_text=True)

    assert "flask --app app worker" in page


def test_setup_page_says_complete_when_nothing_needs_a_look(make_app):
    app = make_app(ALLOWED_ORIGINS="https://shop.example.com", RUN_WORKER="1")

    page = app.test_client().get("/").get_data(as_text=True)

    assert "Configuration complete" in page
    assert "https://shop.example.com" in page


def test_send_cart_script_is_served_as_javascript(client):
    response = client.get("/static/send-cart.js")

    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert "#mechanic_cart_submit" in response.get_data(as_text=True)


def test_snippet_renders_the_cart_as_json_in_data_cart():
    rendered = render_snippet("https://drafts.example.com", SECRET, CART,
                              customer={"id": 207119551})

    assert json.loads(attribute(rendered, "data-cart")) == CART


def test_snippet_signs_the_customer_id_with_the_shared_secret():
    rendered = render_snippet("https://drafts.example.com", SECRET, CART,
                              customer={"id": 207119551})

    assert json.loads(attribute(rendered, "data-customer-id")) == 207119551
    assert json.loads(attribute(rendered, "data-customer-id-signature")) \
        == sign(207119551, SECRET)


def test_snippet_sends_null_customer_and_signature_for_a_guest():
    rendered = render_snippet("https://drafts.example.com", SECRET, CART, customer=None)

    assert attribute(rendered, "data-customer-id") == "null"
    assert attribute(rendered, "data-customer-id-signature") == "null"


def test_snippet_loads_the_script_from_the_receiver():
    rendered = render_snippet("https://drafts.example.com", SECRET, CART)

    assert '<script src="https://drafts.example.com/static/send-cart.js" defer>' in rendered
    assert 'data-receiver-url="https://drafts.example.com"' in rendered


def test_the_storefront_doc_shows_the_snippet_verbatim():
    storefront = Path(__file__).resolve().parent.parent.parent / "docs" / "storefront.md"
    assert SNIPPET_PATH.read_text(encoding="utf-8") in storefront.read_text(encoding="utf-8")


REST_FEATURES = {"SHOPIFY_API": "rest", "CART_CURRENCY": False, "CART_DISCOUNT_CODES": False,
                 "ACCEPT_AUTOMATIC_DISCOUNTS": False, "B2B_ORDERS": False,
                 "RESERVE_INVENTORY_MINUTES": 0, "INVALID_ITEM_POLICY": "off",
                 "OUT_OF_STOCK_POLICY": "allow"}


def test_a_postgresql_database_is_named_without_its_password():
    settings = {"SHOPIFY_BASE_URL": "https://s.myshopify.com", "SHOPIFY_API_VERSION": "2025-10",
                "GUEST_CARTS": "allow", "ALLOWED_ORIGINS": ("https://s.com",), "RUN_WORKER": True,
                "DATABASE_URL": "postgresql://u:pw@db.example:5432/events",
                "DATABASE_SHOWN": "postgresql://db.example:5432/events", **REST_FEATURES}
    [database] = [row for row in setting_rows(settings) if row.label == "Event database"]
    assert database.value == "PostgreSQL, postgresql://db.example:5432/events" and database.ok


def test_setup_page_may_not_be_framed_sniffed_or_cached(client):
    response = client.get("/")

    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_setup_page_scripts_are_files_its_policy_allows(client):
    page = client.get("/").get_data(as_text=True)

    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts, "the copy button's script is gone"
    for attributes, inline in scripts:
        assert inline.strip() == "", "an inline script: the page's policy blocks it"
        source = re.search(r'src="([^"]+)"', attributes).group(1)
        assert source.startswith("/static/") and client.get(source).status_code == 200


def row(page, label):
    match = re.search(rf'<th scope="row">{label}</th>\s*<td>(.*?)</td>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1)))


def test_setup_page_recommends_graphql_to_a_rest_install(client):
    assert "Recommended for new installs" in row(client.get("/").get_data(as_text=True),
                                                 "Admin API")


def test_setup_page_shows_the_graphql_api_and_the_features_it_carries(make_app):
    page = make_app(SHOPIFY_API="graphql").test_client().get("/").get_data(as_text=True)

    assert row(page, "Admin API").startswith("GraphQL")
    assert row(page, "Draft orders carry") \
        == "the cart's currency, its discount codes, automatic discounts"


def test_setup_page_shows_b2b_orders_and_the_stock_policies_in_effect(make_app):
    app = make_app(SHOPIFY_API="graphql", B2B_ORDERS="1", RESERVE_INVENTORY_MINUTES="30",
                   OUT_OF_STOCK_POLICY="drop")
    page = app.test_client().get("/").get_data(as_text=True)

    assert row(page, "B2B orders").startswith("on:")
    assert row(page, "Stock") == ("check before drafting invalid items: off; out of stock: drop; "
                                  "inventory held 30 minutes")


def test_setup_page_explains_the_snippet_s_b2b_lines(client):
    page = client.get("/").get_data(as_text=True)

    assert "customer.current_location.id" in page and "B2B orders are off here" in page
