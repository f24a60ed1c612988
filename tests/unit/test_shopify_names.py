"""Shopify's draft and order names are kept only in the shape Shopify gives
them (app/shopify/answers.py's draft_name and order_name), read once where the
answer is read: a name carrying a line break or Slack markup reaches neither
the store, the status document, the merchant's message nor its email (issue 17)."""

import json

import pytest
from helpers import API, SHOP, submit

from app.notifications.channels import _email
from app.shopify.answers import draft_name, order_name
from app.shopify.webhooks import ORDER_CREATE, read_report

FORGED_LINE = "#D1\r\nBcc: attacker@example.com"
MENTION = "<!channel>"
DRAFT_ID = 1069920479
CHANNELS = {"NOTIFY_WEBHOOK_URL": "https://hooks.example.com/services/T0/B0/x",
            "SMTP_URL": "smtp://127.0.0.1:2525", "NOTIFY_EMAIL": "merchant@example.com"}


# --- The shapes (pure). ---

@pytest.mark.parametrize("name", ["#D1", "#D1223", "#1001"])
def test_a_draft_name_of_shopifys_shape_is_kept(name):
    assert draft_name(name) == name


@pytest.mark.parametrize("name", [FORGED_LINE, MENTION, "D12", "#D", "#D12 ", "#D12\u202e", 12])
def test_a_draft_name_of_any_other_shape_is_dropped(name):
    assert draft_name(name) is None


@pytest.mark.parametrize("name", ["#1001", "SO-1001-EU", "Nº 1001", "1001/EU", "EN1001"])
def test_an_order_name_with_the_shops_prefix_or_suffix_is_kept(name):
    assert order_name(name) == name


@pytest.mark.parametrize("name", ["#1001\r\nBcc: attacker@example.com", MENTION,
                                  "#1001 <https://evil.example|pay here>", "a  b", " #1", "",
                                  "#" + "1" * 64])
def test_an_order_name_with_markup_breaks_or_no_bound_is_dropped(name):
    assert order_name(name) is None


def test_an_order_created_webhook_keeps_no_forged_name():
    report, _ = read_report(ORDER_CREATE, {
        "id": 820982911946154500, "name": MENTION, "financial_status": "paid",
        "source_name": "shopify_draft_order",
        "note_attributes": [{"name": "_cart_event_id", "value": "e1"}]})
    assert (report.seen.order_id, report.seen.order_name) == (820982911946154500, None)


# --- Through the worker, to the status document and the merchant's messages. ---

def rest_answer(name):
    return {"draft_order": {"id": DRAFT_ID, "name": name, "status": "open",
                            "invoice_url": f"{SHOP}/548380009/invoices/b21e68f2"}}


def graphql_answer(name):
    return {"data": {"draftOrderCreate": {"draftOrder": {
        "legacyResourceId": str(DRAFT_ID), "name": name,
        "invoiceUrl": f"{SHOP}/548380009/invoices/b21e68f2"}, "userErrors": []}}}


@pytest.mark.parametrize(("api", "name"), [("rest", FORGED_LINE), ("rest", MENTION),
                                           ("graphql", FORGED_LINE), ("graphql", MENTION)])
def test_a_forged_draft_name_reaches_no_document_message_or_email(make_app, shopify, api, name):
    app = make_app(SHOPIFY_API=api, **CHANNELS)
    if api == "rest":
        shopify.post(f"{API}/draft_orders.json", status=201, json=rest_answer(name))
    else:
        shopify.post(f"{API}/graphql.json", json=graphql_answer(name))
    client = app.test_client()
    accepted = submit(client)
    assert app.extensions["worker"].run_once()
    document = client.get(accepted["status_url"]).get_json()
    assert (document["draft_order"]["id"], document["draft_order"]["name"]) == (DRAFT_ID, None)
    with app.extensions["store"]._connect() as conn:
        bodies = [row["body"] for row in conn.execute("SELECT body FROM notifications")]
    assert len(bodies) == 2
    for body in bodies:
        message = json.loads(body)
        assert message["draft_order"]["name"] is None
        assert message["text"].startswith(f"Draft order {DRAFT_ID} created")
        email = _email(message, sender="shop@example.com", to="merchant@example.com")
        assert "Bcc" not in email.as_string() and "<!channel>" not in email.as_string()
