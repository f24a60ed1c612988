"""The ceiling for this stack: a Flask endpoint that reads the body and answers
202, nothing else. Served by bench/common.py under the receiver's own gunicorn
settings (`gunicorn bench.bare_app:app`, gthread 2 x 4, access log on)."""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/webhooks/cart")
def receive_cart():
    request.get_data()
    return jsonify(status="queued"), 202


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")
