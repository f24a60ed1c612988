"""The OAuth install, for a custom-distribution app on a shop outside the app's
organization (an agency's client): `GET /auth/shopify` is the app URL Shopify
opens, signed, when the merchant installs the app; `GET /auth/shopify/callback`
is the redirect URL it comes back to with a code, which we trade for an
expiring offline token (app/shopify/tokens.py keeps and renews it).

Both refuse, with a 4xx and no code exchange, a query whose `hmac` no client
secret of ours made, a stale `timestamp`, or a `shop` that is not a
myshopify.com domain (nor the configured shop, when SHOPIFY_SHOP names one).
The callback also needs the `state` we issued to this browser, in a cookie
and in the store, and uses it up
(https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/
authorization-code-grant).
"""

import hmac
import secrets
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request
from flask.typing import ResponseReturnValue

from ..config import client_secrets, dev_dashboard
from ..shopify import shop_domain
from ..shopify.oauth import Refusal, authorize_url, fresh, signed, valid_shop
from .page_headers import protect

APP_PATH = "/auth/shopify"  # the app URL, where the shop's admin opens the app
CALLBACK_PATH = "/auth/shopify/callback"  # the redirect URL of the OAuth grant

bp = Blueprint("auth", __name__, url_prefix=APP_PATH)
protect(bp)

STATE_COOKIE = "shopify_oauth_state"
STATE_MAX_AGE = 600  # seconds from the launch to the callback: the merchant reads a page
MAX_PARAM_CHARS = 1024
MAX_PARAMS = 16  # Shopify sends six or so; more is no query of Shopify's


class Refused(Exception):
    """A launch or callback we turn away, in words for the merchant's browser."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@bp.errorhandler(Refused)
def refused(error: Refused) -> ResponseReturnValue:
    current_app.logger.warning("OAuth %s refused: %s", request.path, error.code)
    return _page("Not installed", error.message, code=error.code, status=error.status)


def _page(title: str, message: str, ok: bool = False, code: str | None = None,
          next_step: str | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("auth/result.html", title=title, message=message, ok=ok, code=code,
                           next_step=next_step), status


def _signed_query(settings: Mapping[str, Any]) -> dict[str, str]:
    """The query, if Shopify signed it for this shop just now; else Refused."""
    if not dev_dashboard(settings):
        raise Refused(404, "not_found", "This receiver is connected with a legacy access "
                                        "token: there is no app to install.")
    if not settings.get("PUBLIC_URL"):
        raise Refused(503, "public_url_unset", "Set PUBLIC_URL to this receiver's public "
                                               "address first: the install comes back to it.")
    given = list(request.args.lists())
    if len(given) > MAX_PARAMS or any(
            len(values) != 1 or len(name) > 64 or len(values[0]) > MAX_PARAM_CHARS
            for name, values in given):
        raise Refused(400, "query_invalid", "This address takes Shopify's signed query, "
                                            "each parameter once.")
    params = {name: values[0] for name, values in given}
    if not signed(params, client_secrets(settings)):
        raise Refused(401, "hmac_invalid", "Shopify's signature (hmac) does not match: open the "
                                           "app from the Dev Dashboard or the Shopify admin.")
    if not fresh(params.get("timestamp"), time.time()):
        raise Refused(400, "timestamp_stale", "This link has expired: open the app again from "
                                              "the Dev Dashboard or the Shopify admin.")
    shop = params.get("shop", "")  # missing: "" fails valid_shop as None would
    configured = shop_domain(settings["SHOPIFY_BASE_URL"])
    # When SHOPIFY_SHOP is a base URL (a simulator, a test server), any
    # myshopify.com shop is taken; when it names a shop, only that one.
    if not valid_shop(shop) or (valid_shop(configured) and shop.lower() != configured):
        raise Refused(403, "shop_invalid", "This receiver serves another shop (SHOPIFY_SHOP).")
    return params


def _callback_url(settings: Mapping[str, Any]) -> str:
    public: str = settings["PUBLIC_URL"]
    return public + CALLBACK_PATH


@bp.get("")
def launch() -> ResponseReturnValue:
    """Shopify opens the app: send the merchant to approve it, with a state
    kept in the store and in this browser."""
    settings = current_app.config
    _signed_query(settings)
    state = secrets.token_urlsafe(32)
    current_app.extensions["store"].add_oauth_state(state, time.time(), STATE_MAX_AGE)
    response = redirect(authorize_url(settings["SHOPIFY_BASE_URL"], settings["SHOPIFY_CLIENT_ID"],
                                      _callback_url(settings), state))
    # Lax: sent on Shopify's top-level redirect back to us. Secure on https
    # only, so that a plain http://127.0.0.1 (which browsers allow for loopback)
    # works as well.
    response.set_cookie(STATE_COOKIE, state, max_age=STATE_MAX_AGE, path=APP_PATH,
                        httponly=True, samesite="Lax",
                        secure=urlsplit(settings["PUBLIC_URL"]).scheme == "https")
    return response


@bp.get("/callback")
def callback() -> ResponseReturnValue:
    """The merchant approved: check everything, then trade the code once."""
    settings = current_app.config
    params = _signed_query(settings)
    state, cookie = params.get("state", ""), request.cookies.get(STATE_COOKIE, "")
    if not (state and cookie and hmac.compare_digest(state.encode(), cookie.encode())):
        raise Refused(403, "state_invalid", "This install was not started in this browser: "
                                            "open the app again from the Dev Dashboard or the "
                                            "Shopify admin.")
    if not current_app.extensions["store"].take_oauth_state(state, time.time(), STATE_MAX_AGE):
        raise Refused(403, "state_used", "This install link was already used or has expired: "
                                         "open the app again.")
    code = params.get("code", "")
    if not (code and code.isascii() and code.isprintable()):
        raise Refused(400, "code_missing", "Shopify's answer carries no code.")
    result = current_app.extensions["shopify"].tokens.install(code)
    if isinstance(result, Refusal):
        current_app.logger.warning("OAuth install: the code exchange failed: %s", result.code)
        return _page("Not installed", result.detail, code=result.code,
                     status=400 if result.setup else 502)
    current_app.extensions["worker"].notify()  # carts that waited for a token go now
    response = current_app.make_response(_page(
        "Connected", f"The app is installed on {params['shop']}. Its access token renews by "
                     f"itself; carts become draft orders.", ok=True,
        next_step="Run `flask --app app doctor` to check the scopes and webhooks."))
    response.delete_cookie(STATE_COOKIE, path=APP_PATH)
    return response
