"""The Admin REST API backend, and what its answers mean.

`classify` is a pure reading of one answer as Shopify documents it (201/200
done, 202 poll `Location` after `Retry-After`, 429 wait `Retry-After`, 5xx try
later, other 4xx give up). What to do about it over time (backoff, limits,
deadlines) is the worker's business.

Every draft order carries the event id as a note attribute (app/ids.py's
EVENT_MARKER); `lookup` pages through the recently updated drafts for it.
"""

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, NoReturn, overload
from urllib.parse import urlencode

import requests
from requests.utils import parse_header_links

from ..ids import EVENT_MARKER, MAX_BIGINT, positive_id
from ..states import OutcomeKind
from .addresses import admin_api_url, admin_url
from .answers import (
    DRAFT_DELETED,
    Answer,
    Outcome,
    UntrustedLocation,
    bounded_seconds,
    created_draft,
    draft_seen,
    scope_handles,
    shop_found,
    subscription,
)
from .http import Transport
from .pacing import CallPacer
from .scopes import lacking, rest_scopes, topic_scopes
from .tokens import Tokens, as_tokens

# The stored cart (`payload`) and Shopify's answers (Answer.json, the drafts
# and errors read from it) are JSON from outside: Any.

MAX_LOOKUP_PAGES = 10  # of 250 draft orders each

_REJECTIONS: dict[int, tuple[str, str | None]] = {
    401: ("shopify_unauthorized",
          "Shopify refused the access token; check SHOPIFY_ACCESS_TOKEN."),
    402: ("shopify_payment_required", "Shopify says the shop is frozen (unpaid)."),
    403: ("shopify_forbidden", None),  # the detail names the scope: scopes.lacking
    404: ("shopify_not_found",
          "Shopify has no such address; check SHOPIFY_SHOP and SHOPIFY_API_VERSION."),
    422: ("shopify_rejected", "Shopify rejected the draft order."),
    423: ("shopify_locked", "Shopify says the shop is locked."),
}


class RestClient:
    lookup_lag = 0.0  # the list of draft orders shows a new one at once

    def __init__(self, base_url: str, token: str | Tokens, api_version: str, timeout: float,
                 session: requests.Session | None = None, pacer: CallPacer | None = None):
        self.base_url = base_url
        self.api_version = api_version
        self.timeout = timeout
        self.pacer = pacer or CallPacer()
        self._transport = Transport(base_url, as_tokens(token), timeout, session)
        self.tokens = self._transport.tokens
        self.trusted_url = self._transport.trusted_url

    def api_url(self, path: str) -> str:
        return admin_api_url(self.base_url, self.api_version, path)

    def needs_preparation(self, payload: Mapping[str, Any]) -> bool:
        """REST drafts exactly what the cart says: nothing to read first."""
        return False

    def prepare(self, payload: Mapping[str, Any]) -> NoReturn:
        raise NotImplementedError("the REST backend prepares nothing")

    def create(self, payload: Mapping[str, Any], prepared: Mapping[str, Any] | None,
               ready: Callable[[], bool]) -> tuple[Answer | None, Outcome | None]:
        """POST the draft order, or return (None, None) if `ready()`, asked after
        pacing (which may wait), says the call may no longer leave."""
        answer = self._send("POST", self.api_url("draft_orders.json"),
                            {"draft_order": payload["draft_order"]}, ready)
        return answer, None if answer is None else classify(answer)

    def poll(self, url: str) -> tuple[Answer, Outcome]:
        answer = self.get(url)
        return answer, classify(answer)

    def lookup(self, event_id: str, since: float) -> tuple[Answer, Outcome]:
        """Page through draft orders updated since `since` (epoch seconds) for the
        one marked with `event_id`: found, surely absent, or a failure.

        This is how a worker learns whether a POST whose answer it lost went
        through, before it posts again.
        """
        marker = {"name": EVENT_MARKER, "value": event_id}
        updated_at_min = datetime.fromtimestamp(since, timezone.utc).isoformat(timespec="seconds")
        url = self.api_url("draft_orders.json?" + urlencode(
            {"updated_at_min": updated_at_min, "limit": 250}))
        for _ in range(MAX_LOOKUP_PAGES):
            answer = self.get(url)
            drafts = _listed(answer)
            if answer.status != 200 or drafts is None:
                return answer, classify_lookup(answer, None)
            for draft in drafts:
                if _carries(draft, marker):
                    return answer, classify_lookup(answer, draft)
            links = parse_header_links(answer.headers.get("Link", ""))
            following = [link["url"] for link in links if link.get("rel") == "next"]
            if not following:
                return answer, classify_lookup(answer, None)
            try:
                url = self.trusted_url(following[0])
            except UntrustedLocation as error:
                return _unanswered("GET", following[0], str(error))
        # Pages left unread prove nothing: no answer, so the lookup is tried again
        # later rather than read as "no draft" (which would post a second one).
        return _unanswered("GET", url, f"more than {MAX_LOOKUP_PAGES} pages of draft orders "
                                       f"to search")

    def send_invoice(self, draft_id: int, subject: str | None, message: str | None,
                     ready: Callable[[], bool]) -> tuple[Answer | None, Outcome | None]:
        """POST the draft's invoice to its customer's email (Shopify's default
        address and sender), or return (None, None) if `ready()`, asked after
        pacing, says the call may no longer leave."""
        invoice = {"subject": subject, "custom_message": message}
        answer = self._send("POST", self.api_url(f"draft_orders/{draft_id}/send_invoice.json"),
                            {"draft_order_invoice": {k: v for k, v in invoice.items() if v}},
                            ready)
        return answer, None if answer is None else classify_invoice(answer)

    def read_draft(self, draft_id: int, with_order: bool = True) -> tuple[Answer, Outcome]:
        """The draft's state now; once it became an order, and `with_order`,
        the order's name and financial status too, in one more call (which
        needs the read_orders scope)."""
        answer = self.get(self.api_url(f"draft_orders/{draft_id}.json"))
        if answer.status == 404:
            return answer, Outcome(OutcomeKind.SEEN, seen=DRAFT_DELETED)
        if answer.status != 200:
            return answer, classify(answer)
        draft = answer.json.get("draft_order") if isinstance(answer.json, dict) else None
        if not isinstance(draft, dict):
            return answer, _unreadable_draft()
        order_id = draft.get("order_id")
        if order_id is not None:  # it goes into the next call's address: checked first
            order_id = positive_id(order_id, MAX_BIGINT, quoted=False)
            if order_id is None:
                return answer, _unreadable_draft()
        order: tuple[int, Any, Any] | None = None if order_id is None else (order_id, None, None)
        if order is not None and with_order:
            answer, read = self._order(order[0])
            if isinstance(read, Outcome):
                return answer, read
            order = read
        seen = draft_seen(draft.get("status"), draft.get("updated_at"),
                          draft.get("invoice_sent_at"), order)
        return answer, _unreadable_draft() if seen is None else Outcome(OutcomeKind.SEEN, seen=seen)

    def _order(self, order_id: int) -> tuple[Answer, tuple[int, Any, Any] | Outcome]:
        """(answer, (id, name, financial status)) of the order a draft became, its
        name unknown when Shopify refuses the read (no read_orders scope, say), or
        (answer, the Outcome of a failure worth trying again)."""
        answer = self.get(self.api_url(f"orders/{order_id}.json?fields=id,name,financial_status"))
        if answer.status == 200:
            found = answer.json.get("order") if isinstance(answer.json, dict) else None
            if not (isinstance(found, dict) and found.get("id") == order_id):
                return answer, _unreadable_draft()
            return answer, (order_id, found.get("name"), found.get("financial_status"))
        outcome = classify(answer)
        refused = outcome.kind == OutcomeKind.REJECTED and outcome.nothing_created  # a 4xx
        return answer, (order_id, None, None) if refused else outcome

    def read_shop_and_scopes(self) -> tuple[Answer, dict[str, str | None] | None,
                                            Answer, list[str] | None]:
        """For doctor: (answer, the shop's name, domain and currency or None,
        answer, the token's scopes' handles or None); the scopes come from an
        unversioned endpoint, so the answers tell the version's fate apart."""
        answer, found = self._read_shop()
        scopes = self.get(admin_url(self.base_url, "oauth/access_scopes.json"))
        listed = scopes.json.get("access_scopes") if isinstance(scopes.json, dict) else None
        return answer, found, scopes, scope_handles(listed) if scopes.status == 200 else None

    def _read_shop(self) -> tuple[Answer, dict[str, str | None] | None]:
        answer = self.get(self.api_url("shop.json"))
        shop = answer.json.get("shop") if isinstance(answer.json, dict) else None
        found = shop_found(shop.get("name"), shop.get("myshopify_domain"), shop.get("currency")) \
            if answer.status == 200 and isinstance(shop, dict) else None
        return answer, found

    def read_shop_domain(self) -> str | None:
        """The shop's myshopify domain (`shop.myshopify_domain` of shop.json), or
        None when the answer names none."""
        return (self._read_shop()[1] or {}).get("domain")

    def list_webhooks(self) -> tuple[Answer, list[dict[str, str | None]] | None]:
        """For `webhooks register` and doctor: the shop's webhook subscriptions
        ({topic, address}), or None when the answer holds no list of them."""
        answer = self.get(self.api_url("webhooks.json?limit=250"))
        listed = answer.json.get("webhooks") if isinstance(answer.json, dict) else None
        if answer.status != 200 or not isinstance(listed, list):
            return answer, None
        return answer, [subscription(entry.get("topic"), entry.get("address"))
                        for entry in listed if isinstance(entry, dict)]

    def create_webhook(self, topic: str, address: str) -> tuple[Answer, str | None]:
        """Subscribe the shop's `topic` (e.g. "orders/create") at `address`:
        (answer, None) when made, else (answer, why not, in a sentence)."""
        answer = self._send("POST", self.api_url("webhooks.json"),
                            {"webhook": {"topic": topic, "address": address, "format": "json"}})
        if answer.status in (200, 201):
            return answer, None
        if answer.status == 403:
            return answer, classify(answer, topic_scopes(topic)).detail
        errors = _errors_text(answer.json)
        said = f"Shopify answered {answer.status}" if answer.status else "no answer"
        return answer, f"{said}: {errors or answer.body[:200]}"

    def get(self, url: str) -> Answer:
        return self._send("GET", url)

    @overload
    def _send(self, method: str, url: str, payload: Mapping[str, object] | None = None,
              ready: None = None) -> Answer: ...

    @overload
    def _send(self, method: str, url: str, payload: Mapping[str, object] | None,
              ready: Callable[[], bool] | None) -> Answer | None: ...

    def _send(self, method: str, url: str, payload: Mapping[str, object] | None = None,
              ready: Callable[[], bool] | None = None) -> Answer | None:
        self.pacer.wait()
        answer = self._transport.send(method, url, payload, ready)
        if answer is None:
            return None
        if answer.status is not None:
            self.pacer.observe(answer.headers.get("X-Shopify-Shop-Api-Call-Limit"),
                               _retry_after(answer, 2.0) if answer.status == 429 else None)
        return answer


def _unanswered(method: str, url: str, reason: str) -> tuple[Answer, Outcome]:
    answer = Answer(method, url, None, reason)
    return answer, classify(answer)


def _retry_after(answer: Answer, default: float) -> float:
    return bounded_seconds(answer.headers.get("Retry-After"), default)


def _unreadable_draft() -> Outcome:
    return Outcome(OutcomeKind.UNAVAILABLE,
                   detail="Shopify's draft order (or its order) was unreadable.")


def _errors_text(parsed: Any) -> str:
    """Shopify's `errors` (a string, a list, or {field: [messages]}) as one line."""
    errors = parsed.get("errors") if isinstance(parsed, dict) else None
    if isinstance(errors, dict):
        parts: list[str] = []
        for name, messages in errors.items():
            messages = messages if isinstance(messages, list) else [messages]
            parts.append(f"{name}: {'; '.join(str(m) for m in messages)}")
        return "; ".join(parts)[:500]
    if isinstance(errors, list):
        return "; ".join(str(e) for e in errors)[:500]
    return str(errors)[:500] if errors else ""


def _listed(answer: Answer) -> list[Any] | None:
    """The draft orders a list answer holds, or None if it holds no list of them."""
    drafts = answer.json.get("draft_orders") if isinstance(answer.json, dict) else None
    return drafts if isinstance(drafts, list) else None


def _carries(draft: Any, attribute: dict[str, str]) -> bool:
    """Whether a listed draft order carries the note attribute (any shape may come)."""
    attributes = draft.get("note_attributes") if isinstance(draft, dict) else None
    return isinstance(attributes, list) and attribute in attributes


def _created(draft: dict[str, Any]) -> Outcome:
    return created_draft(draft.get("id"), draft.get("name"), draft.get("invoice_url"),
                         updated_at=draft.get("updated_at"))


def classify(answer: Answer, needed: tuple[str, ...] | None = None) -> Outcome:
    """Read one Shopify answer as the documented protocol says to. A 403 names
    the scopes `needed` by the call (None: those of the REST call the answer's
    method and URL make, app/shopify/scopes.py)."""
    status = answer.status
    if status is None:
        return Outcome(OutcomeKind.UNAVAILABLE, detail=f"Shopify did not answer: {answer.body}")
    if status in (200, 201):
        draft = answer.json.get("draft_order") if isinstance(answer.json, dict) else None
        if not isinstance(draft, dict):
            return Outcome(OutcomeKind.REJECTED, code="shopify_unexpected_answer",
                           detail=f"Shopify answered {status} without a draft order.")
        return _created(draft)
    if status == 202:
        location = answer.headers.get("Location")
        if not location:
            return Outcome(OutcomeKind.REJECTED, code="shopify_unexpected_answer",
                           detail="Shopify answered 202 without a Location to poll.")
        return Outcome(OutcomeKind.PENDING, location=location,
                       retry_after=_retry_after(answer, 1.0))
    if status == 429:
        return Outcome(OutcomeKind.THROTTLED, retry_after=_retry_after(answer, 2.0),
                       nothing_created=True)
    if status >= 500:
        return Outcome(OutcomeKind.UNAVAILABLE, detail=f"Shopify answered {status}.")
    code, detail = _REJECTIONS.get(status, (f"shopify_{status}", f"Shopify answered {status}."))
    if status == 403:
        needed = rest_scopes(answer.method, answer.url) if needed is None else needed
        detail = lacking(needed, _errors_text(answer.json))
    elif detail is not None:  # as every other rejection's is
        detail = _with_errors(detail, answer.json)
    return Outcome(OutcomeKind.REJECTED, code=code, detail=detail,
                   nothing_created=400 <= status < 500)


def _with_errors(detail: str, parsed: Any) -> str:
    errors = _errors_text(parsed)
    return f"{detail} Shopify says: {errors}" if errors else detail


def classify_invoice(answer: Answer) -> Outcome:
    """Read send_invoice's answer: sent (201 or 200), refused (422: e.g. the
    customer has no email), or as any other call's answer."""
    if answer.status in (200, 201):
        return Outcome(OutcomeKind.SENT)
    if answer.status == 422:
        return Outcome(OutcomeKind.REJECTED, code="invoice_rejected", nothing_created=True,
                       detail=_with_errors("Shopify did not send the invoice.", answer.json))
    if answer.status is not None and answer.status < 400:
        return Outcome(OutcomeKind.REJECTED, code="shopify_unexpected_answer",
                       detail=f"Shopify answered {answer.status} to sending the invoice.")
    return classify(answer)


def classify_lookup(answer: Answer, draft: dict[str, Any] | None) -> Outcome:
    """Read a lookup's last answer: found, surely absent, or a failure."""
    if draft is not None:
        return _created(draft)
    if answer.status == 200 and _listed(answer) is None:
        # Only a list proves there is no draft; a garbled page may pass.
        return Outcome(OutcomeKind.UNAVAILABLE,
                       detail="Shopify's list of draft orders was unreadable.")
    if answer.status == 200:
        return Outcome(OutcomeKind.ABSENT)
    return classify(answer)
