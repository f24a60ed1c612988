"""The shopify.app.toml of this receiver, for the Dev Dashboard or `shopify app
deploy`: `flask --app app shopify-config` prints it.

Since 2026-01-01 a new app comes from the Dev Dashboard or Shopify CLI, and its
configuration file declares its access scopes, its URLs and its webhook
subscriptions, and its app proxy. Key names follow Shopify's reference of the
file (https://shopify.dev/docs/apps/build/cli-for-apps/app-configuration). The
scopes are `scopes.required_scopes`, so doctor checks the token for exactly
what the file asks for; the webhooks are those the receiver follows.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from ..shopify.app_proxy import PATH as PROXY_PATH
from ..shopify.app_proxy import PREFIX as PROXY_PREFIX
from ..shopify.compliance import COMPLIANCE_TOPICS
from ..shopify.scopes import required_scopes
from ..shopify.webhooks import PATH as WEBHOOKS_PATH
from ..shopify.webhooks import TOPICS
from ..web.auth import APP_PATH, CALLBACK_PATH

DEFAULT_NAME = "Cart to draft order"
# Subscriptions a shopify.app.toml declares are the app's own: the
# webhookSubscriptions API lists only the shop's, made through it
# (https://shopify.dev/docs/apps/build/webhooks/subscribe).
DECLARED_WEBHOOKS = ("under Dev Dashboard credentials the subscriptions are declared in "
                     "shopify.app.toml (`flask --app app shopify-config`, then `shopify app "
                     "deploy`), which the Admin API cannot list")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
            "\r": "\\r"}


def toml_string(value: str) -> str:
    """`value` as a TOML basic string: quotes, backslashes and control
    characters escaped (https://toml.io/en/v1.0.0#string)."""
    return '"' + "".join(
        _ESCAPES.get(char) or (f"\\u{ord(char):04X}" if ord(char) < 0x20 or ord(char) == 0x7F
                               else char)
        for char in value) + '"'


def _array(values: Sequence[str]) -> str:
    return "[" + ", ".join(toml_string(value) for value in values) + "]"


# The settings the file cannot do without, and what each is.
NEEDED = {"SHOPIFY_CLIENT_ID": "the app's client id in the Dev Dashboard",
          "PUBLIC_URL": "the receiver's public https address"}


def missing_settings(settings: Mapping[str, Any]) -> list[str]:
    """The NEEDED settings that are unset, each named with what it is."""
    return [f"{name} ({what})" for name, what in NEEDED.items() if not settings.get(name)]


def app_toml(settings: Mapping[str, Any], name: str = DEFAULT_NAME) -> str:
    """The file for `settings` (which must have no missing_settings)."""
    public = settings["PUBLIC_URL"]
    return "\n".join([
        "# shopify.app.toml made by `flask --app app shopify-config`; reference:",
        "# https://shopify.dev/docs/apps/build/cli-for-apps/app-configuration",
        f"client_id = {toml_string(settings['SHOPIFY_CLIENT_ID'])}",
        f"name = {toml_string(name)}",
        f"application_url = {toml_string(public + APP_PATH)}",
        "embedded = false",
        "",
        "[access_scopes]",
        f"scopes = {toml_string(','.join(required_scopes(settings)))}",
        "",
        "[auth]",
        f"redirect_urls = {_array([public + CALLBACK_PATH])}",
        "",
        "[webhooks]",
        f"api_version = {toml_string(settings['SHOPIFY_API_VERSION'])}",
        "",
        "[[webhooks.subscriptions]]",
        f"topics = {_array(TOPICS)}",
        # Declared here only: no API subscribes them
        # (https://shopify.dev/docs/apps/build/privacy-law-compliance).
        f"compliance_topics = {_array(COMPLIANCE_TOPICS)}",
        f"uri = {toml_string(public + WEBHOOKS_PATH)}",
        "",
        # The storefront's /apps/<subpath>/… forwarded, signed, to PUBLIC_URL/proxy.
        "[app_proxy]",
        f"url = {toml_string(public + PROXY_PATH)}",
        f"prefix = {toml_string(PROXY_PREFIX)}",
        f"subpath = {toml_string(settings['APP_PROXY_SUBPATH'])}",
        "",
    ])
