"""What a Shopify call gives the worker, whichever API made it: the exchange
as the event log keeps it (`Answer`), and what it means (`Outcome`).

Everything in an answer is untrusted: a draft order's id must be a positive
integer, and a name or invoice URL that is no short string or web address is
dropped rather than stored.
"""

import json
import math
from dataclasses import dataclass, field

from ..ids import MAX_BIGINT, positive_id
from .addresses import is_web_url

MAX_RETRY_AFTER = 300.0
MAX_NAME_CHARS = 255
MAX_URL_CHARS = 2048
REDACTED = "[redacted]"


class UntrustedLocation(ValueError):
    """A `Location` that points away from the shop: following it would leak the token."""


@dataclass(frozen=True)
class Answer:
    """One HTTP exchange, token-free, ready to be stored in the event log."""

    method: str
    url: str
    status: int | None  # None: no answer (timeout, connection error)
    body: str
    headers: dict = field(default_factory=dict)
    json: object = None

    def record(self):
        return {"method": self.method, "url": self.url, "status": self.status, "body": self.body}


@dataclass(frozen=True)
class Outcome:
    """What one call means for its event.

    kind: prepared | created | absent | pending | throttled | unavailable | rejected
    """

    kind: str
    retry_after: float | None = None
    location: str | None = None
    draft_order: dict | None = None
    code: str | None = None
    detail: str | None = None
    nothing_created: bool = False  # this call surely created no draft (a 4xx, a 429)
    lines: tuple = ()  # a rejection's line objects: {line, variant_id, code, detail}
    prepared: dict | None = None  # a preparation's findings, stored with the event


def created_draft(raw_id, name, invoice_url, *, quoted=False):
    """The draft order as the event keeps it, or a rejection when its id is no
    positive integer (GraphQL quotes its `legacyResourceId`, REST does not)."""
    draft_id = positive_id(raw_id, MAX_BIGINT, quoted=quoted)
    if draft_id is None:
        return Outcome("rejected", code="shopify_unexpected_answer",
                       detail="Shopify's draft order has no valid id.")
    if not (isinstance(name, str) and len(name) <= MAX_NAME_CHARS):
        name = None
    if not (is_web_url(invoice_url) and len(invoice_url) <= MAX_URL_CHARS):
        invoice_url = None
    return Outcome("created", draft_order={"id": draft_id, "name": name,
                                           "invoice_url": invoice_url})


def redacted(text, token):
    """An answer's text and its JSON (None if it is none) without the token, also
    where the JSON spells it with escapes (`\\u0073hpat_...`) that the event log
    would decode: then the text stored is the JSON written again, redacted."""
    text = text.replace(token, REDACTED)
    try:
        parsed = json.loads(text)
        decoded = json.dumps(parsed, ensure_ascii=False)
    except (ValueError, RecursionError):  # not JSON, or nested too deep to read
        return text, None
    if token in decoded:
        text = decoded.replace(token, REDACTED)
        parsed = json.loads(text)
    return text, parsed


def bounded_seconds(raw, default):
    """A wait Shopify asks for, in seconds: `default` unless it is a finite number
    of at least 0, and never more than MAX_RETRY_AFTER (a `nan` or `1e999` would
    be stored)."""
    try:
        seconds = float(default if raw is None else raw)
    except (TypeError, ValueError, OverflowError):
        return default
    if not math.isfinite(seconds) or seconds < 0:
        return default
    return min(seconds, MAX_RETRY_AFTER)
