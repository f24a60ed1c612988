"""Liveness for the PaaS router: the event store answers, or we are not healthy.

It never calls Shopify, so a Shopify outage does not get our dynos restarted.
"""

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    try:
        current_app.extensions["store"].ping()
    except Exception:
        current_app.logger.exception("health check: event store unavailable")
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
