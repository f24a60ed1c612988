"""GET /guest-form: what the storefront script needs to draw a guest's form.

The fields the settings ask for (GUEST_FIELDS, GUEST_CUSTOM_FIELDS), the CAPTCHA
to show (its provider and public site key; never the secret), and a fresh form
token, which dates the page's form for the minimum fill time (intake/spam.py).
The script fetches it as a guest's page loads, under the legacy snippet and
behind an app proxy alike, so a change of settings needs no new snippet.
"""

import time
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from flask.typing import ResponseReturnValue

from . import captcha, contact, cors, spam

bp = Blueprint("guest_form", __name__)
cors.enable(bp)


def describe(settings: Mapping[str, Any], now: float) -> dict[str, object]:
    """The guest form's document, for `settings` at `now`."""
    provider = settings["CAPTCHA_PROVIDER"]
    widget = None
    if provider:
        chosen = captcha.PROVIDERS[provider]
        widget = {"provider": provider, "site_key": settings["CAPTCHA_SITE_KEY"],
                  "script_url": chosen.script_url, "widget_class": chosen.widget_class,
                  "response_field": chosen.response_field}
    return {"fields": contact.form_description(settings), "captcha": widget,
            "form_token": spam.issue_token(settings["SECRET_KEY"], now),
            "min_seconds": settings["GUEST_MIN_FILL_SECONDS"],
            "honeypot": spam.HONEYPOT}


def form_response(now: float) -> Response:
    """The guest form's document as an answer: never cached, each page its own token."""
    response = jsonify(describe(current_app.config, now))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/guest-form", methods=["GET", "OPTIONS"])
def guest_form() -> ResponseReturnValue:
    return form_response(time.time())
