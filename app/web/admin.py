"""The merchant's event log at /admin, like Mechanic's event and run log.

It lets the merchant see what each cart became and what Shopify answered,
and re-queue a failed event. It is off unless ADMIN_PASSWORD is set and sits
behind HTTP basic auth, with a lockout per address after repeated wrong
passwords (app/web/lockout.py). Browsers attach basic-auth credentials to any request,
cross-site ones included, so the one write (retry) also demands a signed,
event-bound, expiring form token and a same-origin request.
"""

import hmac
import json
import math
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from itsdangerous import BadData, URLSafeTimedSerializer

from ..shopify import draft_order_admin_url, is_web_url
from ..states import EventStatus
from ..store.base import SqlStore
from . import page_headers
from .lockout import LoginThrottle

bp = Blueprint("admin", __name__, url_prefix="/admin")

PAGE_SIZE = 50
SHOWN_CHARS = 64 * 1024  # of any one stored body on a page
PRETTY_DEPTH = 16        # JSON nested deeper is shown as stored, not re-indented
ANSWERS_SHOWN = 50       # an event's latest answers from Shopify on its page
WEBHOOKS_SHOWN = 50      # an event's latest webhooks from Shopify on its page
NOTIFICATIONS_SHOWN = 20  # an event's latest notifications to the merchant on its page
RETRY_TOKEN_MAX_AGE = 3600  # seconds a detail page's retry button stays usable
REALM = 'Basic realm="Draft orders"'
page_headers.protect(bp)


@bp.record_once
def _create_throttle(state: BlueprintSetupState) -> None:
    state.app.extensions["admin_logins"] = LoginThrottle(state.app.extensions["store"])


@bp.before_request
def require_password() -> ResponseReturnValue | None:
    """404 while no password is set, so a default deployment exposes no carts.
    A request without credentials (a browser before its prompt) is no guess and
    is not counted; a locked-out address gets 429 even with the right password."""
    password = current_app.config.get("ADMIN_PASSWORD")
    if not password:
        abort(404)
    auth = request.authorization
    given = auth.password if auth is not None and auth.type == "basic" else None
    if given is None:
        return _challenge()
    logins, address = current_app.extensions["admin_logins"], request.remote_addr
    wait = logins.attempt(address)
    if wait:
        return Response(f"Too many wrong passwords from your address; try again in {wait} "
                        f"seconds.\n", 429, {"Retry-After": str(wait)}, mimetype="text/plain")
    if not hmac.compare_digest(given.encode(), password.encode()):
        if logins.locked(address):
            current_app.logger.warning("admin: %d wrong passwords from %s; locked out for %d s",
                                       logins.limit, address, logins.lockout)
        return _challenge()
    logins.succeeded(address)
    return None


def _challenge() -> Response:
    return Response("Enter the admin password (any user name) to see the event log.\n",
                    401, {"WWW-Authenticate": REALM}, mimetype="text/plain")


@bp.context_processor
def helpers() -> dict[str, Callable[..., object]]:
    return {"utc": _utc, "draft_url": _draft_url, "is_web_url": is_web_url}


def _utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _draft_url(event: Mapping[str, Any]) -> str:  # a store row, as the database gave it
    url: str = draft_order_admin_url(current_app.config["SHOPIFY_BASE_URL"],
                                     event["draft_order_id"])
    return url


def _pretty(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _nested_deeper_than(value: object, depth: int) -> bool:
    """Whether `value` nests lists or objects more than `depth` deep (no recursion:
    a stored body may nest a thousand deep)."""
    level = [value]
    for _ in range(depth + 1):
        level = [child for item in level if isinstance(item, (dict, list))
                 for child in (item.values() if isinstance(item, dict) else item)]
        if not level:
            return False
    return True


def _pretty_body(body: str, length: int | None = None) -> str:
    """A stored body (the shopper's cart, Shopify's answer; `length` characters in
    full when only its start was read) as a page shows it: re-indented when it is
    small, shallow JSON, else as stored; cut at SHOWN_CHARS.

    Indenting multiplies a body's size by its depth (a 1 MiB body nested 950
    deep became a 979 MB page), so no page ever shows more than a few of these
    bounded pieces.
    """
    length = len(body) if length is None else length
    if length > SHOWN_CHARS:
        return f"{body[:SHOWN_CHARS]}\n… ({length - SHOWN_CHARS} more characters not shown)"
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return body
    if _nested_deeper_than(value, PRETTY_DEPTH):
        return body
    pretty = _pretty(value)
    return pretty if len(pretty) <= 2 * SHOWN_CHARS else body


def _message(status: int, text: str) -> tuple[str, int]:
    return render_template("admin/message.html", message=text), status


def _retry_tokens() -> URLSafeTimedSerializer:
    # Its own salt: a shopper's status token (same key) can never pass for one.
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="admin-retry")


def retry_token(event_id: str) -> str:
    """The retry form's CSRF token: signed with SECRET_KEY, naming the event and the time."""
    return _retry_tokens().dumps(event_id)


def _valid_retry_token(token: str, event_id: str) -> bool:
    try:
        signed: object = _retry_tokens().loads(token, max_age=RETRY_TOKEN_MAX_AGE)
        return signed == event_id
    except BadData:
        return False


def _cross_site() -> bool:
    """Whether the browser says the request comes from another site; absent headers
    (old browsers, scripts) leave the decision to the form token."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("Origin")
    return origin is not None and origin.lower() != f"{request.scheme}://{request.host}".lower()


@bp.get("")
def events() -> ResponseReturnValue:
    store = current_app.extensions["store"]
    total = store.count_events()
    pages = max(math.ceil(total / PAGE_SIZE), 1)
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    rows = store.list_events(PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return render_template("admin/events.html", events=rows, page=page, pages=pages, total=total,
                           connection=current_app.extensions["shopify"].tokens.status())


@bp.get("/events/<event_id>")
def event(event_id: str) -> ResponseReturnValue:
    store = current_app.extensions["store"]
    found = store.get(event_id)
    if found is None:
        return _message(404, "There is no event with this id.")
    answers, answer_count = store.latest_answers(event_id, ANSWERS_SHOWN, SHOWN_CHARS + 1)
    answers = [{**answer, "body": _pretty_body(answer["body"], answer["body_length"])}
               for answer in answers]
    webhooks, webhook_count = store.event_webhooks(event_id, WEBHOOKS_SHOWN)
    token = retry_token(event_id) if found["status"] == EventStatus.FAILED else None
    return render_template("admin/event.html", event=found, answers=answers,
                           answer_count=answer_count, webhooks=webhooks,
                           webhook_count=webhook_count, retry_token=token,
                           received=_pretty_body(found["received"]),
                           payload=_pretty(found["payload"]),
                           **_notifications(store, event_id))


def _notifications(store: SqlStore, event_id: str) -> dict[str, object]:
    """What an event's page shows of the merchant's notifications about it
    (templates/admin/_notifications.html)."""
    shown, total = store.notifications(event_id, NOTIFICATIONS_SHOWN)
    return {"notifications": shown, "notification_count": total}


@bp.post("/events/<event_id>/retry")
def retry(event_id: str) -> ResponseReturnValue:
    if _cross_site():
        return _message(403, "Refused: this request was sent from another site.")
    if not _valid_retry_token(request.form.get("csrf_token", ""), event_id):
        return _message(403, "Refused: the retry form has expired or did not come from this "
                             "event's page. Reload the event and try again.")
    store = current_app.extensions["store"]
    if not store.retry(event_id, time.time()):
        found = store.get(event_id)
        if found is None:
            return _message(404, "There is no event with this id.")
        return _message(409, f"Only failed events can be retried; this one is {found['status']}.")
    current_app.extensions["worker"].notify()
    return redirect(url_for(".event", event_id=event_id), 303)
