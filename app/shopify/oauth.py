"""Shopify's OAuth, as pure rules: signed queries, the shops we may talk to,
and what the token endpoint's answers mean. No I/O here: app/shopify/tokens.py
makes the calls, app/web/auth.py serves the install's two pages.

The grants (https://shopify.dev/docs/apps/build/authentication-authorization/
access-tokens/client-credentials-grant and .../authorization-code-grant):

- client credentials: an app of the shop's own organization trades its client
  id and secret for a token of about 24 hours, with no refresh token;
- authorization code (the OAuth install): the merchant approves the app, and
  the callback's `code` is traded, with `expiring=1`, for an offline token of
  an hour and a refresh token of 90 days
  (https://shopify.dev/changelog/offline-access-tokens-now-support-expiry-and-refresh);
- refresh: a refresh token traded for a new pair. The previous refresh token
  stays usable until the new pair is first used, so a lost answer can be asked
  for again (https://shopify.dev/changelog/
  more-resilient-refreshes-for-expiring-offline-access-tokens).
"""

import hashlib
import hmac
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

# Shopify's own rule for a shop's domain in a signed query.
SHOP_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$")
# A signed launch or callback older (or younger) than this is refused: Shopify
# sends it the moment it redirects, so five minutes is clock skew and a slow
# page with room to spare, and a captured query is no good for long after.
SIGNED_QUERY_TOLERANCE = 300
MAX_TOKEN_CHARS = 512
MAX_LIFE_SECONDS = 366 * 86400  # a longer life is no answer we believe
MIN_LIFE_SECONDS = 1.0  # a shorter one would be spent before its first use
MAX_ERROR_CHARS = 200
MAX_SCOPE_CHARS = 1000  # some forty scopes

CLIENT_CREDENTIALS, INSTALLED = "client_credentials", "installed"

# OAuth errors that say the merchant's setup is wrong, not Shopify's service:
# the cart is fine, so it waits for the setup to be fixed.
SETUP_ERRORS = {
    "invalid_client": "Shopify refused the app's client id or secret: check "
                      "SHOPIFY_CLIENT_ID and SHOPIFY_CLIENT_SECRET (Dev Dashboard > the app > "
                      "Settings).",
    "shop_not_permitted": "Shopify does not let this app use the client credentials grant "
                          "on this shop (it is not a store of the app's organization): install "
                          "the app through PUBLIC_URL/auth/shopify.",
    "app_not_installed": "The app is not installed on the shop: install it from the Dev "
                         "Dashboard (the app > Home > Install app), or through "
                         "PUBLIC_URL/auth/shopify.",
    "invalid_grant": "Shopify no longer accepts the app's refresh token (expired, revoked "
                     "or the app uninstalled): install the app again through "
                     "PUBLIC_URL/auth/shopify.",
    "unauthorized_client": "Shopify does not allow this grant for the app: check the app's "
                           "distribution in the Dev Dashboard.",
    "invalid_scope": "Shopify refused the app's access scopes: check them in the Dev "
                     "Dashboard (flask --app app shopify-config prints them).",
}


@dataclass(frozen=True)
class Grant:
    """A token as the token endpoint gave it, its times in our clock's seconds."""

    access_token: str
    scope: str
    issued_at: float
    expires_at: float | None  # None: never (a legacy token)
    refresh_token: str | None = None
    refresh_expires_at: float | None = None

    @property
    def life(self) -> float | None:
        return None if self.expires_at is None else self.expires_at - self.issued_at


@dataclass(frozen=True)
class Refusal:
    """The token endpoint's no: `setup` when the merchant must fix something
    (it will not change by asking again), else a failure worth trying again."""

    code: str
    detail: str
    setup: bool


def valid_shop(shop: object) -> bool:
    return isinstance(shop, str) and len(shop) <= 255 and bool(SHOP_PATTERN.match(shop))


def query_signature(params: Mapping[str, str], secret: str) -> str:
    """The hex HMAC-SHA256 Shopify puts in a launch's or callback's `hmac`: of
    every other parameter, as decoded, sorted and joined as name=value with &
    (https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/
    authorization-code-grant#step-1-verify-the-installation-request). `%` and
    `&` in names and values, and `=` in names, are written %25, %26 and %3D as
    Shopify's verification rule says, so that no value can pass for two
    parameters ({"a": "1&b=2"} and {"a": "1", "b": "2"} sign apart)."""
    message = "&".join(f"{_escaped(name, '=')}={_escaped(value)}"
                       for name, value in sorted(params.items())
                       if name not in ("hmac", "signature"))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _escaped(text: str, also: str = "") -> str:
    text = text.replace("%", "%25").replace("&", "%26")
    return text.replace("=", "%3D") if also else text


def signed(params: Mapping[str, str], secrets: Iterable[str]) -> bool:
    """Whether `params` carry a valid `hmac` by any of `secrets` (the current
    client secret, and the previous one during a rotation), compared in
    constant time."""
    given = params.get("hmac", "")
    if not isinstance(given, str) or not given:
        return False
    return signed_by_any(given, secrets, lambda secret: query_signature(params, secret))


def signed_by_any(given: str, secrets: Iterable[str], sign: Callable[[str], str]) -> bool:
    """Whether the hex signature `given` (any case) is `sign(secret)` for one of
    `secrets` (empty ones skipped), compared in constant time: the rule of every
    signed query Shopify sends (OAuth's `hmac`, the app proxy's `signature`)."""
    expected = given.lower().encode("utf-8", "replace")
    return any(hmac.compare_digest(sign(secret).encode(), expected)
               for secret in secrets if secret)


def fresh(timestamp: object, now: float, tolerance: float = SIGNED_QUERY_TOLERANCE) -> bool:
    """Whether a signed query's `timestamp` (whole seconds) is within `tolerance` of now."""
    if not (isinstance(timestamp, str) and timestamp.isascii() and timestamp.isdigit()
            and len(timestamp) <= 12):
        return False
    return abs(now - int(timestamp)) <= tolerance


def authorize_url(base_url: str, client_id: str, redirect_uri: str, state: str) -> str:
    """Where the merchant approves the install. No `grant_options[]=per-user`:
    we want an offline token, which works with nobody signed in."""
    query = urlencode({"client_id": client_id, "redirect_uri": redirect_uri, "state": state})
    return f"{base_url}/admin/oauth/authorize?{query}"


def client_credentials_form(client_id: str, secret: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}


def code_form(client_id: str, secret: str, code: str) -> dict[str, str]:
    return {"client_id": client_id, "client_secret": secret, "code": code, "expiring": "1"}


def refresh_form(client_id: str, secret: str, refresh_token: str) -> dict[str, str]:
    return {"grant_type": "refresh_token", "client_id": client_id, "client_secret": secret,
            "refresh_token": refresh_token}


def _secret_text(value: object) -> str | None:
    if (isinstance(value, str) and 0 < len(value) <= MAX_TOKEN_CHARS and value.isascii()
            and value.isprintable() and " " not in value):
        return value
    return None


def _seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or not MIN_LIFE_SECONDS <= value <= MAX_LIFE_SECONDS:
        return None
    return float(value)


def read_grant(status: int | None, parsed: object, issued_at: float) -> Grant | Refusal:
    """The token endpoint's answer: a Grant, or why not. Everything in it is
    untrusted: a token that is no short printable string, or a life that is no
    positive number of seconds under a year, makes the answer unreadable
    (tried again later, as a 5xx is)."""
    if status is None:
        return Refusal("token_endpoint_unavailable", "Shopify's token endpoint did not answer.",
                       setup=False)
    if status == 200:
        body = parsed if isinstance(parsed, dict) else {}
        token = _secret_text(body.get("access_token"))
        life = _seconds(body.get("expires_in"))
        scope = body.get("scope")
        refresh = body.get("refresh_token")
        refresh_life = _seconds(body.get("refresh_token_expires_in"))
        if token is None or ("expires_in" in body and life is None) or (
                refresh is not None and (_secret_text(refresh) is None or refresh_life is None)):
            return Refusal("token_answer_unreadable",
                           "Shopify's token endpoint answered 200 without a readable token.",
                           setup=False)
        scope = scope if isinstance(scope, str) and len(scope) <= MAX_SCOPE_CHARS \
            and scope.isprintable() else ""  # doctor and /admin show it
        return Grant(token, scope, issued_at,
                     None if life is None else issued_at + life,
                     refresh,
                     None if refresh is None or refresh_life is None else issued_at + refresh_life)
    error = parsed.get("error") if isinstance(parsed, dict) else None
    error = error[:MAX_ERROR_CHARS] if isinstance(error, str) and error.isprintable() else None
    if 400 <= status < 500 and status != 429:
        code = error or f"http_{status}"
        return Refusal(code, SETUP_ERRORS.get(
            code, f"Shopify's token endpoint refused the app ({status} {code}): check "
                  f"SHOPIFY_CLIENT_ID, SHOPIFY_CLIENT_SECRET and SHOPIFY_SHOP."), setup=True)
    return Refusal("token_endpoint_unavailable",
                   f"Shopify's token endpoint answered {status}.", setup=False)
