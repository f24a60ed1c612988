"""Reconciliation: Shopify's webhooks may never come, so the worker re-reads
each open draft it created on a widening schedule, one at a time, only when no
active event is due and the pacer has room, and stops once the draft is final
or RECONCILE_DAYS have passed."""

import pytest
from helpers import API, SHOP, submit

from app.delivery.transitions import reconcile_state
from app.delivery.worker import Worker
from app.lifecycle import DAY, DraftSeen
from app.shopify import Outcome

CREATE = f"{API}/draft_orders.json"
READ = f"{API}/draft_orders/7.json"
ORDER = f"{API}/orders/450789469.json?fields=id,name,financial_status"
DRAFT = {"draft_order": {"id": 7, "name": "#D7", "invoice_url": f"{SHOP}/1/invoices/a"}}


def draft(status="open", order_id=None, updated_at="2026-12-01T18:41:57Z"):
    return {"draft_order": {"id": 7, "status": status, "updated_at": updated_at,
                            "invoice_sent_at": None, "order_id": order_id}}


@pytest.fixture
def created(client, worker, shopify, store):
    """The event of a cart whose draft Shopify made (no invoice: SEND_INVOICE off)."""
    shopify.post(CREATE, status=201, json=DRAFT)
    status_url = submit(client)["status_url"]
    assert worker.run_once()
    event = store.get(client.get(status_url).get_json()["id"])
    assert (event["status"], event["draft_state"]) == ("completed", "open")
    return event


def test_a_created_draft_is_first_re_read_a_minute_after_the_event_settled(created):
    assert created["reconcile_at"] == pytest.approx(created["updated_at"] + 60)


def test_no_draft_is_re_read_before_it_is_due(created, worker, clock):
    clock.advance(59)
    assert not worker.run_once()


def test_a_draft_completed_in_shopify_is_seen_completed_after_the_re_read(
        created, client, worker, shopify, clock, store):
    shopify.get(READ, json=draft("completed", 450789469))
    shopify.get(ORDER, json={"order": {"id": 450789469, "name": "#1001",
                                       "financial_status": "paid"}})
    clock.advance(60)
    assert worker.run_once()
    event = store.get(created["id"])
    assert (event["draft_state"], event["order_name"], event["reconcile_at"]) == (
        "completed", "#1001", None)
    assert not worker.run_once()


def test_the_shopper_sees_the_paid_order_after_the_re_read(client, worker, shopify, clock):
    shopify.post(CREATE, status=201, json=DRAFT)
    status_url = submit(client)["status_url"]
    worker.run_once()
    shopify.get(READ, json=draft("completed", 450789469))
    shopify.get(ORDER, json={"order": {"id": 450789469, "name": "#1001",
                                       "financial_status": "paid"}})
    clock.advance(60)
    worker.run_once()
    document = client.get(status_url).get_json()
    assert document["draft_order"]["state"] == "completed"
    assert document["order"] == {"name": "#1001", "paid": True}


def test_an_open_draft_is_re_read_after_a_minute_then_ten_minutes_then_an_hour(
        created, worker, shopify, clock, store):
    reads = shopify.get(READ, json=draft())
    looks = []
    for wait in (60, 600, 3600):
        clock.advance(wait - 1)
        assert not worker.run_once(), f"re-read before {wait} s"
        clock.advance(1)
        assert worker.run_once()
        looks.append(store.get(created["id"])["reconcile_count"])
    assert looks == [1, 2, 3] and len(reads.calls) == 3


def test_re_reads_stop_after_reconcile_days():
    event = {"created_at": 0.0, "reconcile_count": 4, "draft_state": "open",
             "draft_updated_at": None, "order_name": None}
    changes = reconcile_state(event, Outcome("seen", seen=DraftSeen("open", None)), DAY - 5, 1)
    assert (changes["reconcile_count"], changes["reconcile_at"]) == (5, None)


def test_a_deleted_draft_is_no_longer_re_read(created, worker, shopify, clock, store):
    shopify.get(READ, status=404, json={"errors": "Not Found"})
    clock.advance(60)
    worker.run_once()
    event = store.get(created["id"])
    assert (event["draft_state"], event["reconcile_at"]) == ("deleted", None)


def test_a_failed_re_read_only_moves_the_next_look_on(created, worker, shopify, clock, store):
    shopify.get(READ, status=503)
    clock.advance(60)
    worker.run_once()
    event = store.get(created["id"])
    assert (event["status"], event["error_code"], event["reconcile_count"]) == (
        "completed", None, 0)
    assert event["reconcile_at"] > clock()


def test_re_reads_wait_while_an_active_event_is_due(created, client, worker, shopify, clock,
                                                   store):
    clock.advance(60)
    second = submit(client, customer_id=42)["id"]  # another cart
    assert second != created["id"]
    shopify.replace("POST", CREATE, status=201, json=DRAFT)
    worker.run_once()
    assert store.get(second)["status"] == "completed"
    assert [c.request.method for c in shopify.calls] == ["POST", "POST"]


def test_re_reads_wait_while_the_pacer_has_no_room(client, worker, shopify, clock):
    shopify.post(CREATE, status=201, json=DRAFT,
                 headers={"X-Shopify-Shop-Api-Call-Limit": "39/40"})
    submit(client)
    worker.run_once()
    clock.advance(60)  # the worker's clock: the bucket leaks by real time only
    assert not worker.run_once()
    assert len(shopify.calls) == 1


def test_no_draft_is_re_read_with_reconcile_days_zero(make_app, clock, shopify):
    app = make_app(RECONCILE_DAYS="0")
    core = app.extensions["worker"]
    assert core.follow_up.reconcile_days == 0
    shopify.post(CREATE, status=201, json=DRAFT)
    event_id = submit(app.test_client())["id"]
    worker = Worker(core.store, core.client, core.policy, core.lease_seconds, clock=clock,
                    follow_up=core.follow_up)
    worker.run_once()
    assert core.store.get(event_id)["reconcile_at"] is None
