"""Talking to the Shopify Admin REST API, and what its answers mean.

The client only does I/O; `classify` is a pure reading of one answer as
Shopify documents it (201/200 done, 202 poll `Location` after `Retry-After`,
429 wait `Retry-After`, 5xx try later, other 4xx give up). What to do about
it over time (backoff, limits, deadlines) is the worker's business.
"""

import json
import math
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import unquote, urlencode, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.utils import parse_header_links
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection

from .ids import MAX_BIGINT, positive_id
from .pacing import CallPacer

MAX_BODY_CHARS = 20_000
MAX_ANSWER_BYTES = 8 * 1024 * 1024  # a page of 250 draft orders is well under this
MAX_RETRY_AFTER = 300.0
MAX_LOOKUP_PAGES = 10  # of 250 draft orders each
MAX_NAME_CHARS = 255
MAX_URL_CHARS = 2048
REDACTED = "[redacted]"

_REJECTIONS = {
    401: ("shopify_unauthorized",
          "Shopify refused the access token; check SHOPIFY_ACCESS_TOKEN."),
    402: ("shopify_payment_required", "Shopify says the shop is frozen (unpaid)."),
    403: ("shopify_forbidden",
          "The access token lacks the write_draft_orders scope."),
    404: ("shopify_not_found",
          "Shopify has no such address; check SHOPIFY_SHOP and SHOPIFY_API_VERSION."),
    422: ("shopify_rejected", "Shopify rejected the draft order."),
    423: ("shopify_locked", "Shopify says the shop is locked."),
}


# --- The shop's addresses, built here only. ---

def shop_domain(base_url):
    """The shop's host (and port, for a local simulator), as the setup page names it."""
    return urlsplit(base_url).netloc


def admin_url(base_url, path):
    """An address under the shop's /admin/: the merchant's pages, and the API
    endpoints Shopify does not version (oauth/access_scopes.json)."""
    return f"{base_url}/admin/{path}"


def admin_api_url(base_url, api_version, path):
    """An Admin REST API address, under the version the receiver speaks."""
    return admin_url(base_url, f"api/{api_version}/{path}")


def is_web_url(url):
    """Whether `url` is an http(s) address: the only links the event log makes, and
    the only invoice URLs kept (autoescaping does not stop a `javascript:` href)."""
    return isinstance(url, str) and url.lower().startswith(("https://", "http://"))


def draft_order_admin_url(base_url, draft_order_id):
    """The merchant's page of a draft order in the shop's admin."""
    return admin_url(base_url, f"draft_orders/{draft_order_id}")


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
    kind: str  # created | absent | pending | throttled | unavailable | rejected
    retry_after: float | None = None
    location: str | None = None
    draft_order: dict | None = None
    code: str | None = None
    detail: str | None = None
    nothing_created: bool = False  # a 4xx (429 included): this call created no draft


class ShopifyClient:
    def __init__(self, base_url, token, api_version, timeout, session=None, pacer=None):
        self.base_url = base_url
        self.api_version = api_version
        self.timeout = timeout
        self.pacer = pacer or CallPacer()
        self._token = token
        if session is None:
            session = requests.Session()
            for prefix in ("http://", "https://"):
                session.mount(prefix, _DeadlineAdapter())
        self._session = session

    def api_url(self, path):
        return admin_api_url(self.base_url, self.api_version, path)

    def create_draft_order(self, payload, ready=lambda: True):
        """POST the draft order, or return None if `ready()`, asked after pacing
        (which may wait), says the call may no longer leave."""
        return self._send("POST", self.api_url("draft_orders.json"), payload, ready)

    def get(self, url):
        return self._send("GET", url)

    def find_draft_order(self, attribute, value, since):
        """Page through draft orders updated since `since` (epoch seconds) for the
        one whose note attribute `attribute` is `value`: (last answer, draft or None).

        This is how a worker learns whether a POST whose answer it lost went
        through, before it posts again.
        """
        updated_at_min = datetime.fromtimestamp(since, timezone.utc).isoformat(timespec="seconds")
        url = self.api_url("draft_orders.json?" + urlencode(
            {"updated_at_min": updated_at_min, "limit": 250}))
        for _ in range(MAX_LOOKUP_PAGES):
            answer = self.get(url)
            drafts = _listed(answer)
            if answer.status != 200 or drafts is None:
                return answer, None
            for draft in drafts:
                if _carries(draft, {"name": attribute, "value": value}):
                    return answer, draft
            links = parse_header_links(answer.headers.get("Link", ""))
            following = [link["url"] for link in links if link.get("rel") == "next"]
            if not following:
                return answer, None
            try:
                url = self.trusted_url(following[0])
            except UntrustedLocation as error:
                return Answer("GET", following[0], None, str(error)), None
        # Pages left unread prove nothing: no answer, so the lookup is tried again
        # later rather than read as "no draft" (which would post a second one).
        return Answer("GET", url, None, f"more than {MAX_LOOKUP_PAGES} pages of draft orders "
                      f"to search"), None

    def trusted_url(self, location):
        """Resolve `location` against the shop and refuse any other host, and any
        address carrying the token (it would be stored, and shown in the event log)."""
        if len(location) > MAX_URL_CHARS:  # it would be stored as the event's poll_url
            raise UntrustedLocation(f"Shopify's Location is longer than {MAX_URL_CHARS} "
                                    f"characters.")
        try:
            url = urljoin(self.base_url + "/", location)
            shop, target = urlsplit(self.base_url), urlsplit(url)
        except ValueError:  # e.g. a bracketed host that is no IPv6 address
            raise UntrustedLocation("Shopify's Location is not a valid address.") from None
        if (target.scheme, target.netloc.lower()) != (shop.scheme, shop.netloc.lower()):
            raise UntrustedLocation(f"Shopify's Location points to another host: {target.netloc}")
        if self._token in unquote(url):
            raise UntrustedLocation("Shopify's Location carries the access token.")
        return url

    def _send(self, method, url, payload=None, ready=lambda: True):
        headers = {"X-Shopify-Access-Token": self._token, "Accept": "application/json"}
        self.pacer.wait()
        if not ready():
            return None
        deadline, timed_out = _Deadline(self.timeout), False
        try:
            with deadline:
                response = self._session.request(
                    method, url, json=payload, headers=headers, timeout=self.timeout,
                    # A redirect could carry the token header to another host.
                    allow_redirects=False, stream=True,
                )
                with response:
                    body = _body(response)
        except requests.Timeout:
            timed_out = True
        except requests.RequestException as error:
            if not deadline.expired:
                return Answer(method, url, None, f"connection failed: {type(error).__name__}")
        if timed_out or deadline.expired:  # a socket shut down mid-answer may look like its end
            return Answer(method, url, None, f"no answer within {self.timeout:g} seconds")
        if body is None:
            return Answer(method, url, None, f"an answer of more than {MAX_ANSWER_BYTES} bytes")
        self.pacer.observe(response.headers.get("X-Shopify-Shop-Api-Call-Limit"),
                           _retry_after_seconds(response.headers, 2.0)
                           if response.status_code == 429 else None)
        text, parsed = redacted(_text(body, response.encoding), self._token)
        return Answer(method, url, response.status_code, text[:MAX_BODY_CHARS],
                      response.headers, parsed)


# --- Reading one answer within SHOPIFY_TIMEOUT and MAX_ANSWER_BYTES. ---

_calls = threading.local()  # the _Deadline of the call this thread is making


class _Deadline:
    """The time one call may take in all. requests' timeout bounds each read of
    the socket, so an answer fed a byte at a time could last for ever; when the
    time is up, the call's socket is shut down, which ends any read blocked on it."""

    def __init__(self, seconds):
        self.expired = False
        self._connection = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self):
        _calls.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info):
        self._timer.cancel()
        _calls.deadline = None

    def watch(self, connection):
        """Called as the request leaves on `connection` (new or reused)."""
        with self._lock:
            self._connection = connection
            if self.expired:
                _shut(connection)

    def _expire(self):
        with self._lock:
            self.expired = True
            if self._connection is not None:
                _shut(self._connection)


def _shut(connection):
    sock = connection.sock
    if sock is not None:
        try:
            # socket.socket's own: an SSLSocket's would drop its TLS state under
            # the reading thread's feet.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass  # closed meanwhile


class _Watched:
    """A urllib3 connection that tells the calling thread's _Deadline about itself."""

    def request(self, *args, **kwargs):
        deadline = getattr(_calls, "deadline", None)
        if deadline is not None:
            deadline.watch(self)
        return super().request(*args, **kwargs)


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _DeadlineAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool,
                                                   "https": _WatchedHTTPSPool}


def _body(response):
    """The answer's bytes, or None past MAX_ANSWER_BYTES (read no further)."""
    body = bytearray()
    for chunk in response.iter_content(64 * 1024):
        body += chunk
        if len(body) > MAX_ANSWER_BYTES:
            return None
    return bytes(body)


def _text(body, encoding):
    try:
        return body.decode(encoding or "utf-8", errors="replace")
    except LookupError:  # a charset nobody knows
        return body.decode("utf-8", errors="replace")


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


def _retry_after_seconds(headers, default):
    """Retry-After in seconds: `default` unless it is a finite number of at least
    0, and never more than MAX_RETRY_AFTER (a `nan` or `1e999` would be stored)."""
    try:
        seconds = float(headers.get("Retry-After", default))
    except (TypeError, ValueError):
        return default
    if not math.isfinite(seconds) or seconds < 0:
        return default
    return min(seconds, MAX_RETRY_AFTER)


def _errors_text(parsed):
    """Shopify's `errors` (a string, a list, or {field: [messages]}) as one line."""
    errors = parsed.get("errors") if isinstance(parsed, dict) else None
    if isinstance(errors, dict):
        parts = []
        for name, messages in errors.items():
            messages = messages if isinstance(messages, list) else [messages]
            parts.append(f"{name}: {'; '.join(str(m) for m in messages)}")
        return "; ".join(parts)[:500]
    if isinstance(errors, list):
        return "; ".join(str(e) for e in errors)[:500]
    return str(errors)[:500] if errors else ""


def _listed(answer):
    """The draft orders a list answer holds, or None if it holds no list of them."""
    drafts = answer.json.get("draft_orders") if isinstance(answer.json, dict) else None
    return drafts if isinstance(drafts, list) else None


def _carries(draft, attribute):
    """Whether a listed draft order carries the note attribute (any shape may come)."""
    attributes = draft.get("note_attributes") if isinstance(draft, dict) else None
    return isinstance(attributes, list) and attribute in attributes


def _created(draft):
    """The draft order as the event keeps it. Its id must be a positive integer;
    a name that is no short string, or an invoice URL that is no http(s) address,
    is dropped rather than stored."""
    draft_id = positive_id(draft.get("id"), MAX_BIGINT, quoted=False)
    if draft_id is None:
        return Outcome("rejected", code="shopify_unexpected_answer",
                       detail="Shopify's draft order has no valid id.")
    name, invoice_url = draft.get("name"), draft.get("invoice_url")
    if not (isinstance(name, str) and len(name) <= MAX_NAME_CHARS):
        name = None
    if not (is_web_url(invoice_url) and len(invoice_url) <= MAX_URL_CHARS):
        invoice_url = None
    return Outcome("created", draft_order={"id": draft_id, "name": name,
                                           "invoice_url": invoice_url})


def classify(answer):
    """Read one Shopify answer as the documented protocol says to."""
    status = answer.status
    if status is None:
        return Outcome("unavailable", detail=f"Shopify did not answer: {answer.body}")
    if status in (200, 201):
        draft = answer.json.get("draft_order") if isinstance(answer.json, dict) else None
        if not isinstance(draft, dict):
            return Outcome("rejected", code="shopify_unexpected_answer",
                           detail=f"Shopify answered {status} without a draft order.")
        return _created(draft)
    if status == 202:
        location = answer.headers.get("Location")
        if not location:
            return Outcome("rejected", code="shopify_unexpected_answer",
                           detail="Shopify answered 202 without a Location to poll.")
        return Outcome("pending", location=location,
                       retry_after=_retry_after_seconds(answer.headers, 1.0))
    if status == 429:
        return Outcome("throttled", retry_after=_retry_after_seconds(answer.headers, 2.0),
                       nothing_created=True)
    if status >= 500:
        return Outcome("unavailable", detail=f"Shopify answered {status}.")
    code, detail = _REJECTIONS.get(status, (f"shopify_{status}", f"Shopify answered {status}."))
    errors = _errors_text(answer.json)
    if errors:
        detail = f"{detail} Shopify says: {errors}"
    return Outcome("rejected", code=code, detail=detail, nothing_created=400 <= status < 500)


def classify_lookup(answer, draft):
    """Read the answer to `find_draft_order`: found, surely absent, or a failure."""
    if draft is not None:
        return _created(draft)
    if answer.status == 200 and _listed(answer) is None:
        # Only a list proves there is no draft; a garbled page may pass.
        return Outcome("unavailable", detail="Shopify's list of draft orders was unreadable.")
    if answer.status == 200:
        return Outcome("absent")
    return classify(answer)
