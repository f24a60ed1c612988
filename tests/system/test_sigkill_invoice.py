"""The invoice is sent exactly once even when the worker sending it is killed
with SIGKILL while the send is in flight: the next worker re-reads the draft
and finds the invoice sent, instead of sending it again.

Real `flask --app app worker` processes, as in test_sigkill.py, against a
small stand-in for the three Admin API calls involved (create, send_invoice,
read the draft), which holds back the send's answer alone, once it has sent
it: the simulator's delay holds back every answer, the draft's creation too,
and the invoice follows the creation too quickly to change it in between.
"""

import threading
import time

import pytest
from flask import Flask, jsonify, request
from helpers import cart_body, settings
from servers import serve
from test_sigkill import event_row, sigkill, start_worker, wait_until  # noqa: F401

pytestmark = pytest.mark.slow  # worker processes killed: seconds a test

TOKEN = "shpat_sigkill_invoice"
HOLD_SECONDS = 5.0  # the send's answer, held back after the invoice went out
DRAFT = {"id": 7, "name": "#D7", "invoice_url": "https://shop.example/1/invoices/a"}


class InvoiceShop:
    """Creates draft 7, sends its invoice (recording each send) and tells when
    it last sent one, as Shopify's draft order does with invoice_sent_at."""

    def __init__(self):
        self.invoices = []
        self.hold = 0.0
        self._lock = threading.Lock()

    def app(self):
        app = Flask(__name__)
        prefix = "/admin/api/<version>/draft_orders"

        @app.post(f"{prefix}.json")
        def create(version):
            return jsonify(draft_order=DRAFT), 201

        @app.post(f"{prefix}/7/send_invoice.json")
        def send_invoice(version):
            with self._lock:
                self.invoices.append(request.get_json())
            time.sleep(self.hold)
            return jsonify(draft_order_invoice=request.get_json()["draft_order_invoice"]), 201

        @app.get(f"{prefix}/7.json")
        def read(version):
            sent_at = "2026-12-01T18:41:57Z" if self.invoices else None
            return jsonify(draft_order={**DRAFT, "status": "invoice_sent" if sent_at else "open",
                                        "updated_at": "2026-12-01T18:41:57Z",
                                        "invoice_sent_at": sent_at, "order_id": None})

        return app


@pytest.fixture
def shop():
    stand_in = InvoiceShop()
    with serve(stand_in.app()) as server:
        stand_in.url = server.url
        yield stand_in


@pytest.fixture
def environ(tmp_path, shop):
    return settings(tmp_path, SHOPIFY_SHOP=shop.url, SHOPIFY_ACCESS_TOKEN=TOKEN,
                    SHOPIFY_TIMEOUT="0.5", LEASE_SECONDS="2", SEND_INVOICE="1")


def test_killed_while_the_invoice_is_in_flight_the_next_worker_does_not_send_it_again(
        make_app, environ, shop, start_worker):  # noqa: F811 (test_sigkill's fixture)
    db_path = environ["DATABASE_URL"].removeprefix("sqlite:///")
    event_id = make_app(**environ).test_client().post(
        "/webhooks/cart", json=cart_body()).get_json()["id"]
    shop.hold = HOLD_SECONDS
    first = start_worker()
    wait_until(lambda: shop.invoices, "the invoice to be sent", first)
    sigkill(first)
    at_kill = event_row(db_path, event_id)
    assert (at_kill["invoice_maybe_sent"], at_kill["invoice_status"]) == (1, "pending")
    shop.hold = 0.0

    second = start_worker()
    event = wait_until(lambda: (row := event_row(db_path, event_id))["status"] == "completed"
                       and row, "the event to complete", second)

    assert event["invoice_status"] == "sent"
    assert len(shop.invoices) == 1
