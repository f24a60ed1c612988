"""The ceiling for this stack: a Flask endpoint that reads the body and answers
202, nothing else. Served by bench/common.py with the receiver's own web command
(`python -m app.serve bench.bare_app:app`)."""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/webhooks/cart")
def receive_cart():
    request.get_data()
    return jsonify(status="queued"), 202


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")
