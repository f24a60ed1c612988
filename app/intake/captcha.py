"""The optional CAPTCHA: Cloudflare Turnstile, hCaptcha or Google reCAPTCHA.

The page shows the provider's widget with the (public) site key; the widget
gives the shopper's browser a token, which the guest form posts with the cart.
The receiver asks the provider's verify endpoint whether that token is good,
sending the secret key, which never reaches the page. All three endpoints take
the same form-encoded POST (`secret`, `response`, `remoteip`) and answer JSON
with a boolean `success`:

- Turnstile: https://developers.cloudflare.com/turnstile/get-started/server-side-validation/
  (tokens are single-use and expire after 300 s)
- hCaptcha: https://docs.hcaptcha.com/#verify-the-user-response-server-side
- reCAPTCHA: https://developers.google.com/recaptcha/docs/verify

The call has a deadline (VERIFY_TIMEOUT). A provider that cannot be reached, or
answers anything but JSON with a boolean `success`, raises Unavailable: the
caller then refuses the form with a retryable 503 (it fails closed), because a
CAPTCHA that lets everybody through while it is down is what a bot would wait for.
"""

import json
import time
from dataclasses import dataclass

import requests

VERIFY_TIMEOUT = 5.0  # seconds to connect, and seconds for each read of the answer
MAX_TOKEN_CHARS = 4096  # Turnstile's are up to 2048 characters
MAX_ANSWER_BYTES = 16 * 1024  # a verify answer is a few hundred bytes


@dataclass(frozen=True)
class Provider:
    verify_url: str
    script_url: str    # the widget's script, for the storefront
    widget_class: str  # the element the script turns into the widget
    response_field: str  # the hidden input the widget fills with its token


PROVIDERS = {
    "turnstile": Provider("https://challenges.cloudflare.com/turnstile/v0/siteverify",
                          "https://challenges.cloudflare.com/turnstile/v0/api.js",
                          "cf-turnstile", "cf-turnstile-response"),
    "hcaptcha": Provider("https://api.hcaptcha.com/siteverify", "https://js.hcaptcha.com/1/api.js",
                         "h-captcha", "h-captcha-response"),
    "recaptcha": Provider("https://www.google.com/recaptcha/api/siteverify",
                          "https://www.google.com/recaptcha/api.js",
                          "g-recaptcha", "g-recaptcha-response"),
}


class Unavailable(Exception):
    """The provider gave no usable answer in time; the message never holds the secret."""


def verify(provider: str, secret: str, token: object, remote_ip: str | None,
           verify_url: str | None = None, session: requests.Session | None = None,
           timeout: float = VERIFY_TIMEOUT) -> bool:
    """Whether the provider accepts `token` (a missing or oversized one is not
    sent: False). Raises Unavailable when the provider cannot say."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        return False
    url = verify_url or PROVIDERS[provider].verify_url
    form = {"secret": secret, "response": token}
    if remote_ip:
        form["remoteip"] = remote_ip
    try:
        answer = (session or requests).post(url, data=form, timeout=(timeout, timeout),
                                            allow_redirects=False, stream=True)
        with answer:
            document = _json(answer, time.monotonic() + timeout) \
                if answer.status_code == 200 else None
    except (requests.RequestException, ValueError, RecursionError) as error:
        raise Unavailable(f"{provider} verify endpoint: {type(error).__name__}") from None
    if not isinstance(document, dict) or not isinstance(document.get("success"), bool):
        raise Unavailable(f"{provider} verify endpoint answered {answer.status_code} "
                          f"without a success flag")
    return document["success"] is True


def _json(answer: requests.Response, deadline: float) -> object:
    """The answer's JSON, read to at most MAX_ANSWER_BYTES and until `deadline`
    (a provider trickling its answer is as good as none); ValueError otherwise."""
    body = b""
    for chunk in answer.iter_content(4096):
        body += chunk
        if len(body) > MAX_ANSWER_BYTES or time.monotonic() > deadline:
            raise ValueError("the answer is too large or too slow")
    return json.loads(body)
