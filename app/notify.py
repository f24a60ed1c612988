"""The merchant told: what a new draft order or a failed event says, and the
two ways it goes out, a JSON POST (Slack's incoming webhooks take it as is)
and an email. Building is pure; the worker's settle queues what `messages`
returns, and app/notifier.py sends it.

No message carries a secret: each is built from the event's own columns
(never the token, the SMTP password or the webhook's address), and a failed
send is described by what went wrong, never by where it was going.
"""

import html
import json
import smtplib
import ssl
import unicodedata
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

import requests

from .shopify import draft_order_admin_url, is_web_url
from .shopify.http import Deadline, deadline_session
from .states import EventStatus

DRAFT_CREATED, FAILED, WAITING = "draft_created", "failed", "credentials_problem"
EVENT_NAMES = {DRAFT_CREATED: "draft_order.created", FAILED: "event.failed",
               WAITING: "shop.credentials_problem"}
WEBHOOK, EMAIL = "webhook", "email"
TIMEOUT_SECONDS = 10
DETAIL_CHARS = 300    # of a failure's detail in the one-line text
ANSWER_BYTES = 1024   # of a refusing webhook's answer read, for the error kept
ERROR_CHARS = 500     # of any error kept
LOOPBACK = ("localhost", "127.0.0.1", "::1")


class SendError(Exception):
    """A send that did not go through, in words safe to keep and show."""


def channels(settings):
    """The channels the merchant configured: webhook (NOTIFY_WEBHOOK_URL),
    email (SMTP_URL and NOTIFY_EMAIL)."""
    found = []
    if settings.get("NOTIFY_WEBHOOK_URL"):
        found.append(WEBHOOK)
    if settings.get("SMTP_URL") and settings.get("NOTIFY_EMAIL"):
        found.append(EMAIL)
    return found


def messages(event, changes, settings, now):
    """The notifications a settle of `event` with `changes` queues: one per
    configured channel when the changes bring the event's first draft order,
    or fail it; none otherwise (a re-read or a Shopify webhook changing the
    draft's state, a retry being scheduled)."""
    kind = _kind(event, changes)
    found = channels(settings)
    if kind is None or not found:
        return []
    body = json.dumps(_document(kind, event, changes, settings, now), ensure_ascii=False)
    return [{"kind": kind, "channel": channel, "body": body} for channel in found]


def credentials_messages(code, detail, settings, now):
    """What the merchant is told, once, when the app's credentials get no token
    (app/shopify/tokens.py): carts wait until the setup is fixed."""
    document = {"event": EVENT_NAMES[WAITING], "event_id": None, "at": now,
                "draft_order": None, "error": {"code": code, "detail": detail}, "lines": 0,
                "customer_id": None}
    body = json.dumps({"text": _slack_escaped(_one_line(_text(document))), **document},
                      ensure_ascii=False)
    return tuple({"kind": WAITING, "channel": channel, "body": body}
                 for channel in channels(settings))


def _kind(event, changes):
    if changes.get("status") == EventStatus.FAILED:
        return FAILED
    if changes.get("draft_order_id") is not None and event.get("draft_order_id") is None:
        return DRAFT_CREATED
    return None


def _document(kind, event, changes, settings, now):
    draft = error = None
    if kind == DRAFT_CREATED:
        draft_id = changes["draft_order_id"]
        invoice_url = changes.get("invoice_url")
        draft = {"id": draft_id, "name": changes.get("draft_order_name"),
                 "invoice_url": invoice_url if is_web_url(invoice_url) else None,
                 "admin_url": draft_order_admin_url(settings["SHOPIFY_BASE_URL"], draft_id)}
    else:
        error = {"code": changes.get("error_code"), "detail": changes.get("error_detail")}
    document = {"event": EVENT_NAMES[kind], "event_id": event["id"], "at": now,
                "draft_order": draft, "error": error, "lines": event["line_count"],
                "customer_id": event["customer_id"]}
    return {"text": _slack_escaped(_one_line(_text(document))), **document}


def _one_line(text):
    """`text` on one line, without the control and format characters (NUL,
    escape sequences, bidi overrides) a detail Shopify echoes may carry: it
    becomes a Slack message and an email's Subject."""
    return " ".join("".join(" " if unicodedata.category(char) in ("Cc", "Cf") else char
                            for char in text).split())


def _text(document):
    """The message in words (made one line): a Slack message, an email's subject."""
    draft, error = document["draft_order"], document["error"]
    if draft is not None:
        lines = document["lines"]
        customer = document["customer_id"]
        return (f"Draft order {draft['name'] or draft['id']} created from a cart of {lines} "
                f"line{'' if lines == 1 else 's'} for "
                f"{'a guest' if customer is None else f'customer {customer}'}")
    detail = str(error["detail"] or "")
    if len(detail) > DETAIL_CHARS:
        detail = detail[:DETAIL_CHARS - 1] + "…"
    if document["event"] == EVENT_NAMES[WAITING]:
        return (f"Carts are waiting: Shopify gives the app no access token: {error['code']} — "
                f"{detail} (see /admin)")
    return f"Cart event {document['event_id']} failed: {error['code']} — {detail}"


def _slack_escaped(text):
    """`text` with Slack's three control characters escaped, so that no detail
    Shopify echoes can become a link or an @channel; `plain` undoes it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text):
    """A message's text as written, for an email's subject."""
    return html.unescape(text)


def _safe(text, *secrets):
    """An error as kept: one line, bounded, with any secret in it removed."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    text = " ".join(text.split())
    return text if len(text) <= ERROR_CHARS else text[:ERROR_CHARS - 1] + "…"


def send_webhook(url, body, timeout=TIMEOUT_SECONDS):
    """POST the message's JSON `body` to `url`; any 2xx means sent. Redirects
    are not followed, and at most ANSWER_BYTES of a refusal are read, all
    within `timeout` (an answer fed a byte at a time is cut off then). The
    address itself may be a secret (Slack's is), so no error names it."""
    deadline, too_slow = Deadline(timeout), f"the webhook did not answer within {timeout:g} s"
    try:
        with deadline, deadline_session() as session, session.post(
                url, data=body.encode(), timeout=timeout, allow_redirects=False, stream=True,
                headers={"Content-Type": "application/json"}) as answer:
            if 200 <= answer.status_code < 300:
                return
            text = answer.raw.read(ANSWER_BYTES, decode_content=True).decode("utf-8", "replace")
    except requests.Timeout:
        raise SendError(too_slow) from None
    except requests.RequestException as error:
        if deadline.expired:  # its socket shut down
            raise SendError(too_slow) from None
        raise SendError(f"could not reach the webhook ({type(error).__name__})") from None
    raise SendError(_safe(f"the webhook answered {answer.status_code}: {text}",
                          url, urlsplit(url).path))


def send_email(smtp_url, to, body, timeout=TIMEOUT_SECONDS):
    """Email the message `body` (its JSON) to `to` through `smtp_url`: smtps://
    over TLS, or smtp:// upgraded with STARTTLS when the server offers it (a
    password goes in the clear to no server but this machine's). From: the SMTP
    user when it is an address, else `to`."""
    parts = urlsplit(smtp_url)
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password or "")
    message = _email(json.loads(body), sender=user if user and "@" in user else to, to=to)
    context = ssl.create_default_context()
    # smtplib's timeout bounds each read, so a server answering a byte at a time
    # could hold the notifier for ever: the whole conversation gets `timeout`.
    deadline = Deadline(timeout)
    try:
        if parts.scheme == "smtps":
            server = smtplib.SMTP_SSL(timeout=timeout, context=context)
        else:
            server = smtplib.SMTP(timeout=timeout)
        with deadline, server:
            deadline.watch(server)  # shuts down its socket, once connected, at the deadline
            server.connect(parts.hostname, parts.port or (465 if parts.scheme == "smtps" else 25))
            if parts.scheme == "smtp":
                server.ehlo()
                if server.has_extn("starttls"):
                    server.starttls(context=context)
                    server.ehlo()
                elif user and parts.hostname not in LOOPBACK:
                    raise SendError("the SMTP server offers no STARTTLS: the password is not "
                                    "sent in the clear")
            if user:
                server.login(user, password)
            server.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        if deadline.expired:
            raise SendError(f"the SMTP server did not finish within {timeout:g} s") from None
        raise SendError(_safe(f"{type(error).__name__}: {error}", password)) from None


def _email(document, sender, to):
    subject = plain(document["text"])
    draft, error = document["draft_order"], document["error"]
    lines = [subject, ""]
    if document["event_id"] is not None:
        lines.append(f"Cart event: {document['event_id']}")
    if draft is not None:
        lines.append(f"Draft order: {draft['name'] or draft['id']}  {draft['admin_url']}")
        if draft["invoice_url"]:
            lines.append(f"Invoice: {draft['invoice_url']}")
    if error is not None:
        lines.append(f"Error: {error['code']}: {error['detail']}")
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, sender, to
    message["Date"] = formatdate(document["at"])
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    message.set_content("\n".join(lines) + "\n")
    return message
