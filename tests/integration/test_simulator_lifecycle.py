"""The simulator plays a draft order's lifecycle: invoices, the order a paid draft
becomes, webhook subscriptions and the signed webhooks it sends when a draft changes."""

import base64
import hashlib
import hmac
import json
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask, request
from servers import serve, shopify_simulator
from simulator_fixtures import *  # noqa: F403 (clock, make_sim, sim, client, state)

from app.dev.simulator import ConnectionDropped

TOKEN = "shpat_simulator_token"
HEADERS = {"X-Shopify-Access-Token": TOKEN}
API = "/admin/api/2025-10"
CUSTOMER = 207119551
SECRET = "simulator_webhook_secret"


def make_draft(client, customer=CUSTOMER, **fields):
    body = {"line_items": [{"variant_id": 39072856, "quantity": 1}], **fields}
    if customer is not None:
        body["customer"] = {"id": customer}
    return client.post(f"{API}/draft_orders.json", json={"draft_order": body},
                       headers=HEADERS).json["draft_order"]


def send_invoice(client, draft_id, **invoice):
    return client.post(f"{API}/draft_orders/{draft_id}/send_invoice.json",
                       json={"draft_order_invoice": invoice}, headers=HEADERS)


def read_draft(client, draft_id):
    return client.get(f"{API}/draft_orders/{draft_id}.json", headers=HEADERS)


def subscribe(client, topic, address="http://127.0.0.1:9/webhooks/shopify"):
    return client.post(f"{API}/webhooks.json", headers=HEADERS,
                       json={"webhook": {"topic": topic, "address": address, "format": "json"}})


@pytest.fixture
def catcher():
    """A receiver of webhooks on a loopback port: what arrived, raw."""
    arrived = []
    app = Flask("catcher")

    @app.post("/webhooks/shopify")
    def receive():
        arrived.append({"headers": dict(request.headers), "body": request.get_data()})
        return "", 200

    with serve(app) as server:
        yield server.url + "/webhooks/shopify", arrived


def sent(state):
    """The webhook deliveries, once every one handed to the sender has been tried."""
    assert state.wait_for_webhooks(timeout=10)
    return state.snapshot("webhooks_sent")


# --- invoices


def test_send_invoice_answers_201_with_the_invoice_to_the_customers_email(client):
    draft = make_draft(client)

    response = send_invoice(client, draft["id"], subject="Your quote", custom_message="Thanks")

    assert response.status_code == 201
    assert response.json["draft_order_invoice"]["to"] == f"customer{CUSTOMER}@example.com"
    assert response.json["draft_order_invoice"]["subject"] == "Your quote"
    assert response.json["draft_order_invoice"]["custom_message"] == "Thanks"


def test_an_invoiced_draft_reads_invoice_sent_with_its_time_and_a_later_updated_at(client):
    draft = make_draft(client)

    send_invoice(client, draft["id"])

    read = read_draft(client, draft["id"]).json["draft_order"]
    assert read["status"] == "invoice_sent"
    assert read["invoice_sent_at"] == read["updated_at"]
    assert read["updated_at"] > draft["updated_at"]


def test_every_invoice_sent_is_recorded(client, state):
    draft = make_draft(client)

    send_invoice(client, draft["id"], subject="First")
    send_invoice(client, draft["id"], custom_message="Again")

    assert [(i["draft_order_id"], i["subject"], i["custom_message"], i["api"])
            for i in state.invoices] == [(draft["id"], "First", "", "rest"),
                                         (draft["id"], "Invoice #D1", "Again", "rest")]
    assert state.invoices[0]["sent_at"] is not None


def test_the_invoice_goes_to_the_configured_customers_email(make_sim):
    sim = make_sim(customers={CUSTOMER: {"email": "ada@example.org"}})
    client = sim.test_client()

    send_invoice(client, make_draft(client)["id"])

    assert sim.extensions["shopify_simulator"].invoices[0]["to"] == "ada@example.org"


@pytest.mark.parametrize("customer", [None, 42], ids=["guest", "customer without email"])
def test_a_draft_with_nobody_to_send_to_cannot_be_invoiced(make_sim, customer):
    sim = make_sim(customers={42: {"email": None}})
    client = sim.test_client()
    draft = make_draft(client, customer=customer)

    response = send_invoice(client, draft["id"])

    assert (response.status_code, response.json) == (422, {"errors": {"to": ["can't be blank"]}})
    assert read_draft(client, draft["id"]).json["draft_order"]["status"] == "open"
    assert sim.extensions["shopify_simulator"].invoices == []


def test_a_completed_draft_cannot_be_invoiced(client, state):
    draft = make_draft(client)
    client.post(f"/_sim/draft_orders/{draft['id']}/complete")

    response = send_invoice(client, draft["id"])

    assert response.status_code == 422
    assert state.invoices == []


def test_invoicing_an_unknown_draft_is_404(client):
    assert send_invoice(client, 1).status_code == 404


def test_sending_an_invoice_needs_write_draft_orders(client, state):
    draft = make_draft(client)
    state.configure(scopes=["read_draft_orders"])

    assert send_invoice(client, draft["id"]).status_code == 403


def test_drop_after_invoice_sends_the_invoice_and_loses_the_answer(client, state):
    draft = make_draft(client)
    state.configure(drop_after_invoice=1)

    with pytest.raises(ConnectionDropped):
        send_invoice(client, draft["id"])

    assert len(state.invoices) == 1
    assert read_draft(client, draft["id"]).json["draft_order"]["status"] == "invoice_sent"


def test_fail_next_invoice_fails_the_send_before_it_is_made(client, state):
    draft = make_draft(client)
    state.configure(fail_next_invoice=1, fail_status=502)

    assert send_invoice(client, draft["id"]).status_code == 502
    assert state.invoices == []
    assert send_invoice(client, draft["id"]).status_code == 201


# --- completion, orders, deletion


def test_a_completed_draft_reads_completed_with_its_order_id(client):
    draft = make_draft(client)

    order = client.post(f"/_sim/draft_orders/{draft['id']}/complete").json["order"]

    read = read_draft(client, draft["id"]).json["draft_order"]
    assert (read["status"], read["order_id"]) == ("completed", order["id"])
    assert read["completed_at"] == read["updated_at"] > draft["updated_at"]


def test_orders_are_named_from_1001_paid_and_from_the_draft(client):
    marker = [{"name": "_cart_event_id", "value": "e1"}]
    first, second = make_draft(client, note_attributes=marker), make_draft(client)

    orders = [client.post(f"/_sim/draft_orders/{d['id']}/complete").json["order"]
              for d in (first, second)]

    assert [o["name"] for o in orders] == ["#1001", "#1002"]
    read = client.get(f"{API}/orders/{orders[0]['id']}.json", headers=HEADERS).json["order"]
    assert (read["financial_status"], read["source_name"]) == ("paid", "shopify_draft_order")
    assert read["note_attributes"] == marker


def test_an_order_read_with_fields_has_only_those_fields(client):
    draft = make_draft(client)
    order = client.post(f"/_sim/draft_orders/{draft['id']}/complete").json["order"]

    read = client.get(f"{API}/orders/{order['id']}.json?fields=id,name,financial_status",
                      headers=HEADERS).json

    assert read == {"order": {"id": order["id"], "name": "#1001", "financial_status": "paid"}}


def test_reading_an_order_needs_read_orders(client, state):
    draft = make_draft(client)
    order = client.post(f"/_sim/draft_orders/{draft['id']}/complete").json["order"]
    state.configure(scopes=["read_draft_orders", "write_draft_orders"])

    assert client.get(f"{API}/orders/{order['id']}.json", headers=HEADERS).status_code == 403


def test_an_unknown_order_is_404(client):
    assert client.get(f"{API}/orders/1.json", headers=HEADERS).status_code == 404


def test_completing_a_draft_twice_is_422(client):
    draft = make_draft(client)
    client.post(f"/_sim/draft_orders/{draft['id']}/complete")

    assert client.post(f"/_sim/draft_orders/{draft['id']}/complete").status_code == 422


def test_completing_an_unknown_draft_is_404(client):
    assert client.post("/_sim/draft_orders/1/complete").status_code == 404


def test_a_deleted_draft_is_no_longer_found_and_the_next_draft_keeps_counting(client):
    draft = make_draft(client)

    assert client.post(f"/_sim/draft_orders/{draft['id']}/delete").status_code == 200

    assert read_draft(client, draft["id"]).status_code == 404
    assert make_draft(client)["name"] == "#D2"


def test_control_api_reads_back_invoices_orders_and_webhooks(client):
    draft = make_draft(client)
    subscribe(client, "orders/create")
    send_invoice(client, draft["id"])
    client.post(f"/_sim/draft_orders/{draft['id']}/complete")

    assert [i["to"] for i in client.get("/_sim/invoices").json["invoices"]] == [
        f"customer{CUSTOMER}@example.com"]
    assert [o["name"] for o in client.get("/_sim/orders").json["orders"]] == ["#1001"]
    assert [w["topic"] for w in client.get("/_sim/webhooks").json["webhooks"]] == [
        "orders/create"]
    assert "webhooks_sent" in client.get("/_sim/webhooks_sent").json


# --- the invoice page


def test_the_invoice_page_of_an_unpaid_draft_offers_pay_now(client):
    draft = make_draft(client)

    page = client.get(urlsplit(draft["invoice_url"]).path)

    assert "Pay now" in page.text


def test_pay_now_completes_the_draft_and_the_page_says_paid(client, state):
    draft = make_draft(client)
    path = urlsplit(draft["invoice_url"]).path

    paid = client.post(f"{path}/pay", follow_redirects=True)

    assert "Paid: order #1001" in paid.text
    assert "Pay now" not in paid.text
    assert state.find(draft["id"])["status"] == "completed"


# --- webhook subscriptions


def test_a_webhook_subscription_is_created_and_listed(client):
    response = subscribe(client, "draft_orders/update", "https://example.com/hooks")

    assert response.status_code == 201
    listed = client.get(f"{API}/webhooks.json", headers=HEADERS).json["webhooks"]
    assert [(w["topic"], w["address"], w["format"], w["api_version"]) for w in listed] == [
        ("draft_orders/update", "https://example.com/hooks", "json", "2025-10")]


def test_the_same_topic_and_address_twice_is_422(client):
    subscribe(client, "draft_orders/update", "https://example.com/hooks")

    response = subscribe(client, "draft_orders/update", "https://example.com/hooks")

    assert (response.status_code, response.json) == (
        422, {"errors": {"address": ["for this topic has already been taken"]}})


def test_an_unknown_topic_is_422(client):
    assert subscribe(client, "carts/update").status_code == 422


# --- webhooks sent


def test_an_invoice_sends_draft_orders_update_with_the_draft(client, state, catcher):
    address, arrived = catcher
    subscribe(client, "draft_orders/update", address)
    subscribe(client, "orders/create", address)
    draft = make_draft(client)

    send_invoice(client, draft["id"])

    deliveries = sent(state)
    assert [(d["topic"], d["status"]) for d in deliveries] == [("draft_orders/update", 200)]
    assert deliveries[0]["body"] == state.find(draft["id"])
    assert json.loads(arrived[0]["body"])["status"] == "invoice_sent"


def test_completing_sends_draft_orders_update_and_orders_create(client, state, catcher):
    address, _ = catcher
    for topic in ("draft_orders/update", "orders/create"):
        subscribe(client, topic, address)
    draft = make_draft(client)

    client.post(f"/_sim/draft_orders/{draft['id']}/complete")

    deliveries = sent(state)
    assert [d["topic"] for d in deliveries] == ["draft_orders/update", "orders/create"]
    assert deliveries[1]["body"]["name"] == "#1001"
    assert deliveries[0]["event_id"] != deliveries[1]["event_id"]


def test_deleting_sends_draft_orders_delete_with_the_id(client, state, catcher):
    address, _ = catcher
    subscribe(client, "draft_orders/delete", address)
    draft = make_draft(client)

    client.post(f"/_sim/draft_orders/{draft['id']}/delete")

    assert [(d["topic"], d["body"]) for d in sent(state)] == [
        ("draft_orders/delete", {"id": draft["id"]})]


def test_a_webhook_arrives_signed_with_the_webhook_secret(client, state, catcher):
    address, arrived = catcher
    state.configure(webhook_secret=SECRET)  # an admin-created app's; else the client secret
    subscribe(client, "draft_orders/update", address)
    draft = make_draft(client)

    send_invoice(client, draft["id"])

    state.wait_for_webhooks(10)
    headers, body = arrived[0]["headers"], arrived[0]["body"]
    expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest())
    assert hmac.compare_digest(headers["X-Shopify-Hmac-Sha256"].encode(), expected)
    assert headers["X-Shopify-Topic"] == "draft_orders/update"
    assert headers["X-Shopify-Shop-Domain"] == "simulator.myshopify.com"
    assert headers["X-Shopify-Api-Version"] == "2025-10"
    assert {"X-Shopify-Webhook-Id", "X-Shopify-Event-Id", "X-Shopify-Triggered-At"} <= set(headers)


def test_a_served_simulator_posts_its_webhook_to_the_subscribed_address(catcher):
    address, arrived = catcher
    with shopify_simulator(TOKEN, webhook_secret="s3cret") as shop:
        requests.post(f"{shop.url}{API}/webhooks.json", headers=HEADERS, timeout=5, json={
            "webhook": {"topic": "draft_orders/update", "address": address}})
        draft = requests.post(f"{shop.url}{API}/draft_orders.json", headers=HEADERS, timeout=5,
                              json={"draft_order": {"line_items": [
                                  {"variant_id": 1, "quantity": 1}],
                                  "customer": {"id": CUSTOMER}}}).json()["draft_order"]
        requests.post(f"{shop.url}{API}/draft_orders/{draft['id']}/send_invoice.json",
                      headers=HEADERS, json={"draft_order_invoice": {}}, timeout=5)
        assert shop.state.wait_for_webhooks(10)

    body = arrived[0]["body"]
    signature = base64.b64encode(hmac.new(b"s3cret", body, hashlib.sha256).digest()).decode()
    assert arrived[0]["headers"]["X-Shopify-Hmac-Sha256"] == signature
    assert json.loads(body)["id"] == draft["id"]


def test_a_webhook_goes_only_to_subscribers_of_its_topic(client, state, catcher):
    address, arrived = catcher
    subscribe(client, "draft_orders/delete", address)

    send_invoice(client, make_draft(client)["id"])

    assert sent(state) == []
    assert arrived == []


def test_paused_webhooks_are_recorded_and_never_sent(client, state, catcher):
    address, arrived = catcher
    subscribe(client, "draft_orders/update", address)
    state.configure(webhooks_paused=True)

    send_invoice(client, make_draft(client)["id"])

    assert [(d["paused"], d["status"]) for d in sent(state)] == [(True, None)]
    assert arrived == []


def test_duplicated_webhooks_arrive_twice_with_the_same_webhook_id(client, state, catcher):
    address, arrived = catcher
    subscribe(client, "draft_orders/update", address)
    state.configure(webhook_duplicates=True)

    send_invoice(client, make_draft(client)["id"])

    sent(state)
    ids = [a["headers"]["X-Shopify-Webhook-Id"] for a in arrived]
    assert len(ids) == 2 and ids[0] == ids[1]


def test_a_reordered_webhook_arrives_after_the_next(client, state, catcher):
    address, arrived = catcher
    subscribe(client, "draft_orders/update", address)
    state.configure(webhook_reorder=True)
    draft = make_draft(client)

    send_invoice(client, draft["id"])
    client.post(f"/_sim/draft_orders/{draft['id']}/complete")

    sent(state)
    statuses = [json.loads(a["body"])["status"] for a in arrived]
    assert statuses == ["completed", "invoice_sent"]


def test_a_webhook_to_an_address_that_does_not_answer_is_recorded_with_its_error(client, state):
    subscribe(client, "draft_orders/update", "http://127.0.0.1:9/nobody")

    send_invoice(client, make_draft(client)["id"])

    [delivery] = sent(state)
    assert delivery["status"] is None
    assert delivery["error"].startswith("ConnectionError")
