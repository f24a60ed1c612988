"""The two ways a merchant's message goes out: a JSON POST (Slack's incoming
webhooks take it as is) and an email, each within a deadline.

No error carries a secret: a failed send is described by what went wrong,
never by where it was going (the webhook's address may be a secret, as
Slack's is), and the SMTP password is removed from any error kept.
"""

import json
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import unquote, urlsplit

import requests

from ..shopify.http import Deadline, deadline_session
from . import contact
from .messages import plain

TIMEOUT_SECONDS = 10
ANSWER_BYTES = 1024   # of a refusing webhook's answer read, for the error kept
ERROR_CHARS = 500     # of any error kept
LOOPBACK = ("localhost", "127.0.0.1", "::1")


class SendError(Exception):
    """A send that did not go through, in words safe to keep and show."""


def _safe(text: str, *secrets: str) -> str:
    """An error as kept: one line, bounded, with any secret in it removed."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return contact.cut(" ".join(text.split()), ERROR_CHARS)


def send_webhook(url: str, body: str, timeout: float = TIMEOUT_SECONDS) -> None:
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


def send_email(smtp_url: str, to: str, body: str, timeout: float = TIMEOUT_SECONDS) -> None:
    """Email the message `body` (its JSON) to `to` through `smtp_url`: smtps://
    over TLS, or smtp:// upgraded with STARTTLS when the server offers it (a
    password goes in the clear to no server but this machine's). From: the SMTP
    user when it is an address, else `to`."""
    parts = urlsplit(smtp_url)
    host = parts.hostname
    if not host:  # config.py's _smtp_url requires one
        raise SendError("the SMTP URL names no host")
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password or "")
    message = _email(json.loads(body), sender=user if user and "@" in user else to, to=to)
    context = ssl.create_default_context()
    # smtplib's timeout bounds each read, so a server answering a byte at a time
    # could hold the notifier for ever: the whole conversation gets `timeout`.
    deadline = Deadline(timeout)
    server: smtplib.SMTP
    try:
        if parts.scheme == "smtps":
            server = smtplib.SMTP_SSL(timeout=timeout, context=context)
        else:
            server = smtplib.SMTP(timeout=timeout)
        with deadline, server:
            deadline.watch(server)  # shuts down its socket, once connected, at the deadline
            server.connect(host, parts.port or (465 if parts.scheme == "smtps" else 25))
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


def _email(document: Mapping[str, Any], sender: str, to: str) -> EmailMessage:
    """The email of a message's document (messages.py's JSON: Any)."""
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
    lines += contact.lines(document.get("contact"))
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, sender, to
    message["Date"] = formatdate(document["at"])
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    message.set_content("\n".join(lines) + "\n")
    return message
