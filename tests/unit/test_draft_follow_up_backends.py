"""Both backends' calls about a draft that exists, against Shopify's documented
answer shapes: sending its invoice, and re-reading its state (untrusted input)."""

import json

import pytest
import requests
from helpers import API, SHOP, TOKEN

from app.config import DEFAULT_API_VERSION
from app.lifecycle import DraftSeen
from app.shopify import GraphQLClient, RestClient
from app.shopify.pacing import CallPacer, CostPacer

GRAPHQL = f"{API}/graphql.json"
SEND = f"{API}/draft_orders/7/send_invoice.json"
DRAFT = f"{API}/draft_orders/7.json"
ORDER = f"{API}/orders/450789469.json?fields=id,name,financial_status"
UPDATED = "2026-12-01T18:41:57-05:00"
UPDATED_AT = 1_796_168_517.0


@pytest.fixture
def rest():
    return RestClient(SHOP, TOKEN, DEFAULT_API_VERSION, 5, pacer=CallPacer(sleep=lambda s: None))


@pytest.fixture
def graphql():
    return GraphQLClient(SHOP, TOKEN, DEFAULT_API_VERSION, 5, pacer=CostPacer(sleep=lambda s: None))


def sent(call):
    return json.loads(call.calls[0].request.body)


def rest_draft(status="open", invoice_sent_at=None, order_id=None, updated_at=UPDATED):
    return {"draft_order": {"id": 7, "status": status, "updated_at": updated_at,
                            "invoice_sent_at": invoice_sent_at, "order_id": order_id}}


def graphql_draft(draft):
    return {"data": {"draftOrder": draft}, "extensions": {"cost": {
        "requestedQueryCost": 2, "actualQueryCost": 2, "throttleStatus": {
            "maximumAvailable": 1000.0, "currentlyAvailable": 998.0, "restoreRate": 100.0}}}}


def invoice_sent(user_errors=()):
    return {"data": {"draftOrderInvoiceSend": {
        "draftOrder": None if user_errors else {"id": "gid://shopify/DraftOrder/7",
                                                "invoiceSentAt": UPDATED},
        "userErrors": list(user_errors)}}}


# --- REST. ---

def test_rest_sends_the_invoice_with_the_subject_and_message(rest, shopify):
    call = shopify.post(SEND, status=201, json={"draft_order_invoice": {"to": "a@b.c"}})
    _, outcome = rest.send_invoice(7, "Your quote", "Thanks!", lambda: True)
    assert outcome.kind == "sent"
    assert sent(call) == {"draft_order_invoice": {"subject": "Your quote",
                                                  "custom_message": "Thanks!"}}


def test_rest_leaves_an_unset_subject_and_message_to_shopify(rest, shopify):
    call = shopify.post(SEND, status=200, json={"draft_order_invoice": {}})
    rest.send_invoice(7, None, None, lambda: True)
    assert sent(call) == {"draft_order_invoice": {}}


def test_rest_sends_no_invoice_when_not_ready(rest):
    assert rest.send_invoice(7, None, None, lambda: False) == (None, None)


def test_rest_a_refused_invoice_says_what_shopify_said(rest, shopify):
    shopify.post(SEND, status=422, json={"errors": {"to": ["can't be blank"]}})
    _, outcome = rest.send_invoice(7, None, None, lambda: True)
    assert (outcome.kind, outcome.code) == ("rejected", "invoice_rejected")
    assert "to: can't be blank" in outcome.detail


def test_rest_an_unanswered_invoice_may_have_been_sent(rest, shopify):
    shopify.post(SEND, body=requests.ConnectionError("dropped"))
    _, outcome = rest.send_invoice(7, None, None, lambda: True)
    assert outcome.kind == "unavailable" and not outcome.nothing_created


def test_rest_reads_an_open_draft_with_its_update_time(rest, shopify):
    shopify.get(DRAFT, json=rest_draft())
    _, outcome = rest.read_draft(7)
    assert outcome.seen == DraftSeen("open", UPDATED_AT)


def test_rest_an_open_draft_with_an_invoice_sent_at_reads_as_invoice_sent(rest, shopify):
    shopify.get(DRAFT, json=rest_draft(invoice_sent_at=UPDATED))
    _, outcome = rest.read_draft(7)
    assert (outcome.seen.state, outcome.seen.invoice_sent) == ("invoice_sent", True)


def test_rest_reads_the_order_of_a_completed_draft_in_one_more_call(rest, shopify):
    shopify.get(DRAFT, json=rest_draft("completed", UPDATED, 450789469))
    shopify.get(ORDER, json={"order": {"id": 450789469, "name": "#1001",
                                       "financial_status": "paid"}})
    _, outcome = rest.read_draft(7)
    assert outcome.seen == DraftSeen("completed", UPDATED_AT, 450789469, "#1001", "paid", True)


def test_rest_reads_no_order_when_its_name_is_known(rest, shopify):
    shopify.get(DRAFT, json=rest_draft("completed", None, 450789469))
    _, outcome = rest.read_draft(7, with_order=False)
    assert (outcome.seen.order_id, outcome.seen.order_name) == (450789469, None)
    assert len(shopify.calls) == 1


def test_rest_an_order_it_may_not_read_leaves_the_draft_completed(rest, shopify):
    shopify.get(DRAFT, json=rest_draft("completed", None, 450789469))
    shopify.get(ORDER, status=403, json={"errors": "read_orders scope needed"})
    _, outcome = rest.read_draft(7)
    assert (outcome.seen.state, outcome.seen.order_name) == ("completed", None)


def test_rest_a_draft_shopify_no_longer_has_reads_as_deleted(rest, shopify):
    shopify.get(DRAFT, status=404, json={"errors": "Not Found"})
    _, outcome = rest.read_draft(7)
    assert outcome.seen.state == "deleted"


@pytest.mark.parametrize("order_id", ["450789469/../../shop", -1, True, 1.5, "9" * 30])
def test_rest_an_order_id_that_is_no_id_is_never_followed(rest, shopify, order_id):
    shopify.get(DRAFT, json=rest_draft("completed", None, order_id))
    _, outcome = rest.read_draft(7)
    assert outcome.kind == "unavailable"
    assert len(shopify.calls) == 1


@pytest.mark.parametrize("status", ["paid", None, 3, "OPEN!"])
def test_rest_a_draft_in_no_known_state_is_unreadable(rest, shopify, status):
    shopify.get(DRAFT, json=rest_draft(status))
    _, outcome = rest.read_draft(7)
    assert outcome.kind == "unavailable"


@pytest.mark.parametrize("updated_at", ["yesterday", "2026-12-01T18:41:57", 17, "9" * 100])
def test_rest_an_unreadable_update_time_is_no_time(rest, shopify, updated_at):
    shopify.get(DRAFT, json=rest_draft(updated_at=updated_at))
    _, outcome = rest.read_draft(7)
    assert outcome.seen == DraftSeen("open", None)


def test_rest_an_overlong_order_name_is_dropped(rest, shopify):
    shopify.get(DRAFT, json=rest_draft("completed", None, 450789469))
    shopify.get(ORDER, json={"order": {"id": 450789469, "name": "#" * 300,
                                       "financial_status": "paid"}})
    _, outcome = rest.read_draft(7)
    assert (outcome.seen.order_id, outcome.seen.order_name) == (450789469, None)


# --- GraphQL. ---

def test_graphql_sends_the_invoice_with_the_subject_and_message(graphql, shopify):
    call = shopify.post(GRAPHQL, json=invoice_sent())
    _, outcome = graphql.send_invoice(7, "Your quote", "Thanks!", lambda: True)
    body = sent(call)
    assert outcome.kind == "sent"
    assert body["query"].lstrip().startswith("mutation DraftOrderInvoiceSend(")
    assert body["variables"] == {"id": "gid://shopify/DraftOrder/7",
                                 "email": {"subject": "Your quote", "customMessage": "Thanks!"}}


def test_graphql_leaves_an_unset_subject_and_message_to_shopify(graphql, shopify):
    call = shopify.post(GRAPHQL, json=invoice_sent())
    graphql.send_invoice(7, None, None, lambda: True)
    assert sent(call)["variables"]["email"] is None


def test_graphql_user_errors_refuse_the_invoice(graphql, shopify):
    shopify.post(GRAPHQL, json=invoice_sent([{"field": ["email", "to"],
                                              "message": "To can't be blank"}]))
    _, outcome = graphql.send_invoice(7, None, None, lambda: True)
    assert (outcome.kind, outcome.code) == ("rejected", "invoice_rejected")
    assert "To can't be blank" in outcome.detail


def test_graphql_reads_a_draft_and_the_order_it_became(graphql, shopify):
    call = shopify.post(GRAPHQL, json=graphql_draft({
        "status": "COMPLETED", "updatedAt": "2026-12-01T23:41:57Z", "invoiceSentAt": None,
        "order": {"legacyResourceId": "450789469", "name": "#1001",
                  "displayFinancialStatus": "PAID"}}))
    _, outcome = graphql.read_draft(7)
    assert outcome.seen == DraftSeen("completed", UPDATED_AT, 450789469, "#1001", "paid")
    assert sent(call)["query"].lstrip().startswith("query DraftOrderState(")


def test_graphql_an_open_draft_with_an_invoice_sent_at_reads_as_invoice_sent(graphql, shopify):
    shopify.post(GRAPHQL, json=graphql_draft({"status": "OPEN", "updatedAt": UPDATED,
                                              "invoiceSentAt": UPDATED, "order": None}))
    _, outcome = graphql.read_draft(7)
    assert outcome.seen == DraftSeen("invoice_sent", UPDATED_AT, invoice_sent=True)


def test_graphql_a_null_draft_reads_as_deleted(graphql, shopify):
    shopify.post(GRAPHQL, json=graphql_draft(None))
    _, outcome = graphql.read_draft(7)
    assert outcome.seen.state == "deleted"


@pytest.mark.parametrize("order", [{"legacyResourceId": "-3"}, "450789469", [1]])
def test_graphql_an_order_that_is_no_order_is_unreadable(graphql, shopify, order):
    shopify.post(GRAPHQL, json=graphql_draft({"status": "COMPLETED", "updatedAt": UPDATED,
                                              "invoiceSentAt": None, "order": order}))
    _, outcome = graphql.read_draft(7)
    assert outcome.kind == "unavailable"


def test_graphql_an_answer_without_the_draft_field_is_no_deletion(graphql, shopify):
    shopify.post(GRAPHQL, json={"data": {}})
    _, outcome = graphql.read_draft(7)
    assert outcome.kind == "unavailable"
