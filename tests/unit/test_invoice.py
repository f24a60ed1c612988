"""SEND_INVOICE=1: once the draft exists, the worker sends its invoice, exactly
once, whatever is lost on the way; the event completes however that ends."""

import json

import pytest
import requests
from helpers import API, SHOP, submit

from app.delivery.transitions import GUEST_INVOICE, Policy
from app.delivery.worker import Worker
from app.shopify import graphql
from app.shopify.answers import Answer

CREATE = f"{API}/draft_orders.json"
SEND = f"{API}/draft_orders/7/send_invoice.json"
READ = f"{API}/draft_orders/7.json"
DRAFT = {"draft_order": {"id": 7, "name": "#D7", "invoice_url": f"{SHOP}/1/invoices/a"}}
INVOICE = {"draft_order_invoice": {"to": "anna@example.com", "subject": "Your quote"}}


@pytest.fixture
def app(make_app):
    return make_app(SEND_INVOICE="1", INVOICE_SUBJECT="Your quote",
                    INVOICE_MESSAGE="Thank you for your cart.")


def read(status="open", invoice_sent_at=None):
    return {"draft_order": {"id": 7, "status": status, "updated_at": "2026-12-01T18:41:57Z",
                            "invoice_sent_at": invoice_sent_at, "order_id": None}}


def created(shopify, client):
    """A submitted cart whose draft Shopify made: its event id."""
    shopify.post(CREATE, status=201, json=DRAFT)
    return submit(client)["id"]


def test_the_invoice_is_sent_once_the_draft_exists(client, worker, shopify, store):
    event_id = created(shopify, client)
    send = shopify.post(SEND, status=201, json=INVOICE)
    assert worker.run_once() and worker.run_once()
    assert not worker.run_once()
    event = store.get(event_id)
    assert (event["status"], event["invoice_status"], event["draft_state"]) == (
        "completed", "sent", "invoice_sent")
    assert json.loads(send.calls[0].request.body) == {"draft_order_invoice": {
        "subject": "Your quote", "custom_message": "Thank you for your cart."}}
    assert len(send.calls) == 1


def test_the_event_waits_for_its_invoice_with_its_draft_shown(client, worker, shopify):
    shopify.post(CREATE, status=201, json=DRAFT)
    status_url = submit(client)["status_url"]
    worker.run_once()
    document = client.get(status_url).get_json()
    assert document["status"] == "processing"
    assert (document["draft_order"]["name"], document["draft_order"]["invoice"]) == ("#D7", None)


def test_the_status_document_says_the_invoice_was_sent(client, worker, shopify):
    shopify.post(CREATE, status=201, json=DRAFT)
    shopify.post(SEND, status=201, json=INVOICE)
    status_url = submit(client)["status_url"]
    worker.run_once()
    worker.run_once()
    draft = client.get(status_url).get_json()["draft_order"]
    assert (draft["state"], draft["invoice"]) == ("invoice_sent", "sent")


def test_a_guest_cart_completes_without_an_invoice_and_says_why(client, worker, shopify, store):
    shopify.post(CREATE, status=201, json=DRAFT)
    event_id = submit(client, customer_id=None)["id"]
    worker.run_once()
    event = store.get(event_id)
    assert (event["status"], event["invoice_status"], event["invoice_detail"]) == (
        "completed", "skipped", GUEST_INVOICE)
    assert len(shopify.calls) == 1


def test_a_refused_invoice_completes_the_event_with_the_invoice_failed(client, worker, shopify,
                                                                      store):
    event_id = created(shopify, client)
    shopify.post(SEND, status=422, json={"errors": {"base": ["Customer has no email"]}})
    worker.run_once()
    worker.run_once()
    event = store.get(event_id)
    assert (event["status"], event["invoice_status"]) == ("completed", "failed")
    assert "Customer has no email" in event["invoice_detail"]
    assert event["error_code"] is None


@pytest.mark.slow
def test_a_throttled_invoice_is_sent_after_retry_after_without_a_re_read(client, worker,
                                                                         shopify, clock, store):
    event_id = created(shopify, client)
    shopify.post(SEND, status=429, headers={"Retry-After": "1"})
    worker.run_once()
    worker.run_once()
    shopify.replace("POST", SEND, status=201, json=INVOICE)
    clock.advance(1)
    worker.run_once()
    assert store.get(event_id)["invoice_status"] == "sent"
    assert [c.request.method for c in shopify.calls] == ["POST", "POST", "POST"]


def test_a_lost_invoice_answer_is_re_read_and_never_sent_twice(client, worker, shopify, clock,
                                                                store):
    event_id = created(shopify, client)
    send = shopify.post(SEND, body=requests.ConnectionError("dropped after sending"))
    worker.run_once()
    worker.run_once()
    assert store.get(event_id)["invoice_maybe_sent"] == 1
    shopify.get(READ, json=read(invoice_sent_at="2026-12-01T18:41:58Z"))
    clock.advance(60)
    worker.run_once()
    event = store.get(event_id)
    assert (event["status"], event["invoice_status"]) == ("completed", "sent")
    assert len(send.calls) == 1


def test_a_flagged_invoice_the_draft_shows_unsent_is_sent_after_the_re_read(client, worker,
                                                                             shopify, clock,
                                                                             store):
    event_id = created(shopify, client)
    shopify.post(SEND, status=503)
    worker.run_once()
    worker.run_once()
    shopify.get(READ, json=read())
    clock.advance(60)
    worker.run_once()
    shopify.replace("POST", SEND, status=201, json=INVOICE)
    worker.run_once()
    assert store.get(event_id)["invoice_status"] == "sent"
    assert [c.request.method for c in shopify.calls] == ["POST", "POST", "GET", "POST"]


def test_an_invoice_shopify_keeps_throttling_ends_completed_with_the_invoice_failed(
        app, client, shopify, clock, store):
    core = app.extensions["worker"]
    worker = Worker(store, core.client, Policy(max_throttles=3), core.lease_seconds,
                    clock=clock, follow_up=core.follow_up)
    event_id = created(shopify, client)
    worker.run_once()
    shopify.post(SEND, status=429, headers={"Retry-After": "0"})
    for _ in range(3):
        worker.run_once()
    event = store.get(event_id)
    assert (event["status"], event["invoice_status"]) == ("completed", "failed")
    assert "429" in event["invoice_detail"]


# --- The worker's own changes are dated, so a late webhook cannot undo them (issue 17). ---

def test_a_created_draft_is_dated_by_shopifys_updated_at(client, worker, shopify, store):
    shopify.post(CREATE, status=201, json={"draft_order": {
        **DRAFT["draft_order"], "updated_at": "2026-12-01T18:41:57Z"}})
    event_id = submit(client)["id"]
    worker.run_once()
    assert store.get(event_id)["draft_updated_at"] == 1796150517.0


def test_an_invoice_sent_through_rest_is_dated_by_this_clock(client, worker, shopify, store,
                                                              clock):
    event_id = created(shopify, client)
    shopify.post(SEND, status=201, json=INVOICE)
    worker.run_once()
    sent_at = clock()
    worker.run_once()
    assert store.get(event_id)["draft_updated_at"] == pytest.approx(sent_at, abs=1)


def test_a_creation_dated_far_ahead_of_this_clock_is_not_believed(client, worker, shopify,
                                                                   store):
    shopify.post(CREATE, status=201, json={"draft_order": {
        **DRAFT["draft_order"], "updated_at": "2099-01-01T00:00:00Z"}})  # beyond belief: unused
    event_id = submit(client)["id"]
    shopify.post(SEND, status=201, json=INVOICE)
    worker.run_once()
    assert store.get(event_id)["draft_updated_at"] is None
    worker.run_once()
    assert store.get(event_id)["draft_updated_at"] < 4070908800.0


def test_an_invoice_sent_through_graphql_is_dated_by_shopifys_updated_at():
    body = {"data": {"draftOrderInvoiceSend": {"draftOrder": {
        "id": "gid://shopify/DraftOrder/7", "invoiceSentAt": "2026-12-01T18:41:57Z",
        "updatedAt": "2026-12-01T18:41:58Z"}, "userErrors": []}}}
    answer = Answer("POST", f"{API}/graphql.json", 200, json.dumps(body), json=body)
    outcome = graphql.classify_invoice(answer)
    assert (outcome.kind, outcome.updated_at) == ("sent", 1796150518.0)
