"""A draft's life after its creation, through each API to the simulator: the
invoice sent once, and a draft paid in Shopify seen paid by the worker's re-read
when no webhook tells of it."""

import base64
import hashlib
import hmac
import json
import uuid

import pytest
from helpers import submit

from app.delivery.worker import Worker

TOKEN = "shpat_lifecycle_test"


@pytest.fixture(params=["rest", "graphql"])
def receiver(request, make_app, start_simulator, clock):
    """(client, worker, store, shop) of a receiver on each API, settings as given."""
    def build(**settings):
        shop = start_simulator(TOKEN)
        app = make_app(SHOPIFY_SHOP=shop.url, SHOPIFY_ACCESS_TOKEN=TOKEN,
                       SHOPIFY_API=request.param, SHOPIFY_TIMEOUT="5", **settings)
        core = app.extensions["worker"]
        worker = Worker(core.store, core.client, core.policy, core.lease_seconds, clock=clock,
                        follow_up=core.follow_up)
        return app.test_client(), worker, core.store, shop
    build.api = request.param
    return build


def test_the_invoice_goes_out_once_and_the_shopper_is_told(receiver):
    client, worker, store, shop = receiver(SEND_INVOICE="1", INVOICE_SUBJECT="Your quote")
    accepted = submit(client)
    while worker.run_once():
        pass
    [invoice] = shop.state.snapshot("invoices")
    assert (invoice["subject"], invoice["api"]) == ("Your quote", receiver.api)
    draft = client.get(accepted["status_url"]).get_json()["draft_order"]
    assert (draft["state"], draft["invoice"]) == ("invoice_sent", "sent")


def test_a_draft_paid_in_shopify_is_seen_paid_by_the_re_read(receiver, clock):
    client, worker, store, shop = receiver()
    accepted = submit(client)
    worker.run_once()
    shop.state.complete(store.get(accepted["id"])["draft_order_id"])
    clock.advance(60)
    assert worker.run_once()
    document = client.get(accepted["status_url"]).get_json()
    assert document["draft_order"]["state"] == "completed"
    assert document["order"] == {"name": "#1001", "paid": True}


# --- A late draft_orders/update never undoes the worker's own invoice (issue 17). ---

HOOK_SECRET = "shpss_lifecycle_hook"


def _deliver_webhook(client, topic, payload):
    """POST a draft_orders webhook as Shopify signs it (app/shopify/webhooks.py's rule)."""
    raw = json.dumps(payload).encode()
    digest = hmac.new(HOOK_SECRET.encode(), raw, hashlib.sha256).digest()
    signature = base64.b64encode(digest).decode()
    return client.post("/webhooks/shopify", data=raw, content_type="application/json",
                       headers={"X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": signature,
                                "X-Shopify-Webhook-Id": str(uuid.uuid4())})


def test_an_update_dated_at_the_drafts_creation_does_not_undo_the_workers_invoice(receiver):
    client, worker, store, shop = receiver(SEND_INVOICE="1", SHOPIFY_WEBHOOK_SECRET=HOOK_SECRET)
    accepted = submit(client)
    while worker.run_once():  # webhooks delayed: the worker sends the invoice itself
        pass
    draft = shop.state.find(store.get(accepted["id"])["draft_order_id"])
    late = {"id": draft["id"], "status": "open", "updated_at": draft["created_at"],
            "order_id": None, "name": draft["name"]}
    assert _deliver_webhook(client, "draft_orders/update", late).status_code == 200
    worker.apply_webhooks()
    document = client.get(accepted["status_url"]).get_json()
    assert (document["draft_order"]["state"], document["draft_order"]["invoice"]) == (
        "invoice_sent", "sent")
