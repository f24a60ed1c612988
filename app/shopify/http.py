"""One shop's HTTP calls, for both APIs and the token endpoint: the token
header, a total deadline per call, a cap on what an answer may weigh,
redaction of the token, and the rule that only the shop's own addresses are
followed.

Pacing is the backends' business (REST counts calls, GraphQL cost points), so
`send` makes one call now (two when a 401 asks for a renewed token).
"""

import socket
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, overload
from urllib.parse import unquote, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection

from .answers import MAX_URL_CHARS, Answer, UntrustedLocation, redacted

if TYPE_CHECKING:  # tokens.py imports this module
    from .tokens import Tokens

MAX_BODY_CHARS = 20_000  # of an answer, as the event log keeps it
MAX_ANSWER_BYTES = 8 * 1024 * 1024  # a page of 250 draft orders is well under this


class Transport:
    """Calls with the shop's token, from `tokens` (app/shopify/tokens.py): a
    legacy token as it is, or one the app's credentials keep fresh."""

    def __init__(self, base_url: str, tokens: "Tokens", timeout: float,
                 session: requests.Session | None = None):
        self.base_url = base_url
        self.timeout = timeout
        self.tokens = tokens
        # The token of the latest call, which its answer may echo.
        self._last_token: str | None = None
        self._session = deadline_session() if session is None else session

    def trusted_url(self, location: str) -> str:
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
        if self._last_token and self._last_token in unquote(url):
            raise UntrustedLocation("Shopify's Location carries the access token.")
        return url

    @overload
    def send(self, method: str, url: str, payload: Mapping[str, object] | None = None,
             ready: None = None) -> Answer: ...

    @overload
    def send(self, method: str, url: str, payload: Mapping[str, object] | None,
             ready: Callable[[], bool] | None) -> Answer | None: ...

    def send(self, method: str, url: str, payload: Mapping[str, object] | None = None,
             ready: Callable[[], bool] | None = None) -> Answer | None:
        """Make one call: an Answer (status None when none came in time), or
        None when `ready()`, asked once the token is in hand, says the call may
        no longer leave.

        A 401 means the call did nothing: a renewable token is renewed once
        and the call made again with the new one (tokens.refused); never more.
        Raises tokens.CredentialsUnavailable or tokens.TokenUnavailable when no
        token can be had, before anything leaves.
        """
        token = self.tokens.current()
        if ready is not None and not ready():
            return None
        answer = self._send(method, url, payload, token)
        if answer.status == 401:
            renewed = self.tokens.refused(token)
            if renewed is None:
                return answer
            # The renewal took time: the call is flagged (and the lease checked) anew.
            if ready is not None and not ready():
                return None
            answer = self._send(method, url, payload, renewed)
            if answer.status == 401:
                self.tokens.revoked()  # raises: carts wait for the merchant
        if answer.status is not None and answer.status < 500:  # the token was taken
            self.tokens.worked()
        return answer

    def _send(self, method: str, url: str, payload: Mapping[str, object] | None,
              token: str) -> Answer:
        self._last_token = token
        headers = {"X-Shopify-Access-Token": token, "Accept": "application/json"}
        exchanged = exchange(self._session, method, url, self.timeout, headers=headers,
                             json=payload)
        if isinstance(exchanged, str):
            return Answer(method, url, None, exchanged)
        text, parsed = redacted(exchanged.text, token)
        return Answer(method, url, exchanged.status, text[:MAX_BODY_CHARS],
                      exchanged.headers, parsed)


class Exchanged(NamedTuple):
    status: int
    text: str
    headers: Mapping[str, str]  # the answer's headers, case-insensitive


def exchange(session: requests.Session, method: str, url: str, timeout: float, *,
             headers: Mapping[str, str], json: Mapping[str, object] | None = None,
             data: Mapping[str, str] | None = None) -> Exchanged | str:
    """One HTTP call within `timeout` in all, its answer read up to
    MAX_ANSWER_BYTES: Exchanged, or why there is none, in a sentence. Never
    follows a redirect, which could carry a secret to another host."""
    deadline, timed_out = Deadline(timeout), False
    try:
        with deadline:
            response = session.request(method, url, timeout=timeout, allow_redirects=False,
                                       stream=True, headers=headers, json=json, data=data)
            with response:
                body = _body(response)
    except requests.Timeout:
        timed_out = True
    except requests.RequestException as error:
        if not deadline.expired:
            return f"connection failed: {type(error).__name__}"
    if timed_out or deadline.expired:  # a socket shut down mid-answer may look like its end
        return f"no answer within {timeout:g} seconds"
    if body is None:
        return f"an answer of more than {MAX_ANSWER_BYTES} bytes"
    return Exchanged(response.status_code, _text(body, response.encoding), response.headers)


# --- Reading one answer within SHOPIFY_TIMEOUT and MAX_ANSWER_BYTES. ---

_calls = threading.local()  # the Deadline of the call this thread is making


class Connection(Protocol):
    """What a Deadline shuts down: a connection with a socket once connected
    (urllib3's, for Shopify; smtplib's, for the merchant's mail)."""

    @property
    def sock(self) -> socket.socket | None: ...


def deadline_session() -> requests.Session:
    """A requests session whose calls a Deadline, entered around them, can end."""
    session = requests.Session()
    for prefix in ("http://", "https://"):
        session.mount(prefix, _DeadlineAdapter())
    return session


class Deadline:
    """The time one call may take in all. requests' timeout bounds each read of
    the socket, so an answer fed a byte at a time could last for ever; when the
    time is up, the call's socket is shut down, which ends any read blocked on it."""

    def __init__(self, seconds: float):
        self.expired = False
        self._connection: Connection | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> "Deadline":
        _calls.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        _calls.deadline = None

    def watch(self, connection: Connection) -> None:
        """Called as the request leaves on `connection` (new or reused)."""
        with self._lock:
            self._connection = connection
            if self.expired:
                _shut(connection)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            if self._connection is not None:
                _shut(self._connection)


def _shut(connection: Connection) -> None:
    sock = connection.sock
    if sock is not None:
        try:
            # socket.socket's own: an SSLSocket's would drop its TLS state under
            # the reading thread's feet.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass  # closed meanwhile


# _Watched is mixed into urllib3's connections: type-checked as one of them.
if TYPE_CHECKING:
    _Connection = HTTPConnection
else:
    _Connection = object


class _Watched(_Connection):
    """A urllib3 connection that tells the calling thread's Deadline about itself."""

    # The arguments pass through unread: urllib3's, whatever its version takes (Any).
    def request(self, *args: Any, **kwargs: Any) -> None:
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
    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False,
                         **pool_kwargs: object) -> None:
        super().init_poolmanager(connections, maxsize, block=block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool,
                                                   "https": _WatchedHTTPSPool}


def _body(response: requests.Response) -> bytes | None:
    """The answer's bytes, or None past MAX_ANSWER_BYTES (read no further)."""
    body = bytearray()
    for chunk in response.iter_content(64 * 1024):
        body += chunk
        if len(body) > MAX_ANSWER_BYTES:
            return None
    return bytes(body)


def _text(body: bytes, encoding: str | None) -> str:
    try:
        return body.decode(encoding or "utf-8", errors="replace")
    except LookupError:  # a charset nobody knows
        return body.decode("utf-8", errors="replace")
