"""Shopify's compliance webhooks at POST /webhooks/shopify: refused unsigned,
kept first and answered at once, then acted on by the worker once; the
data request's export in /admin/privacy, and the merchant told.
(https://shopify.dev/docs/apps/build/privacy-law-compliance)"""

import base64
import json
import threading
import time
import uuid

import pytest
from helpers import ANSWER, submit
from test_pipeline import CREATE, DRAFT
from test_shopify_webhooks import HOOK_SECRET, SHOP_DOMAIN, post, rows

from app.delivery.privacy import act
from app.shopify.compliance import read_request
from app.store import stored_payload

EMAIL = "ada.lovelace@example.com"
CUSTOMER = 207119551
ADMIN_PASSWORD = "admin-password-long-enough"


@pytest.fixture
def app(make_app):
    return make_app(SHOPIFY_WEBHOOK_SECRET=HOOK_SECRET, ADMIN_PASSWORD=ADMIN_PASSWORD,
                    NOTIFY_WEBHOOK_URL="https://hooks.example.com/merchant",
                    PUBLIC_URL="https://receiver.example.com")


def data_request(customer_id=CUSTOMER, email=EMAIL):
    return {"shop_id": 954889, "shop_domain": SHOP_DOMAIN, "orders_requested": [299938],
            "customer": {"id": customer_id, "email": email, "phone": "555-625-1199"},
            "data_request": {"id": 9999}}


def customer_redact(customer_id=CUSTOMER, email=EMAIL):
    return {"shop_id": 954889, "shop_domain": SHOP_DOMAIN, "orders_to_redact": [299938],
            "customer": {"id": customer_id, "email": email, "phone": "555-625-1199"}}


SHOP_REDACT = {"shop_id": 954889, "shop_domain": SHOP_DOMAIN}
REQUESTS = {"customers/data_request": data_request(), "customers/redact": customer_redact(),
            "shop/redact": SHOP_REDACT}


def customer_event(store, event_id, now, email=EMAIL, customer_id=None):
    """A settled event whose draft order carries `email` (a guest's, or a customer's)."""
    payload = {"draft_order": {"line_items": [{"variant_id": 1, "quantity": 1}],
                               "email": email, "note": "Ada Lovelace, 12 St James's Square"}}
    store.add(event_id, json.dumps({"cart": {"note": "Ada"}}), stored_payload(payload),
              customer_id, now)
    assert store.claim("w", now, 60)["id"] == event_id
    assert store.settle(event_id, "w", now, ANSWER, status="completed", draft_order_id=5)


def apply(app):
    worker = app.extensions["worker"]
    return worker.apply_webhooks()


def basic(password=ADMIN_PASSWORD):
    token = base64.b64encode(f"admin:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.mark.parametrize("topic", sorted(REQUESTS))
def test_a_forged_compliance_webhook_is_refused_401_and_nothing_kept(client, store, topic):
    answer = post(client, topic, REQUESTS[topic], secret="not-the-secret")
    assert answer.status_code == 401
    assert rows(store) == []


@pytest.mark.parametrize("topic", sorted(REQUESTS))
def test_a_signed_compliance_webhook_is_kept_pending_and_answered_200(client, store, topic):
    answer = post(client, topic, REQUESTS[topic])
    assert answer.status_code == 200
    assert [(row["topic"], row["status"]) for row in rows(store)] == [(topic, "pending")]


def test_a_customer_request_naming_no_customer_is_kept_ignored(client, store):
    post(client, "customers/redact", {"shop_domain": SHOP_DOMAIN, "customer": {}})
    assert [(row["status"], row["note"]) for row in rows(store)] == [
        ("ignored", "the body's customer has no readable id or email")]


def test_a_data_request_too_long_to_keep_keeps_what_names_the_customer(client, app, store):
    long = {**data_request(), "orders_requested": list(range(1, 20000))}
    post(client, "customers/data_request", long)
    apply(app)
    [export] = store.exports(10)
    assert (export["customer_id"], export["email"], export["data_request_id"]) == (
        CUSTOMER, EMAIL, "9999")


@pytest.mark.parametrize("email", ["x" * 500_000, {"a": ["x" * 500_000]}])
def test_a_long_body_keeps_no_long_customer_field(client, app, store, email):
    assert post(client, "customers/redact", customer_redact(email=email)).status_code == 200
    [row] = rows(store)
    assert row["status"] == "pending" and len(row["body"]) <= 64 * 1024
    apply(app)
    assert rows(store)[0]["status"] == "applied"


def test_a_request_reads_its_customers_id_email_and_data_request_id():
    request, why = read_request("customers/data_request", data_request())
    assert (request.customer_id, request.email, request.data_request_id, why) == (
        CUSTOMER, EMAIL, "9999", None)


def test_a_data_request_makes_one_export_listing_the_customers_events(client, app, store):
    customer_event(store, "e1", time.time(), email="other@example.com", customer_id=CUSTOMER)
    customer_event(store, "e2", time.time())
    customer_event(store, "e3", time.time(), email="someone.else@example.com")
    post(client, "customers/data_request", data_request())
    assert apply(app) == 1
    [export] = store.exports(10)
    body = json.loads(store.export_body(export["id"]))
    assert [row["id"] for row in body["tables"]["events"]] == ["e1", "e2"]
    assert (export["data_request_id"], export["customer_id"]) == ("9999", CUSTOMER)


def test_a_data_request_tells_the_merchant_where_the_export_is(client, app, store):
    post(client, "customers/data_request", data_request())
    apply(app)
    [export] = store.exports(10)
    with store._connect() as conn:
        [note] = [dict(row) for row in conn.execute("SELECT * FROM notifications")]
    text = json.loads(note["body"])["text"]
    assert (note["kind"], EMAIL in note["body"]) == ("data_request", False)
    assert f"https://receiver.example.com/admin/privacy/{export['id']}" in text


def test_the_same_data_request_delivered_twice_makes_one_export(client, app, store):
    webhook_id = str(uuid.uuid4())
    post(client, "customers/data_request", data_request(), webhook_id=webhook_id)
    apply(app)
    post(client, "customers/data_request", data_request(), webhook_id=webhook_id)
    apply(app)
    assert len(store.exports(10)) == 1


def test_a_data_request_applied_by_two_workers_makes_one_export(client, app, store):
    post(client, "customers/data_request", data_request())
    [row] = store.pending_webhooks(10)
    assert act(store, row, time.time(), {}) and act(store, row, time.time(), {})
    assert len(store.exports(10)) == 1


def test_an_acted_on_compliance_webhook_keeps_no_body(client, app, store):
    post(client, "customers/data_request", data_request())
    apply(app)
    assert [(row["status"], row["body"]) for row in rows(store)] == [("applied", "")]


def test_a_customer_redact_erases_the_customers_events_at_the_next_pass(client, app, store):
    customer_event(store, "mine", time.time())
    customer_event(store, "theirs", time.time(), email="someone.else@example.com")
    post(client, "customers/redact", customer_redact())
    apply(app)
    assert [event["id"] for event in store.list_events(10)] == ["theirs"]
    assert store.answers("mine") == []


def test_a_redact_naming_a_kelvin_sign_address_leaves_the_k_address_alone(client, app, store):
    # str.lower() makes the Kelvin sign (U+212A) a k: no match for k@example.com.
    customer_event(store, "theirs", time.time(), email="k@example.com")
    post(client, "customers/data_request", data_request(customer_id=None, email="k@example.com"))
    apply(app)
    post(client, "customers/redact", customer_redact(customer_id=None, email="\u212a@example.com"))
    apply(app)
    assert [event["id"] for event in store.list_events(10)] == ["theirs"]
    assert [export["email"] for export in store.exports(10)] == ["k@example.com"]


@pytest.mark.parametrize("other", ["x!ada.lovelace@example.com", "x#ada.lovelace@example.com",
                                   "x/ada.lovelace@example.com", "x~ada.lovelace@example.com"])
def test_an_address_ending_in_the_customers_is_neither_exported_nor_erased(client, app, store,
                                                                           other):
    customer_event(store, "theirs", time.time(), email=other)
    post(client, "customers/data_request", data_request(customer_id=None))
    apply(app)
    [export] = store.exports(10)
    assert json.loads(store.export_body(export["id"]))["tables"]["events"] == []
    post(client, "customers/redact", customer_redact(customer_id=None))
    apply(app)
    assert [event["id"] for event in store.list_events(10)] == ["theirs"]


def test_a_redact_erases_another_customers_export_holding_the_customers_event(client, app,
                                                                             store):
    # An event of customer 111 whose draft names Ada's email: in 111's export too.
    customer_event(store, "both", time.time(), customer_id=111)
    post(client, "customers/data_request", data_request(customer_id=111, email="b@example.com"))
    apply(app)
    [export] = store.exports(10)
    assert EMAIL in store.export_body(export["id"])
    post(client, "customers/redact", customer_redact(customer_id=None))
    apply(app)
    assert store.exports(10) == []


def test_a_customer_redact_erases_an_earlier_data_requests_export(client, app, store):
    post(client, "customers/data_request", data_request())
    post(client, "customers/redact", customer_redact())
    apply(app)
    assert store.exports(10) == []


def test_a_shop_redact_erases_every_event_and_export(client, app, store):
    customer_event(store, "e1", time.time())
    customer_event(store, "e2", time.time(), email="someone.else@example.com")
    post(client, "customers/data_request", data_request())
    apply(app)
    post(client, "shop/redact", SHOP_REDACT)
    apply(app)
    assert (store.list_events(10), store.exports(10)) == ([], [])
    assert [row["topic"] for row in rows(store)] == ["shop/redact"]


def test_the_admin_lists_the_exports_and_downloads_one(client, app, store):
    post(client, "customers/data_request", data_request())
    apply(app)
    [export] = store.exports(10)
    listed = client.get("/admin/privacy", headers=basic())
    assert listed.status_code == 200 and EMAIL in listed.text
    download = client.get(f"/admin/privacy/{export['id']}", headers=basic())
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.json["customer"] == {"id": CUSTOMER, "email": EMAIL}


def test_the_exports_need_the_admin_password(client, app, store):
    assert client.get("/admin/privacy", headers=basic("wrong-password")).status_code == 401


def test_an_unknown_export_is_404(client, app):
    assert client.get("/admin/privacy/12345", headers=basic()).status_code == 404


def test_an_export_id_beyond_any_column_is_404_not_500(client, app):
    answer = client.get(f"/admin/privacy/{2**63}", headers=basic())
    assert answer.status_code == 404


def test_redaction_racing_a_delivery_waits_for_it_then_erases_the_event(client, worker, shopify,
                                                                        store):
    in_call, release = threading.Event(), threading.Event()

    def create(request):
        in_call.set()
        release.wait(10)
        return 201, {}, json.dumps(DRAFT)

    shopify.add_callback("POST", CREATE, callback=create)
    event_id = submit(client)["id"]  # the signed customer's cart (CUSTOMER)
    delivery = threading.Thread(target=worker.run_once)
    delivery.start()
    assert in_call.wait(10)
    post(client, "customers/redact", customer_redact())
    assert worker.apply_webhooks() == 0  # the worker holds the event: the erasure waits
    assert store.get(event_id)["status"] == "processing"
    release.set()
    delivery.join(10)
    assert store.get(event_id)["status"] == "completed"
    assert worker.apply_webhooks() == 1
    assert store.get(event_id) is None and store.answers(event_id) == []
