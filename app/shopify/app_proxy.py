"""Shopify's app proxy, as pure rules: the signed query Shopify appends to each
request it forwards from the shop's domain (`/apps/<subpath>/…`) to the app's
proxy URL. No I/O here: app/intake/proxy.py serves the proxied routes.

Shopify's rule (https://shopify.dev/docs/apps/build/online-store/app-proxies/
authenticate-app-proxies): Shopify adds `shop` (its myshopify domain),
`logged_in_customer_id` (empty for a guest), `path_prefix` (`/apps/<subpath>`
as the merchant set it), `timestamp` (unix seconds) and `signature`: the hex
HMAC-SHA256, keyed with the app's client secret, of the other parameters as
`name=value`, values URL-decoded, a repeated name's values joined by ",", the
pairs sorted and concatenated with no separator. It differs from OAuth's
`hmac` (oauth.query_signature: pairs joined by "&", escaped), so it has its
own function here; the secrets, the shop's pattern and the clock rule are
oauth's. Configuration: https://shopify.dev/docs/apps/build/online-store/
app-proxies and the `[app_proxy]` table of
https://shopify.dev/docs/apps/build/cli-for-apps/app-configuration.
"""

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..ids import MAX_BIGINT, positive_id
from .oauth import SIGNED_QUERY_TOLERANCE, fresh, signed_by_any, valid_shop

PREFIX = "apps"  # the storefront's /apps/<subpath>/… (shopify.app.toml's prefix)
PATH = "/proxy"  # under PUBLIC_URL: the proxy URL shopify.app.toml declares
# A merchant may move the proxy under another of Shopify's prefixes.
_PATH_PREFIX = re.compile(r"^/(apps|a|community|tools)/[A-Za-z0-9_-]{1,30}$")

# Shopify documents no age limit for a proxied request's `timestamp`. Shopify
# signs it the moment it forwards the shopper's request, so anything older than
# OAuth's five minutes is a clock to fix or a captured query, and the replay
# guard (app/intake/replays.py) needs to remember a signature only this long.
TOLERANCE = SIGNED_QUERY_TOLERANCE
# Shopify adds five parameters; the storefront script sends none of its own.
# A longer or larger query is nobody's proxied request: refused before hashing.
MAX_PARAMS = 20
MAX_QUERY_BYTES = 4096
SIGNED_NAMES = ("shop", "logged_in_customer_id", "path_prefix", "timestamp", "signature")


@dataclass(frozen=True)
class ProxyQuery:
    """What a verified query vouches for: the shop, the signed-in customer (None
    for a guest), the storefront path the shopper used, and the signature
    itself (the replay guard's key)."""

    shop: str
    customer_id: int | None
    path_prefix: str
    timestamp: int
    signature: str


@dataclass(frozen=True)
class Refused:
    """Why a query is no proxied request of Shopify's: `code` is
    signature_missing, signature_invalid or signature_expired; `reason` is for
    the log line only."""

    code: str
    reason: str


def proxy_signature(pairs: Iterable[tuple[str, str]], secret: str) -> str:
    """The `signature` Shopify computes over `pairs` (decoded name, value in
    the query's order; `signature` itself left out)."""
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        if name != "signature":
            values.setdefault(name, []).append(value)
    message = "".join(sorted(f"{name}={','.join(joined)}" for name, joined in values.items()))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def signed_query(pairs: Sequence[tuple[str, str]], secret: str) -> list[tuple[str, str]]:
    """`pairs` with Shopify's signature appended, as the simulator's storefront
    (app/dev) and the tests forward a request."""
    return [*pairs, ("signature", proxy_signature(pairs, secret))]


def _customer(raw: str) -> int | None | Refused:
    if raw == "":
        return None
    customer_id = positive_id(raw, MAX_BIGINT)
    if customer_id is None:
        return Refused("signature_invalid", "logged_in_customer_id is not a customer id")
    return customer_id


def read_query(pairs: Sequence[tuple[str, str]], query_bytes: int, secrets: Iterable[str],
               now: float, tolerance: float = TOLERANCE) -> ProxyQuery | Refused:
    """The proxied request's signed query, or why it is none: bounded first,
    then the signature (by any of `secrets`, compared in constant time:
    oauth.signed_by_any, as OAuth's `hmac`), then its age and fields. Each of
    Shopify's names must occur exactly once."""
    if query_bytes > MAX_QUERY_BYTES or len(pairs) > MAX_PARAMS:
        return Refused("signature_invalid", f"the query has {len(pairs)} parameters in "
                       f"{query_bytes} bytes, more than a proxied request's")
    given: dict[str, str] = {}
    for name, value in pairs:
        if name in SIGNED_NAMES:
            if name in given:
                return Refused("signature_invalid", f"{name} is repeated in the query")
            given[name] = value
    if "signature" not in given:
        return Refused("signature_missing", "the query carries no app proxy signature; "
                       "the storefront must post through the shop's /apps/ path")
    if not signed_by_any(given["signature"], secrets,
                         lambda secret: proxy_signature(pairs, secret)):
        return Refused("signature_invalid", "the app proxy signature does not match "
                       "SHOPIFY_CLIENT_SECRET (or SHOPIFY_CLIENT_SECRET_PREVIOUS)")
    missing = [name for name in SIGNED_NAMES if name not in given]
    if missing:
        return Refused("signature_invalid", f"the signed query lacks {', '.join(missing)}")
    if not fresh(given["timestamp"], now, tolerance):
        return Refused("signature_expired", f"the signed query's timestamp is more than "
                       f"{tolerance:.0f} s from now; check the receiver's clock")
    customer = _customer(given["logged_in_customer_id"])
    if isinstance(customer, Refused):
        return customer
    if not valid_shop(given["shop"]) or not _PATH_PREFIX.match(given["path_prefix"]):
        return Refused("signature_invalid", "the signed shop or path_prefix is malformed")
    return ProxyQuery(given["shop"].lower(), customer, given["path_prefix"],
                      int(given["timestamp"]), given["signature"].lower())


def configured_shop(base_url: str) -> str | None:
    """The myshopify domain SHOPIFY_SHOP names, or None when it is a base URL
    (a simulator, a test server): then the Admin API names the shop."""
    host = urlsplit(base_url).netloc.lower()
    return host if urlsplit(base_url).scheme == "https" and valid_shop(host) else None


def shopper_address(forwarded_for: str | None, trusted_proxies: int) -> str | None:
    """The shopper's address on a proxied request: the X-Forwarded-For entry
    Shopify appended ("X-Forwarded-For: The client IP address", in
    authenticate-app-proxies above), which is the last one before the entries
    our own `trusted_proxies` (TRUSTED_PROXIES) appended after it. Entries
    further left are whatever the shopper's browser sent: not trusted. None
    when there is no such entry or it is no IP address.

    Only for a request whose proxy signature verified: anybody else can send
    any X-Forwarded-For."""
    # The trusted entries are the rightmost: a long header is cut from its left.
    entries = [entry.strip() for entry in (forwarded_for or "")[-2048:].split(",")]
    if len(entries) <= trusted_proxies or not entries[-1 - trusted_proxies]:
        return None
    try:
        return str(ipaddress.ip_address(entries[-1 - trusted_proxies]))
    except ValueError:
        return None
