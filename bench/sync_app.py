"""The naive design, as a baseline: call Shopify inside the shopper's request.

It checks the signature and maps the cart with the app's own code (app.intake.signature,
app.intake.cart), then POSTs the draft order with requests and, on 202, sleeps
Retry-After and polls Location until Shopify answers 200, all before answering
the shopper. No event store, no worker: the request thread waits for Shopify.
Configured like the receiver: SHOPIFY_SHOP (a base URL), SHOPIFY_ACCESS_TOKEN,
SHARED_SECRET, SHOPIFY_API_VERSION.
"""

import json
import os
import threading
import time
from urllib.parse import urljoin

import requests
from flask import Flask, jsonify, request

from app.intake import cart, signature
from app.intake.errors import ApiError

SHOP = os.environ["SHOPIFY_SHOP"].rstrip("/")
TOKEN = os.environ["SHOPIFY_ACCESS_TOKEN"]
SECRET = os.environ["SHARED_SECRET"]
VERSION = os.environ.get("SHOPIFY_API_VERSION", "2025-10")
POLL_LIMIT_SECONDS = 120

app = Flask(__name__)
_local = threading.local()


def _session():
    """One keep-alive session per request thread, as a careful naive app would."""
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
        _local.session.headers.update({"X-Shopify-Access-Token": TOKEN,
                                       "Accept": "application/json"})
    return _local.session


@app.post("/webhooks/cart")
def receive_cart():
    try:
        body = json.loads(request.get_data())
        customer_id = signature.verified_customer_id(
            body.get("customerId"), body.get("customerIdSignature"), SECRET)
        payload = cart.draft_order_payload(body["cart"], customer_id)
    except ApiError as error:
        return jsonify(error={"code": error.code, "detail": error.detail}), error.status
    except (ValueError, KeyError, AttributeError):
        return jsonify(error={"code": "invalid_body"}), 400

    session = _session()
    answer = session.post(f"{SHOP}/admin/api/{VERSION}/draft_orders.json", json=payload,
                          timeout=30, allow_redirects=False)
    deadline = time.monotonic() + POLL_LIMIT_SECONDS
    while answer.status_code == 202 and time.monotonic() < deadline:
        time.sleep(float(answer.headers.get("Retry-After", "1")))
        answer = session.get(urljoin(SHOP + "/", answer.headers["Location"]), timeout=30,
                             allow_redirects=False)
    if answer.status_code in (200, 201):
        draft = answer.json()["draft_order"]
        return jsonify(status="completed",
                       draft_order={"id": draft["id"], "name": draft["name"]}), 201
    return jsonify(error={"code": "shopify_error", "status": answer.status_code}), 502


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")
