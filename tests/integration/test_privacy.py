"""A customer's data found, exported and erased on each backend: every table,
and no byte of it left in the database's files once erased (SQLite after its
WAL checkpoint, PostgreSQL after VACUUM FULL and a checkpoint); the erasure
racing a worker that holds one of the customer's events."""

import json
import os
import time
from pathlib import Path

import psycopg
import pytest
from helpers import ANSWER, migrated_store

from app.delivery.privacy import act
from app.intake.shopper_texts import SHOPPER_ERROR_DETAILS
from app.intake.status import status_document
from app.store import stored_payload
from app.store.base import Subject
from app.store.privacy import REDACTED

pytest_plugins = ["postgres"]

CUSTOMER = 207119551
EMAIL = "ada.lovelace@example.com"
NAME = "Augusta Ada King-Noel"  # in her draft's note, her request, Shopify's answer
OTHER_NAME = "Grace Brewster Hopper"
ADA = Subject(CUSTOMER, EMAIL)


@pytest.fixture
def store(database_url):
    return migrated_store(database_url)


def add(store, event_id, now, email, name, customer_id=None, settle=True):
    """An event of `email` and `name`: its draft, its request, and (`settle`)
    Shopify's answer naming them and the merchant's notification."""
    payload = {"draft_order": {"line_items": [{"variant_id": 1, "quantity": 1}],
                               "email": email, "note": f"{name}, 12 St James's Square",
                               "shipping_address": {"name": name, "phone": "+44 20 7946 0000"}}}
    store.add(event_id, json.dumps({"cart": {"note": name}}), stored_payload(payload),
              customer_id, now, client_ip="203.0.113.7")
    if not settle:
        return
    assert store.claim("w", now, 60)["id"] == event_id
    answer = {**ANSWER, "body": json.dumps({"draft_order": {"email": email, "note": name}})}
    notification = {"kind": "draft_created", "channel": "webhook", "body": json.dumps(
        {"text": "Draft order created", "customer_id": customer_id, "event_id": event_id})}
    assert store.settle(event_id, "w", now, answer, [notification], status="completed",
                        draft_order_id=abs(hash(event_id)) % 10**9 + 1)


def add_webhook(store, topic, body, now, about=None):
    """A Shopify webhook with `body`; applied to the event `about`, or left pending."""
    webhook_id = f"{topic}-{time.monotonic_ns()}"
    store.add_webhook(webhook_id, None, topic, "test-shop.myshopify.com", now,
                      json.dumps(body), "pending")
    [row] = [row for row in store.pending_webhooks(100) if json.loads(row["body"]) == body]
    if about is not None:
        assert store.apply_webhook(row["id"], now, ("id", about),
                                   lambda event: ("applied", None, None))
    return row


@pytest.fixture
def seeded(store):
    """Ada's events (a customer's, settled; a guest's under her email in
    capitals, still queued), a webhook about each kind, and Grace's event."""
    now = time.time()
    add(store, "ada-customer", now, EMAIL, NAME, customer_id=CUSTOMER)
    add(store, "grace", now, "grace@example.com", OTHER_NAME, customer_id=42)
    add(store, "ada-guest", now, EMAIL.upper(), NAME, settle=False)
    add_webhook(store, "draft_orders/update", {"id": 1, "note": NAME}, now, about="ada-customer")
    add_webhook(store, "draft_orders/update", {"id": 2, "note": OTHER_NAME}, now, about="grace")
    add_webhook(store, "customers/data_request",
                {"customer": {"id": CUSTOMER, "email": EMAIL}}, now)
    store.export_request(ADA, now, "command", lambda found: json.dumps({"note": NAME}),
                         lambda export_id: ())
    return now


def ids(found, table):
    return sorted(row["id"] for row in found[table])


def texts(store):
    """Every stored text of the personal tables, lower-cased, as one string."""
    found = []
    with store._connect() as conn:
        for table in ("events", "answers", "shopify_webhooks", "notifications",
                      "privacy_exports"):
            for row in conn.execute(f"SELECT * FROM {table}"):
                found += [str(value).lower() for value in dict(row).values()]
    return "\n".join(found)


def test_an_export_lists_every_row_about_the_customer(store, seeded):
    found = store.personal_data(ADA)
    assert ids(found, "events") == ["ada-customer", "ada-guest"]
    assert [row["event_id"] for row in found["answers"]] == ["ada-customer"]
    assert [row["event_id"] for row in found["notifications"]] == ["ada-customer"]
    assert [row["topic"] for row in found["shopify_webhooks"]] == [
        "draft_orders/update", "customers/data_request"]
    assert len(found["privacy_exports"]) == 1


def test_found_by_email_alone_finds_the_customers_and_the_guests_events(store, seeded):
    found = store.personal_data(Subject(None, "Ada.Lovelace@EXAMPLE.com"))
    assert ids(found, "events") == ["ada-customer", "ada-guest"]


def test_an_address_with_a_capital_beyond_ascii_is_found_as_it_was_stored(store):
    """SQLite's LOWER() folds ASCII only, PostgreSQL's every letter: the search
    lowers the address the way the database lowers the columns."""
    address = "ÉLODIE.Durand@example.com"
    add(store, "elodie", time.time(), address, "Élodie Durand")
    found = store.personal_data(Subject(None, address))
    assert ids(found, "events") == ["elodie"]
    assert [row["event_id"] for row in found["answers"]] == ["elodie"]
    store.export_request(Subject(None, address), time.time(), "command",
                         lambda found: "{}", lambda export_id: ())
    assert len(store.personal_data(Subject(None, address))["privacy_exports"]) == 1


def test_an_email_is_found_whole_not_inside_a_longer_address(store, seeded):
    assert store.personal_data(Subject(None, "lovelace@example.com"))["events"] == []


def test_redact_leaves_no_row_naming_the_customer(store, seeded):
    erased = store.redact(ADA, time.time())
    assert erased.counts["events"] == 2
    stored = texts(store)
    assert NAME.lower() not in stored and EMAIL not in stored
    assert OTHER_NAME.lower() in stored


def test_redact_fails_an_active_event_with_the_reason_redacted(store, seeded):
    store.redact(ADA, time.time())
    event = store.get("ada-guest")
    assert (event["status"], event["error_code"], event["customer_id"], event["client_ip"]) == (
        "failed", REDACTED, None, None)


def test_an_erased_active_events_status_tells_the_shopper_why(store, seeded):
    store.redact(ADA, time.time())
    error = status_document(store.get("ada-guest"))["error"]
    assert (error["code"], error["detail"]) == (REDACTED, SHOPPER_ERROR_DETAILS[REDACTED])


def test_redact_keeps_other_customers_rows(store, seeded):
    store.redact(ADA, time.time())
    assert sorted(event["id"] for event in store.list_events(10)) == ["ada-guest", "grace"]
    assert len(store.answers("grace")) == 1


def _database_bytes(store):
    """The database's files as they are on disk, concatenated."""
    if hasattr(store, "path"):
        paths = [Path(store.path), Path(f"{store.path}-wal")]
    else:
        with psycopg.connect(store.url, autocommit=True) as conn:
            conn.execute("CHECKPOINT")
            data = conn.execute("SHOW data_directory").fetchone()[0]
            oid = conn.execute("SELECT oid FROM pg_database"
                               " WHERE datname = current_database()").fetchone()[0]
        paths = [Path(root, name) for root, _, names in os.walk(Path(data, "base", str(oid)))
                 for name in names]
    return b"".join(path.read_bytes() for path in paths if path.exists())


def test_redact_leaves_no_byte_of_the_customer_in_the_database_files(store, seeded):
    assert NAME.encode() in _database_bytes(store)  # the search finds what is there
    store.redact(ADA, time.time())
    store.scrub()
    on_disk = _database_bytes(store)
    assert NAME.encode() not in on_disk and EMAIL.encode() not in on_disk
    assert OTHER_NAME.encode() in on_disk


def test_a_shop_redact_leaves_no_event_nor_byte_of_any_customer(store, seeded):
    store.redact_shop(time.time())
    store.scrub()
    assert store.list_events(10) == []
    on_disk = _database_bytes(store)
    assert NAME.encode() not in on_disk and OTHER_NAME.encode() not in on_disk


# --- Racing a worker. ---

def test_redaction_waits_while_a_worker_holds_the_customers_event(store):
    now = time.time()
    add(store, "ada", now, EMAIL, NAME, customer_id=CUSTOMER, settle=False)
    assert store.claim("worker", now, 60)["id"] == "ada"
    assert store.redact(ADA, now + 1) is None
    assert store.get("ada")["payload"]["draft_order"]["email"] == EMAIL


def test_redaction_erases_the_event_once_the_worker_has_settled_it(store):
    now = time.time()
    add(store, "ada", now, EMAIL, NAME, customer_id=CUSTOMER, settle=False)
    store.claim("worker", now, 60)
    assert store.redact(ADA, now + 1) is None
    assert store.settle("ada", "worker", now + 2, ANSWER, status="completed",
                        draft_order_id=7)
    assert store.redact(ADA, now + 3).counts["events"] == 1
    assert store.get("ada") is None and store.answers("ada") == []


def test_a_worker_whose_lease_ran_out_cannot_settle_an_erased_event(store):
    now = time.time()
    add(store, "ada", now, EMAIL, NAME, customer_id=CUSTOMER, settle=False)
    store.claim("worker", now, 60)
    store.redact(ADA, now + 61)  # the lease has run out: the event is failed, redacted
    assert not store.settle("ada", "worker", now + 62, ANSWER, status="completed",
                            draft_order_id=7)
    assert (store.get("ada")["status"], store.get("ada")["error_code"]) == ("failed", REDACTED)


def test_a_customers_redact_webhook_stays_pending_until_the_delivery_ends(store):
    now = time.time()
    add(store, "ada", now, EMAIL, NAME, customer_id=CUSTOMER, settle=False)
    store.claim("worker", now, 60)
    row = add_webhook(store, "customers/redact", {"customer": {"id": CUSTOMER}}, now)
    assert not act(store, row, now + 1, {})
    assert [pending["id"] for pending in store.pending_webhooks(10)] == [row["id"]]
    store.settle("ada", "worker", now + 2, ANSWER, status="completed", draft_order_id=7)
    assert act(store, row, now + 3, {})
    assert store.pending_webhooks(10) == [] and store.get("ada") is None


def test_a_queued_event_is_not_claimed_once_erased(store):
    now = time.time()
    add(store, "ada", now, EMAIL, NAME, customer_id=CUSTOMER, settle=False)
    store.redact(ADA, now)
    assert store.claim("worker", now + 1, 60) is None
