"""A guest's form against bots, without a third party: a honeypot field, and a
minimum fill time.

The fill time is read from a form token our server signs (itsdangerous, with
SECRET_KEY) when the storefront script fetches the guest form (`GET
/guest-form`) as the page loads. The token carries only the moment it was
issued, so it needs no secret in the theme: it works under the legacy snippet
and behind an app proxy alike. A post sooner than GUEST_MIN_FILL_SECONDS after
that moment is a bot's, and so is a token older than MAX_FORM_AGE (one token
must not serve a bot for ever), one from the future, or none.

Every one of these refusals is the same answer, `refused()`: a bot learns
nothing of which check caught it. The precise reason goes to the log line only.
Pure functions; the clock is a parameter.
"""

import math
from collections.abc import Mapping

from itsdangerous import BadSignature, URLSafeSerializer

from .errors import ApiError

FORM_SALT = "guest-form"
MAX_FORM_AGE = 24 * 3600  # a cart page left open longer is reloaded
MAX_CLOCK_SKEW = 5  # our own processes' clocks; the token never leaves our hands unsigned
MAX_TOKEN_CHARS = 200
HONEYPOT = "website"  # the hidden field's name in the body's `guest` object

REFUSED_DETAIL = ("We couldn't accept this form. Please wait a moment and send it again; "
                  "if that does not help, contact the store.")


def refused(reason: str) -> ApiError:
    """The one answer to a submission a spam check refused; `reason` is logged only."""
    return ApiError(422, "submission_refused", REFUSED_DETAIL, log=f"guest form refused: {reason}")


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=FORM_SALT)


def issue_token(secret_key: str, now: float) -> str:
    """The form token for a page that fetched the guest form at `now`."""
    return _serializer(secret_key).dumps(math.floor(now * 1000))


def issued_at(token: object, secret_key: str) -> float | None:
    """When the form token was issued (epoch seconds), or None for a token we did not sign."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        return None
    try:
        millis = _serializer(secret_key).loads(token)
    except BadSignature:
        return None
    if not isinstance(millis, int) or isinstance(millis, bool) or millis < 0:
        return None
    return millis / 1000


def check(guest: Mapping[str, object], secret_key: str, min_seconds: int, now: float) -> None:
    """Raise `refused()` unless the guest's form looks a person's: the honeypot
    empty, and the form token ours, at least `min_seconds` and at most
    MAX_FORM_AGE old (`min_seconds` 0: the token is not read)."""
    trap = guest.get(HONEYPOT)
    if trap not in (None, ""):
        raise refused("the honeypot field was filled")
    if min_seconds == 0:  # GUEST_MIN_FILL_SECONDS=0: no wait, so no token needed
        return
    issued = issued_at(guest.get("form_token"), secret_key)
    if issued is None:
        raise refused("no form token of ours")
    age = now - issued
    if age < -MAX_CLOCK_SKEW or age > MAX_FORM_AGE:
        raise refused(f"the form token is {age:.0f} s old")
    if age < min_seconds:
        raise refused(f"posted {age:.1f} s after the form was fetched (minimum {min_seconds} s)")
