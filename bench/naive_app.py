"""Bench 1's second peer: the simplest receiver that is still durable.

It checks the customer's signature, maps the lines, and does one SQLite INSERT
and commit per request (WAL, synchronous=FULL), then answers 202. It skips what
the real receiver does besides: the cart's validation rules, the resubmission
check, the submission limits, the status token. Served by bench/common.py with
the same server settings as the receiver, so the two differ only in the work a
request does. DATABASE_URL names its file, as for the receiver.
"""

import hmac
import json
import os
import sqlite3
import threading
import time
import uuid

from flask import Flask, jsonify, request

from app.intake.signature import sign

app = Flask(__name__)
_PATH = os.environ["DATABASE_URL"].removeprefix("sqlite:///")
_SECRET = os.environ["SHARED_SECRET"]
_local = threading.local()


def _connection():
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = sqlite3.connect(_PATH, timeout=30, isolation_level=None)
        conn.execute("PRAGMA synchronous=FULL")
    return conn


with sqlite3.connect(_PATH, timeout=30) as _setup:
    _setup.execute("PRAGMA journal_mode=WAL")
    _setup.execute("CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, customer_id TEXT,"
                   " payload TEXT NOT NULL, created_at REAL NOT NULL)")


@app.post("/webhooks/cart")
def receive_cart():
    body = json.loads(request.get_data())
    customer_id = body.get("customerId")
    if customer_id is not None and not hmac.compare_digest(
            sign(customer_id, _SECRET), str(body.get("customerIdSignature"))):
        return jsonify(error={"code": "invalid_signature"}), 403
    lines = [{"variant_id": int(item["variant_id"]), "quantity": item["quantity"],
              "properties": [{"name": k, "value": v}
                             for k, v in (item.get("properties") or {}).items()]}
             for item in body["cart"]["items"]]
    event_id = str(uuid.uuid4())
    conn = _connection()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO events VALUES (?, ?, ?, ?)",
                 (event_id, customer_id, json.dumps({"draft_order": {"line_items": lines}}),
                  time.time()))
    conn.execute("COMMIT")
    return jsonify(id=event_id, status="queued"), 202


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")
