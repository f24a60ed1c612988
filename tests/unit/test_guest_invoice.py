"""A guest's invoice: sent to the email they typed only with SEND_INVOICE_TO_GUESTS=1
besides SEND_INVOICE=1; by default the merchant reviews the draft and sends it."""

import json

import pytest
from helpers import API, SHOP, submit

from app.delivery.transitions import GUEST_INVOICE_OFF

CREATE = f"{API}/draft_orders.json"
SEND = f"{API}/draft_orders/7/send_invoice.json"
DRAFT = {"draft_order": {"id": 7, "name": "#D7", "invoice_url": f"{SHOP}/1/invoices/a"}}
GUEST = {"email": "ann@example.com"}
FORM = {"GUEST_FIELDS": "email*", "SEND_INVOICE": "1"}


@pytest.fixture
def app(make_app):
    return make_app(**FORM)


def test_a_guests_typed_email_gets_no_invoice_by_default(client, worker, shopify, store):
    shopify.post(CREATE, status=201, json=DRAFT)
    event_id = submit(client, customer_id=None, guest=GUEST)["id"]
    worker.run_once()
    event = store.get(event_id)
    assert (event["status"], event["invoice_status"], event["invoice_detail"]) == (
        "completed", "skipped", GUEST_INVOICE_OFF)
    assert len(shopify.calls) == 1


def test_a_guests_typed_email_gets_the_invoice_when_the_merchant_opts_in(make_app, shopify):
    app = make_app(**FORM, SEND_INVOICE_TO_GUESTS="1")
    client, store = app.test_client(), app.extensions["store"]
    shopify.post(CREATE, status=201, json=DRAFT)
    send = shopify.post(SEND, status=201, json={"draft_order_invoice": {}})
    event_id = submit(client, customer_id=None, guest=GUEST)["id"]
    worker = app.extensions["worker"]
    assert worker.run_once() and worker.run_once()
    assert store.get(event_id)["invoice_status"] == "sent"
    assert json.loads(shopify.calls[0].request.body)["draft_order"]["email"] == "ann@example.com"
    assert len(send.calls) == 1
