"""The one list of access scopes (app/shopify/scopes.py): what the settings need, what
each call needs, and a REST refusal that names it whatever Shopify says."""

import re
from pathlib import Path

import pytest
from helpers import API, SHOP

from app import config
from app.shopify import Answer, RestClient
from app.shopify.rest import classify
from app.shopify.scopes import (
    OPERATION_SCOPES,
    TOPIC_SCOPES,
    lacking,
    required_scopes,
    rest_operation,
)
from app.shopify.webhooks import TOPICS

ROOT = Path(__file__).resolve().parent.parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DEFAULT_MARKER = "<!-- required scopes: default settings -->"


def default_settings(tmp_path, **environ):
    return config.load({"SHOPIFY_SHOP": "s.myshopify.com", "SHOPIFY_ACCESS_TOKEN": "shpat_x",
                        "SHARED_SECRET": "s", **environ}, str(tmp_path))


def test_the_readmes_default_scope_list_is_what_the_default_settings_need(tmp_path):
    (line,) = [line for line in README.splitlines() if DEFAULT_MARKER in line]
    stated = re.search(r"`([^`]+)`", line).group(1)
    assert stated.split(",") == required_scopes(default_settings(tmp_path))


def test_the_default_settings_need_read_orders_for_their_re_reads(tmp_path):
    assert required_scopes(default_settings(tmp_path)) == ["write_draft_orders", "read_orders"]


def test_dev_dashboard_credentials_need_the_scope_of_every_declared_topic():
    needed = required_scopes({"RECONCILE_DAYS": 0, "SHOPIFY_CLIENT_ID": "client-id"})
    assert all(scope.replace("read_", "write_") in needed or scope in needed
               for topic in TOPICS for scope in TOPIC_SCOPES[topic])


def test_every_topic_followed_has_its_scope():
    assert set(TOPIC_SCOPES) == set(TOPICS)


def test_every_graphql_operation_posted_has_its_scopes():
    source = (ROOT / "app" / "shopify" / "graphql.py").read_text(encoding="utf-8")
    posted = set(re.findall(r'self\._post\("(\w+)"', source))
    assert posted and posted <= set(OPERATION_SCOPES)


@pytest.mark.parametrize("method, path, operation", [
    ("POST", "draft_orders.json", "POST draft_orders.json"),
    ("GET", "draft_orders.json?updated_at_min=x&limit=250", "GET draft_orders.json"),
    ("GET", "draft_orders/1069920479.json", "GET draft_orders/{id}.json"),
    ("POST", "draft_orders/7/send_invoice.json", "POST draft_orders/{id}/send_invoice.json"),
    ("GET", "orders/450789469.json?fields=id,name,financial_status", "GET orders/{id}.json"),
    ("GET", "webhooks.json?limit=250", "GET webhooks.json"),
])
def test_a_rest_call_is_known_by_its_method_and_address(method, path, operation):
    assert rest_operation(method, f"{API}/{path}") == operation


def test_an_address_we_do_not_call_names_no_operation():
    assert rest_operation("GET", f"{API}/draft_orders/poll/abc.json") is None
    assert rest_operation("GET", f"{SHOP}/admin/oauth/access_scopes.json") is None


def test_a_refusal_without_a_known_scope_says_so():
    assert lacking(()) == "The access token lacks a scope this call needs."


# --- A REST 403 names the scope the call needs. ---

def forbidden(method, path, json=None):
    return Answer(method, f"{API}/{path}", 403, "{}", {}, json)


def test_a_rest_403_on_creating_a_draft_names_write_draft_orders():
    outcome = classify(forbidden("POST", "draft_orders.json"))
    assert (outcome.code, outcome.detail) == (
        "shopify_forbidden", "The access token lacks the write_draft_orders scope this call needs.")


def test_a_rest_403_on_reading_an_order_names_read_orders():
    outcome = classify(forbidden("GET", "orders/450789469.json?fields=id"))
    assert outcome.detail.startswith("The access token lacks the read_orders scope")


def test_a_rest_403_keeps_shopifys_words_as_a_second_sentence():
    said = "[API] This action requires merchant approval for write_draft_orders scope."
    outcome = classify(forbidden("POST", "draft_orders/7/send_invoice.json", {"errors": said}))
    assert outcome.detail == ("The access token lacks the write_draft_orders scope this call "
                              f"needs. Shopify says: {said}")


def test_a_rest_403_names_the_scope_it_is_told_over_its_address():
    outcome = classify(forbidden("POST", "webhooks.json"), ("read_orders",))
    assert outcome.detail.startswith("The access token lacks the read_orders scope")


def test_a_rest_403_is_still_a_rejection_that_created_nothing():
    outcome = classify(forbidden("POST", "draft_orders.json"))
    assert (outcome.kind, outcome.nothing_created) == ("rejected", True)


def test_a_refused_rest_webhook_names_its_topics_scope(shopify):
    shopify.post(f"{API}/webhooks.json", status=403, json={"errors": "Forbidden"})
    client = RestClient(SHOP, "shpat_x", config.DEFAULT_API_VERSION, 5)
    _, why = client.create_webhook("orders/create", "https://r.example/webhooks/shopify")
    assert why == "The access token lacks the read_orders scope this call needs. Shopify says: " \
                  "Forbidden"


def test_dev_dashboard_credentials_need_the_app_proxy_scope():
    assert "write_app_proxy" in required_scopes({"SHOPIFY_CLIENT_ID": "client-id"})


def test_a_legacy_token_needs_no_app_proxy_scope(tmp_path):
    assert "write_app_proxy" not in required_scopes(default_settings(tmp_path))
