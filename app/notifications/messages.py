"""The merchant told: what a new draft order or a failed event says, built as
a pure function of the event; the worker's settle queues what `messages`
returns, app/notifications/sender.py sends it through app/notifications/channels.py.

No message carries a secret: each is built from the event's own columns
(never the token, the SMTP password or the webhook's address).
"""

import html
import json
import unicodedata
from collections.abc import Mapping
from typing import Any, cast

from ..event import Event
from ..shopify import draft_order_admin_url, is_web_url
from ..states import EventStatus
from . import contact

DRAFT_CREATED, FAILED, WAITING = "draft_created", "failed", "credentials_problem"
DATA_REQUEST = "data_request"
EVENT_NAMES = {DRAFT_CREATED: "draft_order.created", FAILED: "event.failed",
               WAITING: "shop.credentials_problem", DATA_REQUEST: "customer.data_request"}
EXPORTS_PATH = "/admin/privacy"  # app/web/privacy_exports.py's list
WEBHOOK, EMAIL = "webhook", "email"
DETAIL_CHARS = 300    # of a failure's detail in the one-line text

# A message's document (the webhook's body, the email's source) is JSON: Any.
# Settings are read as config.load built them (one type a setting): Any.


def channels(settings: Mapping[str, object]) -> list[str]:
    """The channels the merchant configured: webhook (NOTIFY_WEBHOOK_URL),
    email (SMTP_URL and NOTIFY_EMAIL)."""
    found = []
    if settings.get("NOTIFY_WEBHOOK_URL"):
        found.append(WEBHOOK)
    if settings.get("SMTP_URL") and settings.get("NOTIFY_EMAIL"):
        found.append(EMAIL)
    return found


def messages(event: Event, changes: Mapping[str, object], settings: Mapping[str, Any],
             now: float) -> list[dict[str, str]]:
    """The notifications a settle of `event` with `changes` queues: one per
    configured channel when the changes bring the event's first draft order,
    or fail it; none otherwise (a re-read or a Shopify webhook changing the
    draft's state, a retry being scheduled)."""
    kind = _kind(event, changes)
    if kind is None or not channels(settings):
        return []
    return _rows(kind, _document(kind, event, changes, settings, now), settings)


def credentials_messages(code: str, detail: str, settings: Mapping[str, Any],
                         now: float) -> tuple[dict[str, str], ...]:
    """What the merchant is told, once, when the app's credentials get no token
    (app/shopify/tokens.py): carts wait until the setup is fixed."""
    return tuple(_rows(WAITING, {"event": EVENT_NAMES[WAITING], "event_id": None, "at": now,
                                 "draft_order": None, "error": {"code": code, "detail": detail},
                                 "lines": 0, "customer_id": None}, settings))


def data_request_messages(export_id: int, data_request_id: str | None,
                          settings: Mapping[str, Any], now: float) -> list[dict[str, str]]:
    """What the merchant is told when a customer's data request (Shopify's
    customers/data_request) has its export ready in /admin: where, never what
    (the export names the customer; the message does not)."""
    where = f"{settings.get('PUBLIC_URL') or ''}{EXPORTS_PATH}/{export_id}"
    return _rows(DATA_REQUEST, {"event": EVENT_NAMES[DATA_REQUEST], "event_id": None, "at": now,
                                "draft_order": None, "error": None, "lines": 0,
                                "customer_id": None,
                                "export": {"id": export_id, "data_request_id": data_request_id,
                                           "url": where}}, settings)


def _rows(kind: str, document: dict[str, Any], settings: Mapping[str, Any]) -> list[dict[str, str]]:
    """One outbox row a configured channel, each with the document and its text."""
    body = message_body(_text(document), document)
    return [{"kind": kind, "channel": channel, "body": body} for channel in channels(settings)]


def message_body(text: str, document: Mapping[str, Any]) -> str:
    """What a channel sends: `text` made one line and Slack-escaped, then the document."""
    return json.dumps({"text": _slack_escaped(_one_line(text)), **document}, ensure_ascii=False)


def _kind(event: Event, changes: Mapping[str, object]) -> str | None:
    if changes.get("status") == EventStatus.FAILED:
        return FAILED
    if changes.get("draft_order_id") is not None and event.get("draft_order_id") is None:
        return DRAFT_CREATED
    return None


def _document(kind: str, event: Event, changes: Mapping[str, object],
              settings: Mapping[str, Any], now: float) -> dict[str, Any]:
    draft: dict[str, object] | None = None
    error: dict[str, object] | None = None
    if kind == DRAFT_CREATED:
        draft_id = cast(int, changes["draft_order_id"])  # a created draft's: next_state's
        invoice_url = changes.get("invoice_url")
        draft = {"id": draft_id, "name": changes.get("draft_order_name"),
                 "invoice_url": invoice_url if is_web_url(invoice_url) else None,
                 "admin_url": draft_order_admin_url(settings["SHOPIFY_BASE_URL"], draft_id)}
    else:
        error = {"code": changes.get("error_code"), "detail": changes.get("error_detail")}
    return {"event": EVENT_NAMES[kind], "event_id": event["id"], "at": now,
            "draft_order": draft, "error": error, "lines": event["line_count"],
            "customer_id": event["customer_id"], **contact.document_part(event)}


def _one_line(text: str) -> str:
    """`text` on one line, without the control and format characters (NUL,
    escape sequences, bidi overrides) a detail Shopify echoes may carry: it
    becomes a Slack message and an email's Subject."""
    return " ".join("".join(" " if unicodedata.category(char) in ("Cc", "Cf") else char
                            for char in text).split())


def _text(document: Mapping[str, Any]) -> str:
    """The message in words (made one line): a Slack message, an email's subject."""
    draft, error = document["draft_order"], document["error"]
    if document["event"] == EVENT_NAMES[DATA_REQUEST]:
        export = document["export"]
        return (f"A customer's data request ({export['data_request_id'] or 'no id'}) has its "
                f"export ready: {export['url']}")
    if draft is not None:
        lines = document["lines"]
        customer = document["customer_id"]
        asked = contact.who(document.get("contact")) if customer is None \
            else f"customer {customer}"
        return (f"Draft order {draft['name'] or draft['id']} created from a cart of {lines} "
                f"line{'' if lines == 1 else 's'} for {asked}")
    detail = contact.cut(str(error["detail"] or ""), DETAIL_CHARS)
    if document["event"] == EVENT_NAMES[WAITING]:
        return (f"Carts are waiting: Shopify gives the app no access token: {error['code']} — "
                f"{detail} (see /admin)")
    return f"Cart event {document['event_id']} failed: {error['code']} — {detail}"


def _slack_escaped(text: str) -> str:
    """`text` with Slack's three control characters escaped, so that no detail
    Shopify echoes can become a link or an @channel; `plain` undoes it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str) -> str:
    """A message's text as written, for an email's subject."""
    return html.unescape(text)
