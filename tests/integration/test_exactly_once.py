"""Exactly one draft order per accepted submission, whatever is lost on the way."""

import json
import sqlite3

import pytest
import requests
from helpers import API, SHOP, submit

from app.delivery.worker import Worker
from app.ids import EVENT_MARKER

CREATE = f"{API}/draft_orders.json"
DRAFT = {"draft_order": {"id": 7, "name": "#D7", "invoice_url": f"{SHOP}/1/invoices/a"}}


def marked(event_id, draft_id=7, name="#D7"):
    return {"id": draft_id, "name": name, "invoice_url": f"{SHOP}/1/invoices/a",
            "note_attributes": [{"name": EVENT_MARKER, "value": event_id}]}


def test_every_draft_order_carries_its_event_id(client, worker, shopify):
    call = shopify.post(CREATE, status=201, json=DRAFT)
    event_id = submit(client)["id"]
    worker.run_once()
    attributes = json.loads(call.calls[0].request.body)["draft_order"]["note_attributes"]
    assert {"name": EVENT_MARKER, "value": event_id} in attributes


def test_a_lost_answer_is_looked_up_before_posting_again(client, worker, shopify, clock, store):
    shopify.post(CREATE, body=requests.ConnectionError("dropped after sending"))
    event_id = submit(client)["id"]
    worker.run_once()
    lookup = shopify.get(CREATE, json={"draft_orders": [marked("another-event", 6, "#D6"),
                                                        marked(event_id)]})
    clock.advance(60)
    worker.run_once()
    event = store.get(event_id)
    assert (event["status"], event["draft_order_name"]) == ("completed", "#D7")
    assert "updated_at_min=" in lookup.calls[0].request.url
    assert [c.request.method for c in shopify.calls] == ["POST", "GET"]


def test_the_lookup_follows_shopifys_next_page_link(client, worker, shopify, clock, store):
    shopify.post(CREATE, status=502)
    event_id = submit(client)["id"]
    worker.run_once()
    second_page = f"{CREATE}?page_info=abc&limit=250"
    shopify.get(CREATE, json={"draft_orders": [marked("other", 6, "#D6")]},
                headers={"Link": f'<{second_page}>; rel="next"'})
    shopify.get(second_page, json={"draft_orders": [marked(event_id)]})
    clock.advance(60)
    worker.run_once()
    assert store.get(event_id)["draft_order_name"] == "#D7"


def test_a_next_page_link_to_another_host_is_not_followed(client, worker, shopify, clock, store):
    shopify.post(CREATE, status=502)
    event_id = submit(client)["id"]
    worker.run_once()
    shopify.get(CREATE, json={"draft_orders": []},
                headers={"Link": '<https://evil.example/list>; rel="next"'})
    clock.advance(60)
    worker.run_once()
    event = store.get(event_id)
    assert event["status"] == "processing" and event["maybe_posted"] == 1
    assert len(shopify.calls) == 2


@pytest.mark.slow
def test_a_429_needs_no_lookup_before_the_next_post(client, worker, shopify, clock):
    shopify.post(CREATE, status=429, headers={"Retry-After": "1"})
    submit(client)
    worker.run_once()
    shopify.replace("POST", CREATE, status=201, json=DRAFT)
    clock.advance(1)
    worker.run_once()
    assert [c.request.method for c in shopify.calls] == ["POST", "POST"]


def test_a_failing_lookup_is_retried_and_never_followed_by_a_blind_post(client, worker,
                                                                          shopify, clock, store):
    shopify.post(CREATE, status=500)
    event_id = submit(client)["id"]
    worker.run_once()
    shopify.get(CREATE, status=503)
    clock.advance(60)
    worker.run_once()
    assert [c.request.method for c in shopify.calls] == ["POST", "GET"]
    assert store.get(event_id)["maybe_posted"] == 1


def test_admin_retry_of_an_uncertain_event_looks_before_posting(make_app, shopify, clock):
    app = make_app(MAX_ATTEMPTS="1")
    store, core = app.extensions["store"], app.extensions["worker"]
    worker = Worker(store, core.client, core.policy, core.lease_seconds, clock=clock)
    shopify.post(CREATE, body=requests.ReadTimeout("slow"))
    event_id = submit(app.test_client())["id"]
    worker.run_once()
    assert store.get(event_id)["status"] == "failed"
    store.retry(event_id, clock())
    shopify.get(CREATE, json={"draft_orders": [marked(event_id)]})
    worker.run_once()
    assert store.get(event_id)["status"] == "completed"
    assert [c.request.method for c in shopify.calls] == ["POST", "GET"]


def test_a_dropped_connection_after_creation_yields_one_draft(make_app, start_simulator, clock):
    shop = start_simulator("shpat_x", drop_after_create=1)
    app = make_app(SHOPIFY_SHOP=shop.url, SHOPIFY_ACCESS_TOKEN="shpat_x")
    core = app.extensions["worker"]
    worker = Worker(core.store, core.client, core.policy, core.lease_seconds, clock=clock)
    event_id = submit(app.test_client())["id"]
    while core.store.get(event_id)["status"] != "completed":
        assert worker.run_once() or clock.advance(60) is None
        assert clock.offset < 3600
    drafts = shop.state.draft_orders
    assert len(drafts) == 1
    assert core.store.get(event_id)["draft_order_id"] == drafts[0]["id"]


@pytest.mark.parametrize("change", [
    {"items": [{"variant_id": 1, "quantity": 2}]},
    {"customer_id": 5},
    {"token": "c2-other"},
    {"note": "typo fixed"},
    {"attributes": {"Gift": "yes"}},
])
def test_a_different_cart_is_a_new_submission(client, change):
    first = submit(client)
    items = change.get("items")
    customer_id = change.get("customer_id", 207119551)
    extra = {key: change[key] for key in ("token", "note", "attributes") if key in change}
    second = submit(client, items=items, customer_id=customer_id, **extra)
    assert second["id"] != first["id"]


def test_the_same_cart_twice_returns_the_first_event(client, store):
    first = submit(client)
    second = submit(client)
    assert second == {**first, "status": "queued"}
    assert store.count_events() == 1


def test_a_resubmission_reports_the_current_status(client, worker, shopify):
    shopify.post(CREATE, status=201, json=DRAFT)
    first = submit(client)
    worker.run_once()
    again = submit(client)
    assert (again["id"], again["status"]) == (first["id"], "completed")


def test_the_same_cart_after_the_window_is_a_new_submission(make_app):
    client = make_app(DEDUPE_WINDOW="0").test_client()
    assert submit(client)["id"] != submit(client)["id"]


def test_an_error_while_settling_reschedules_the_event_at_once_and_looks_before_reposting(
        client, worker, shopify, clock, store, monkeypatch):
    shopify.post(CREATE, status=201, json=DRAFT)
    event_id = submit(client)["id"]
    settle = store.settle

    def failing_settle(*args, **kwargs):
        monkeypatch.setattr(store, "settle", settle)  # only the first settle fails
        raise sqlite3.IntegrityError("NOT NULL constraint failed: events.next_attempt_at")

    monkeypatch.setattr(store, "settle", failing_settle)
    worker.run_once()
    event = store.get(event_id)
    assert (event["status"], event["lease_owner"], event["maybe_posted"]) == (
        "processing", None, 1)
    shopify.get(CREATE, json={"draft_orders": [marked(event_id)]})
    clock.advance(event["next_attempt_at"] - clock())
    worker.run_once()
    assert store.get(event_id)["status"] == "completed"
    assert [c.request.method for c in shopify.calls] == ["POST", "GET"]


def test_a_lookup_read_before_a_dead_workers_post_could_answer_is_repeated_not_trusted(
        client, worker, shopify, clock, store):
    """Taken over one lease after its worker died mid-POST, an empty list may only
    mean Shopify is still making the draft: look again once the POST's answer is due."""
    event_id = submit(client)["id"]
    now = clock()
    store.claim("dead-worker", now, worker.lease_seconds)
    store.mark_posting(event_id, "dead-worker", now, worker.lease_seconds, answer_by=now + 30)
    shopify.get(CREATE, json={"draft_orders": []})
    clock.advance(worker.lease_seconds)
    worker.run_once()
    event = store.get(event_id)
    assert (event["maybe_posted"], event["next_attempt_at"]) == (1, now + 30)
    clock.advance(event["next_attempt_at"] - clock())
    worker.run_once()  # the same empty list, read after the POST's deadline: post
    shopify.post(CREATE, status=201, json=DRAFT)
    worker.run_once()
    assert store.get(event_id)["status"] == "completed"
    assert [c.request.method for c in shopify.calls] == ["GET", "GET", "POST"]
