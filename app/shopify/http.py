"""One shop's HTTP calls, for both APIs: the token header, a total deadline per
call, a cap on what an answer may weigh, redaction of the token, and the rule
that only the shop's own addresses are followed.

Pacing is the backends' business (REST counts calls, GraphQL cost points), so
`send` makes exactly one call, now.
"""

import socket
import threading
from urllib.parse import unquote, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection

from .answers import MAX_URL_CHARS, Answer, UntrustedLocation, redacted

MAX_BODY_CHARS = 20_000  # of an answer, as the event log keeps it
MAX_ANSWER_BYTES = 8 * 1024 * 1024  # a page of 250 draft orders is well under this


class Transport:
    def __init__(self, base_url, token, timeout, session=None):
        self.base_url = base_url
        self.timeout = timeout
        self._token = token
        self._session = deadline_session() if session is None else session

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

    def send(self, method, url, payload=None):
        """Make one call: an Answer, with status None when none came in time."""
        headers = {"X-Shopify-Access-Token": self._token, "Accept": "application/json"}
        deadline, timed_out = Deadline(self.timeout), False
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
        text, parsed = redacted(_text(body, response.encoding), self._token)
        return Answer(method, url, response.status_code, text[:MAX_BODY_CHARS],
                      response.headers, parsed)


# --- Reading one answer within SHOPIFY_TIMEOUT and MAX_ANSWER_BYTES. ---

_calls = threading.local()  # the Deadline of the call this thread is making


def deadline_session():
    """A requests session whose calls a Deadline, entered around them, can end."""
    session = requests.Session()
    for prefix in ("http://", "https://"):
        session.mount(prefix, _DeadlineAdapter())
    return session


class Deadline:
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
    """A urllib3 connection that tells the calling thread's Deadline about itself."""

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
