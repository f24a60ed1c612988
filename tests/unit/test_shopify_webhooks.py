"""Shopify's own webhooks at POST /webhooks/shopify: the signature, de-duplication,
answering before processing, and how the worker applies each topic to the
event whose draft order it is about."""

import base64
import hashlib
import hmac
import json
import uuid

import pytest
from helpers import add_event

from app.delivery.transitions import reconcile_state
from app.delivery.webhooks import apply_pending
from app.ids import EVENT_MARKER
from app.lifecycle import DraftSeen
from app.shopify import Outcome
from app.shopify.webhooks import NOT_OURS, read_report

HOOK_SECRET = "shpss_webhook_signing_key"
DRAFT_ID = 1069920479
SHOP_DOMAIN = "test-shop.myshopify.com"
T0 = "2026-01-01T10:00:00-05:00"
T1 = "2026-01-01T10:05:00-05:00"


@pytest.fixture
def app(make_app):
    return make_app(SHOPIFY_WEBHOOK_SECRET=HOOK_SECRET)


def sign(body, secret=HOOK_SECRET):
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def post(client, topic, payload, webhook_id=None, event_id=None, secret=HOOK_SECRET,
         signature=None, shop=SHOP_DOMAIN, body=None):
    """Send a webhook as Shopify does; `body` replaces the signed one (tampering)."""
    raw = json.dumps(payload).encode()
    headers = {"X-Shopify-Topic": topic,
               "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
               "X-Shopify-Shop-Domain": shop,
               "X-Shopify-Hmac-Sha256": signature or sign(raw, secret),
               "X-Shopify-API-Version": "2025-10"}
    if event_id is not None:
        headers["X-Shopify-Event-Id"] = event_id
    if signature == "":
        del headers["X-Shopify-Hmac-Sha256"]
    return client.post("/webhooks/shopify", data=raw if body is None else body, headers=headers,
                       content_type="application/json")


def draft_update(status="open", updated_at=T0, **fields):
    return {"id": DRAFT_ID, "status": status, "updated_at": updated_at, "order_id": None,
            "name": "#D5", **fields}


def order(event_id, **fields):
    return {"id": 820982911946154500, "name": "#1001", "financial_status": "paid",
            "source_name": "shopify_draft_order",
            "note_attributes": [{"name": EVENT_MARKER, "value": event_id}], **fields}


@pytest.fixture
def drafted(store):
    """An event whose open draft order the worker made."""
    event_id = str(uuid.uuid4())
    add_event(store, event_id, created=1000.0)
    assert store.claim("w", 1001.0, 60)["id"] == event_id
    assert store.settle(event_id, "w", 1002.0, status="completed", draft_order_id=DRAFT_ID,
                        draft_order_name="#D5", draft_state="open")
    return event_id


def rows(store):
    with store._connect() as conn:
        return [dict(row) for row in conn.execute("SELECT * FROM shopify_webhooks ORDER BY id")]


def applied(client, worker, topic, payload, **headers):
    assert post(client, topic, payload, **headers).status_code == 200
    worker.apply_webhooks()
    return rows(worker.store)[-1]


# --- The signature. ---

def test_a_signed_webhook_is_answered_200(client, store):
    response = post(client, "draft_orders/update", draft_update())
    assert response.status_code == 200
    assert response.get_json() == {"received": True}
    assert [row["status"] for row in rows(store)] == ["pending"]


def test_a_tampered_body_is_401(client, store):
    signed = json.dumps(draft_update()).encode()
    response = post(client, "draft_orders/update", draft_update(), signature=sign(signed),
                    body=signed.replace(b"open", b"completed"))
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "webhook_signature_invalid"
    assert rows(store) == []


def test_a_webhook_signed_with_another_secret_is_401(client, store):
    response = post(client, "draft_orders/update", draft_update(), secret="another-app-secret")
    assert response.status_code == 401
    assert rows(store) == []


def test_a_webhook_without_signature_is_401(client, store):
    response = post(client, "draft_orders/update", draft_update(), signature="")
    assert response.status_code == 401
    assert rows(store) == []


def test_the_refusal_log_names_neither_secret_nor_signature(client, caplog):
    post(client, "draft_orders/update", draft_update(), signature="bm90IHRoZSBzaWduYXR1cmU=")
    assert "webhook_signature_invalid" in caplog.text
    assert HOOK_SECRET not in caplog.text and "bm90IHRoZSBzaWduYXR1cmU=" not in caplog.text


def test_the_endpoint_is_404_without_a_webhook_secret(make_app):
    response = post(make_app().test_client(), "draft_orders/update", draft_update())
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_a_webhook_without_its_id_is_400(client):
    raw = json.dumps(draft_update()).encode()
    response = client.post("/webhooks/shopify", data=raw, headers={
        "X-Shopify-Topic": "draft_orders/update", "X-Shopify-Hmac-Sha256": sign(raw)})
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "X-Shopify-Webhook-Id"


# --- Kept first, once. ---

def test_the_webhook_is_answered_before_it_is_applied(client, store, worker, drafted):
    post(client, "draft_orders/update", draft_update("invoice_sent"))
    assert rows(store)[0]["status"] == "pending"
    assert store.get(drafted)["draft_state"] == "open"
    worker.apply_webhooks()
    assert store.get(drafted)["draft_state"] == "invoice_sent"


def test_a_replayed_webhook_id_is_a_duplicate_applied_once(client, store, worker, drafted):
    first = post(client, "draft_orders/update", draft_update("invoice_sent"), webhook_id="w-1")
    replay = post(client, "draft_orders/update", draft_update("invoice_sent"), webhook_id="w-1")
    assert first.get_json() == {"received": True}
    assert replay.status_code == 200 and replay.get_json() == {"duplicate": True}
    assert worker.apply_webhooks() == 1
    assert [row["status"] for row in rows(store)] == ["applied"]


def test_the_same_shopify_event_under_a_new_webhook_id_is_a_duplicate(client, store):
    post(client, "draft_orders/update", draft_update(), webhook_id="w-1", event_id="e-7")
    again = post(client, "draft_orders/update", draft_update(), webhook_id="w-2", event_id="e-7")
    assert again.get_json() == {"duplicate": True}
    assert len(rows(store)) == 1


def test_a_topic_not_followed_is_kept_as_ignored(client, store):
    response = post(client, "products/update", {"id": 1})
    assert response.status_code == 200
    assert [(r["status"], r["note"]) for r in rows(store)] == [
        ("ignored", "a topic this service does not follow")]


def test_a_webhook_for_another_shop_is_kept_as_ignored(client, store):
    post(client, "draft_orders/update", draft_update(), shop="other-shop.myshopify.com")
    assert [(r["status"], r["note"]) for r in rows(store)] == [("ignored", "sent for another shop")]


# --- Applied by the worker. ---

def test_an_update_moves_the_draft_state(client, worker, drafted):
    row = applied(client, worker, "draft_orders/update", draft_update("invoice_sent"))
    assert (row["status"], row["event_id"]) == ("applied", drafted)
    event = worker.store.get(drafted)
    assert event["draft_state"] == "invoice_sent"
    assert event["draft_updated_at"] == 1767279600.0  # T0


def test_an_update_older_than_the_last_applied_is_ignored(client, worker, drafted):
    applied(client, worker, "draft_orders/update", draft_update("invoice_sent", T1))
    row = applied(client, worker, "draft_orders/update", draft_update("open", T0))
    assert (row["status"], row["note"], row["event_id"]) == ("ignored", "out of order", drafted)
    assert worker.store.get(drafted)["draft_state"] == "invoice_sent"


def test_an_update_dated_years_ahead_is_ignored_and_later_ones_still_apply(client, worker,
                                                                           drafted):
    row = applied(client, worker, "draft_orders/update",
                  draft_update("invoice_sent", "9999-12-31T23:59:59+00:00"))
    assert (row["status"], row["note"]) == ("ignored", "dated ahead of this server's clock")
    applied(client, worker, "draft_orders/update", draft_update("invoice_sent", T1))
    assert worker.store.get(drafted)["draft_state"] == "invoice_sent"


def test_an_update_of_a_draft_this_service_did_not_make_is_ignored(client, worker, drafted):
    row = applied(client, worker, "draft_orders/update", draft_update(id=DRAFT_ID + 1))
    assert (row["status"], row["note"]) == ("ignored", "not a draft order this service created")
    assert row["event_id"] is None


def test_a_delete_makes_the_draft_deleted(client, worker, drafted):
    row = applied(client, worker, "draft_orders/delete", {"id": DRAFT_ID})
    assert row["status"] == "applied"
    assert worker.store.get(drafted)["draft_state"] == "deleted"


def test_an_update_after_a_delete_is_ignored_as_final(client, worker, drafted):
    applied(client, worker, "draft_orders/delete", {"id": DRAFT_ID})
    row = applied(client, worker, "draft_orders/update", draft_update("open", T1))
    assert (row["status"], row["note"]) == ("ignored", "already final")


def test_an_order_created_from_the_draft_names_the_order(client, worker, drafted):
    row = applied(client, worker, "orders/create", order(drafted))
    assert row["status"] == "applied"
    event = worker.store.get(drafted)
    assert (event["draft_state"], event["order_name"], event["order_financial_status"]) == (
        "completed", "#1001", "paid")


def test_an_order_not_made_from_a_draft_is_ignored(client, store, drafted):
    post(client, "orders/create", order(drafted, source_name="web"))
    assert rows(store)[0]["status"] == "ignored"


def test_a_draft_s_signed_body_sent_again_as_an_order_is_ignored(client, worker, drafted):
    # The topic header is not signed: a draft's body (it carries the marker
    # too) sent again under orders/create must not read as the paid order.
    draft = draft_update(note_attributes=[{"name": EVENT_MARKER, "value": drafted}])
    row = applied(client, worker, "orders/create", draft)
    assert (row["status"], row["note"]) == ("ignored", "an order not made from a draft order")
    assert worker.store.get(drafted)["order_id"] is None


def test_a_draft_s_signed_body_sent_again_as_a_deletion_is_ignored(client, worker, drafted):
    row = applied(client, worker, "draft_orders/delete", draft_update())
    assert row["status"] == "ignored"
    assert worker.store.get(drafted)["draft_state"] == "open"


def test_a_webhook_kept_by_another_worker_first_is_skipped(client, store, worker, drafted):
    post(client, "draft_orders/delete", {"id": DRAFT_ID})
    webhook = rows(store)[0]["id"]
    assert store.apply_webhook(webhook, 2000.0, None, lambda event: ("ignored", "x", None))
    assert not store.apply_webhook(webhook, 2000.0, None, lambda event: ("applied", None, None))


def test_a_judge_changing_an_unsettleable_column_is_refused_and_changes_nothing(
        client, store, drafted):
    post(client, "draft_orders/delete", {"id": DRAFT_ID})
    webhook = rows(store)[0]["id"]
    with pytest.raises(ValueError, match="payload"):
        store.apply_webhook(webhook, 2000.0, ("id", drafted),
                            lambda event: ("applied", None, {"payload": "{}"}))
    assert rows(store)[0]["status"] == "pending"
    assert store.get(drafted)["payload"]["draft_order"]["line_items"]


def test_a_webhook_about_an_event_changed_meanwhile_stays_pending(client, store, drafted):
    post(client, "draft_orders/delete", {"id": DRAFT_ID})
    webhook = rows(store)[0]["id"]

    def judge_while_a_worker_settles(event):
        # As a worker's settle between the read and the write would (SQLite's
        # connection of this thread, inside the transaction under way).
        store._connection().execute("UPDATE events SET updated_at = updated_at + 1"
                                    " WHERE id = ?", (drafted,))
        return "applied", None, {"draft_state": "deleted"}

    assert not store.apply_webhook(webhook, 2000.0, ("id", drafted), judge_while_a_worker_settles)
    assert rows(store)[0]["status"] == "pending"


def test_an_update_during_a_re_read_waits_for_the_re_read_to_settle(client, store, worker,
                                                                    drafted):
    # The worker leases the event to re-read its draft and reads "open"; the
    # draft is paid meanwhile and Shopify's webhook says so before the settle.
    with store._connect(write=True) as conn:
        conn.execute("UPDATE events SET reconcile_at = 1100 WHERE id = ?", (drafted,))
    now = worker.clock()
    event = store.claim_reconcile("reader", now, 60)
    assert event["id"] == drafted
    applied(client, worker, "draft_orders/update",
            draft_update("completed", T1, order_id=450789469))
    read_before = Outcome("seen", seen=DraftSeen("open", 1767279600.0))  # T0
    assert store.settle(drafted, "reader", now, **reconcile_state(event, read_before, now, 30))
    worker.apply_webhooks()
    event = store.get(drafted)
    assert (event["draft_state"], event["order_id"]) == ("completed", 450789469)
    assert rows(store)[0]["status"] == "applied"


# --- Reading payloads (pure). ---

def test_an_update_with_an_order_reads_as_completed_with_that_order():
    report, _ = read_report("draft_orders/update",
                                             draft_update("completed", order_id=450789469))
    assert report.seen == DraftSeen("completed", 1767279600.0, 450789469)


def test_an_update_without_updated_at_is_unreadable():
    report, why = read_report("draft_orders/update",
                                               draft_update(updated_at=None))
    assert report is None and "updated_at" in why



def test_an_open_update_with_its_invoice_sent_at_reads_as_invoice_sent_as_a_re_read_does():
    report, _ = read_report(
        "draft_orders/update", {**draft_update("open"), "invoice_sent_at": "2027-01-01T15:00:00Z"})
    assert (report.seen.state, report.seen.invoice_sent) == ("invoice_sent", True)

# --- The merchant's event page. ---

def test_the_event_page_shows_the_lifecycle_and_each_webhook(make_app):
    app = make_app(SHOPIFY_WEBHOOK_SECRET=HOOK_SECRET, ADMIN_PASSWORD="pw")
    client, store = app.test_client(), app.extensions["store"]
    event_id = str(uuid.uuid4())
    add_event(store, event_id, created=1000.0)
    store.claim("w", 1001.0, 60)
    store.settle(event_id, "w", 1002.0, status="completed", draft_order_id=DRAFT_ID,
                 draft_state="open")
    post(client, "draft_orders/update", draft_update("invoice_sent", T1))
    post(client, "draft_orders/update", draft_update("open", T0))
    post(client, "orders/create", order(event_id))
    apply_pending(store, 1767290000.0, 30)  # after T1
    text = client.get(f"/admin/events/{event_id}", auth=("m", "pw")).get_data(as_text=True)
    assert "Shopify's webhooks (3)" in text
    assert "ignored: out of order" in text
    assert "#1001 · paid" in text
    assert "<dt>Draft state</dt><dd>completed" in text


DEV_DASHBOARD = {"SHOPIFY_ACCESS_TOKEN": "", "SHOPIFY_CLIENT_ID": "client-id-1",
                 "SHOPIFY_CLIENT_SECRET": "client-secret-new"}


def test_a_dev_dashboard_app_s_webhooks_are_checked_with_its_client_secret(make_app):
    client = make_app(**DEV_DASHBOARD).test_client()
    assert post(client, "draft_orders/update", {"id": 1}, secret="client-secret-new") \
        .status_code == 200
    assert post(client, "draft_orders/update", {"id": 1}, secret=HOOK_SECRET).status_code == 401


def test_during_a_rotation_webhooks_signed_with_either_secret_are_accepted(make_app):
    client = make_app(**DEV_DASHBOARD,
                      SHOPIFY_CLIENT_SECRET_PREVIOUS="client-secret-old").test_client()
    for secret in ("client-secret-old", "client-secret-new"):
        assert post(client, "draft_orders/update", {"id": 1}, secret=secret).status_code == 200
    assert post(client, "draft_orders/update", {"id": 1}, secret="another").status_code == 401


# --- Webhooks about no event of ours keep no body. ---

def test_a_webhook_ignored_on_receipt_keeps_no_body(client, store):
    post(client, "orders/create", {"id": 1, "source_name": "web",
                                   "customer": {"email": "shopper@example.com"}})
    assert [(row["status"], row["body"]) for row in rows(store)] == [("ignored", "")]


def test_a_webhook_found_about_no_event_keeps_no_body(client, store, worker):
    post(client, "draft_orders/update", draft_update(email="merchant.draft@example.com"))
    worker.apply_webhooks()
    assert [(row["note"], row["body"]) for row in rows(store)] == [(NOT_OURS, "")]


def test_a_webhook_about_an_event_of_ours_keeps_its_body(client, store, worker, drafted):
    post(client, "draft_orders/update", draft_update(updated_at=T1))
    worker.apply_webhooks()
    assert json.loads(rows(store)[0]["body"])["updated_at"] == T1
