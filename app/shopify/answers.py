"""What a Shopify call gives the worker, whichever API made it: the exchange
as the event log keeps it (`Answer`), and what it means (`Outcome`).

Everything in an answer is untrusted: a draft order's id must be a positive
integer, and a name or invoice URL that is no short string or web address is
dropped rather than stored. A draft's or an order's name is kept only when it
has the shape Shopify's names have (`draft_name`, `order_name`): read here, once,
so the store, the status document and the merchant's messages never hold a name
that could forge a line of an email or a Slack mention.
"""

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NotRequired, TypedDict

from ..ids import MAX_BIGINT, positive_id
from ..lifecycle import DraftSeen
from ..states import DraftState, OutcomeKind
from .addresses import is_web_url

MAX_RETRY_AFTER = 300.0
MAX_NAME_CHARS = 255
MAX_URL_CHARS = 2048
MAX_TIMESTAMP_CHARS = 40  # "2026-12-01T23:41:57.123456-05:00" and then some
MAX_FINANCIAL_STATUS_CHARS = 40
REDACTED = "[redacted]"

# A draft order's name: "#D" and its number, unique within the store ("For
# example, #D1223": the DraftOrder object's `name`,
# https://shopify.dev/docs/api/admin-graphql/latest/objects/DraftOrder); the
# REST resource's example is "#1001":
# https://shopify.dev/docs/api/admin-rest/2024-10/resources/draftorder
DRAFT_NAME = re.compile(r"#D?[0-9]{1,19}")
# An order's name is its number with the shop's own prefix and/or suffix ("#" by
# default, e.g. "#1001"; https://community.shopify.com/c/shopify-apis-and-sdks/
# max-length-for-fields-order-id-and-order-number-of-order-object/m-p/1322429),
# so it may vary: kept when it is short words of letters, digits (any script),
# "#", "-", "_", "." and "/", between single spaces. No control character, line
# break, "<", ">", "&", "@", "!" or ":" passes: a forged Slack mention or email
# header needs one.
ORDER_NAME = re.compile(r"[\w#./-]+(?: [\w#./-]+)*")
MAX_ORDER_NAME_CHARS = 64

# What Shopify answers (`Answer.json`, and the raw values the readers below
# take from it) is JSON from outside: Any, until these functions have checked it.


class UntrustedLocation(ValueError):
    """A `Location` that points away from the shop: following it would leak the token."""


@dataclass(frozen=True)
class Answer:
    """One HTTP exchange, token-free, ready to be stored in the event log."""

    method: str
    url: str
    status: int | None  # None: no answer (timeout, connection error)
    body: str
    headers: Mapping[str, str] = field(default_factory=dict)  # case-insensitive when answered
    json: Any = None  # the body's JSON, redacted (None when it is none)

    def record(self) -> dict[str, str | int | None]:
        return {"method": self.method, "url": self.url, "status": self.status, "body": self.body}


class DraftOrder(TypedDict):
    """A draft order as its event keeps it, read from Shopify's answer."""

    id: int
    name: str | None
    invoice_url: str | None
    # Shopify's updated_at in the answer that made it (epoch seconds), when it says:
    # the draft's state is known as of then, so an older report is no news.
    updated_at: NotRequired[float | None]


class Line(TypedDict):
    """A line object: a cart line Shopify or the preparation refused."""

    line: int  # the line's index in the cart
    variant_id: int
    code: str
    detail: str


class Prepared(TypedDict, total=False):
    """A preparation's findings: the lines dropped, the B2B purchasing company."""

    dropped: list[Line]
    purchasing_company: dict[str, str]


@dataclass(frozen=True)
class Outcome:
    """What one call means for its event.

    kind: prepared | created | absent | pending | throttled | unavailable | rejected,
    and for a draft that exists: sent (its invoice) | seen (its state, in `seen`)
    (app/states.py's OutcomeKind)
    """

    kind: OutcomeKind
    retry_after: float | None = None
    location: str | None = None
    draft_order: DraftOrder | None = None
    code: str | None = None
    detail: str | None = None
    nothing_created: bool = False  # this call surely created no draft (a 4xx, a 429)
    lines: tuple[Line, ...] = ()  # a rejection's line objects: {line, variant_id, code, detail}
    prepared: Prepared | None = None  # a preparation's findings, stored with the event
    seen: DraftSeen | None = None  # what a re-read found of the draft (kind "seen")
    # A sent invoice's: Shopify's updated_at of the draft after the send, when the
    # answer says (GraphQL's does, REST's does not: the worker's clock is taken then).
    updated_at: float | None = None


def created_draft(raw_id: Any, name: Any, invoice_url: Any, *, quoted: bool = False,
                  updated_at: Any = None) -> Outcome:
    """The draft order as the event keeps it, or a rejection when its id is no
    positive integer (GraphQL quotes its `legacyResourceId`, REST does not).
    `updated_at`: Shopify's, as the answer gives it (None when it gives none)."""
    draft_id = positive_id(raw_id, MAX_BIGINT, quoted=quoted)
    if draft_id is None:
        return Outcome(OutcomeKind.REJECTED, code="shopify_unexpected_answer",
                       detail="Shopify's draft order has no valid id.")
    name = draft_name(name)
    if not (is_web_url(invoice_url) and len(invoice_url) <= MAX_URL_CHARS):
        invoice_url = None
    draft: DraftOrder = {"id": draft_id, "name": name, "invoice_url": invoice_url}
    stamp = timestamp(updated_at)
    if stamp is not None:
        draft["updated_at"] = stamp
    return Outcome(OutcomeKind.CREATED, draft_order=draft)


def draft_name(raw: Any) -> str | None:
    """A draft order's name as Shopify gives it (`#D12`), or None when it has
    not that shape."""
    return raw if isinstance(raw, str) and DRAFT_NAME.fullmatch(raw) else None


def order_name(raw: Any) -> str | None:
    """An order's name (`#1001`, `SO-1001-EU`), or None unless it is short
    printable words (ORDER_NAME)."""
    return raw if isinstance(raw, str) and 0 < len(raw) <= MAX_ORDER_NAME_CHARS \
        and ORDER_NAME.fullmatch(raw) else None


def _short_text(raw: Any, limit: int = MAX_NAME_CHARS) -> str | None:
    return raw if isinstance(raw, str) and len(raw) <= limit else None


def shop_found(name: Any, domain: Any, currency: Any) -> dict[str, str | None]:
    """For doctor: the shop as either API names it, each field None unless a short string."""
    return {"name": _short_text(name), "domain": _short_text(domain),
            "currency": _short_text(currency)}


def scope_handles(entries: Any) -> list[str] | None:
    """For doctor: the handles of a list of access scopes ({handle}), or None
    when it is no list; odd entries are passed over."""
    if not isinstance(entries, list):
        return None
    return [entry["handle"] for entry in entries
            if isinstance(entry, dict) and _short_text(entry.get("handle")) is not None]


def subscription(topic: Any, address: Any) -> dict[str, str | None]:
    """A webhook subscription as either API lists it: {topic, address}, each None
    unless it is a string of sensible length (a listing is untrusted too)."""
    return {"topic": _short_text(topic), "address": _short_text(address, MAX_URL_CHARS)}


def redacted(text: str, token: str) -> tuple[str, Any]:
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


def bounded_seconds(raw: Any, default: float) -> float:
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


def timestamp(raw: Any) -> float | None:
    """Shopify's ISO 8601 time (`2026-12-01T18:41:57-05:00`, `…Z`) as epoch
    seconds, or None when it is no such text with a UTC offset."""
    if not (isinstance(raw, str) and len(raw) <= MAX_TIMESTAMP_CHARS):
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None


def draft_seen(status: Any, updated_at: Any, invoice_sent_at: Any,
               order: tuple[Any, Any, Any] | None) -> DraftSeen | None:
    """A draft order as one read found it, or None when the read makes no sense.
    `status`: open | invoice_sent | completed, in either API's case; `order`:
    (id, name, financial status) as found, or None when the draft has none."""
    read = status.lower() if isinstance(status, str) else None
    if read not in (DraftState.OPEN, DraftState.INVOICE_SENT, DraftState.COMPLETED):
        return None
    state = DraftState(read)
    invoice_sent = invoice_sent_at is not None or state == DraftState.INVOICE_SENT
    if state == DraftState.OPEN and invoice_sent:
        state = DraftState.INVOICE_SENT
    order_id = name = financial = None
    if order is not None:
        order_id, name, financial = read_order(*order) or (None, None, None)
        if order_id is None:
            return None
    return DraftSeen(state, timestamp(updated_at), order_id, name, financial, invoice_sent)


def read_order(raw_id: Any, raw_name: Any,
               raw_financial_status: Any) -> tuple[int, str | None, str | None] | None:
    """An order as Shopify names it (a re-read, or the orders/create webhook):
    (id, name or None, financial status in lower case or None), or None when its
    id is no positive integer."""
    order_id = positive_id(raw_id, MAX_BIGINT)
    if order_id is None:
        return None
    name = order_name(raw_name)
    financial = raw_financial_status.lower() if isinstance(raw_financial_status, str) \
        and 0 < len(raw_financial_status) <= MAX_FINANCIAL_STATUS_CHARS else None
    return order_id, name, financial


DRAFT_DELETED = DraftSeen(DraftState.DELETED, None)
