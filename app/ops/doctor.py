"""`flask --app app doctor`: can this deployment turn carts into draft orders?

A merchant installing the receiver otherwise learns about a wrong shop, token,
scope or API version only when the first shopper's cart fails. Each check is a
small function returning a `Check`, one line for the merchant with what to do,
and a value tests can look at. Shopify gets two read-only calls (three with
SHOPIFY_WEBHOOK_SECRET set and a legacy token: its webhook subscriptions, which
under Dev Dashboard credentials shopify.app.toml declares); no secret is ever
printed. The calls go through the API the receiver is configured for
(`SHOPIFY_API`), and the scopes asked for are those its features need.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from flask import Flask

from ..config import BY_NAME, DEFAULT_API_VERSION, ConfigError, dev_dashboard
from ..shopify import Answer, ShopifyBackend
from ..shopify.oauth import CLIENT_CREDENTIALS, INSTALLED
from ..shopify.scopes import required_scopes
from ..shopify.subscriptions import missing_topics, public_address
from ..shopify.tokens import CredentialsUnavailable, Tokens, TokenUnavailable
from ..store.base import SqlStore
from .app_toml import DECLARED_WEBHOOKS

# WARN: worth fixing, but the receiver works; like PASS, it does not fail the run.
PASS, WARN, FAIL, SKIP = "PASS", "WARN", "FAIL", "SKIP"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # PASS | WARN | FAIL | SKIP (not checked: an earlier check failed, or
    # Shopify cannot tell)
    what: str = ""
    hint: str = ""

    @property
    def failed(self) -> bool:
        return self.status == FAIL

    def line(self) -> str:
        if self.hint:
            return f"{self.status}  {self.name}: {self.what} — hint: {self.hint}"
        return f"{self.status}  {self.name}" + (f": {self.what}" if self.what else "")


@dataclass(frozen=True)
class Probe:
    """Shopify's answers, fetched once and read by several checks, with what the
    backend read in them (None when an answer holds no shop or no scope list)."""

    shop: Answer
    shop_info: dict[str, str | None] | None  # name, domain, currency
    scopes: Answer
    handles: list[str] | None


def _said(answer: Answer) -> str:
    return f"GET {answer.url} answered {answer.status}"


def check_settings(error: ConfigError) -> list[Check]:
    """A configuration that does not load: one FAIL a problem, its hint the
    setting's line of the settings table; the rest needs the settings."""
    return [
        *(Check("configuration", FAIL, problem, BY_NAME[problem.split(" ", 1)[0]].doc)
          for problem in error.problems),
        Check("database and Shopify", SKIP, "need every setting above"),
    ]


def check_configuration(config: Mapping[str, Any]) -> Check:
    """create_app already refused a broken configuration; show what was loaded."""
    admin = "on" if config.get("ADMIN_PASSWORD") else "off (set ADMIN_PASSWORD)"
    worker = "in this process" if config["RUN_WORKER"] else "separate (flask worker)"
    return Check("configuration", PASS,
                 f"shop {config['SHOPIFY_BASE_URL']}, API {config['SHOPIFY_API_VERSION']}, "
                 f"database {config['DATABASE_SHOWN']}, guest carts {config['GUEST_CARTS']}, "
                 f"worker {worker}, admin {admin}")


def check_database(store: SqlStore) -> Check:
    try:
        missing = store.missing_tables()
    except Exception as error:
        return Check("database", FAIL, f"{type(error).__name__}: {error}",
                     "DATABASE_URL must be sqlite:///path to a file this process can write, "
                     "or postgresql://user:password@host:port/database of a server it can reach")
    if missing:
        return Check("database", FAIL, f"tables missing: {', '.join(missing)}",
                     "run `flask --app app init-db` (it creates them), or check DATABASE_URL")
    return Check("database", PASS, "reachable, schema present")


CREDENTIALS_CHECK = "Shopify credentials give an access token"
# What the merchant does about each refusal of the token endpoint (shopify/oauth.py).
CREDENTIALS_HINTS = {
    "invalid_client": "set SHOPIFY_CLIENT_ID and SHOPIFY_CLIENT_SECRET to the Client ID and "
                      "Secret on the app's Settings page in the Dev Dashboard",
    "shop_not_permitted": "the store is not one of the app's organization, so Shopify refuses "
                          "the client credentials grant: set PUBLIC_URL, give the app custom "
                          "distribution for this store, and install it through "
                          "PUBLIC_URL/auth/shopify",
    "app_not_installed": "install the app on the store (Dev Dashboard: the app > Home > "
                         "Install app), or through PUBLIC_URL/auth/shopify",
    "invalid_grant": "the install's refresh token is gone: install the app again through "
                     "PUBLIC_URL/auth/shopify",
    "shopify_unauthorized": "install the app again (Dev Dashboard: the app > Home > Install "
                            "app, or PUBLIC_URL/auth/shopify)",
}
_GRANTS = {CLIENT_CREDENTIALS: "the client credentials grant",
           INSTALLED: "the OAuth install's expiring offline token"}


def _utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def check_credentials(tokens: Tokens, config: Mapping[str, Any]) -> Check:
    """Which credentials are in use and, for a Dev Dashboard app's, whether
    they get a token now (asking for one if none is stored), and until when."""
    if not dev_dashboard(config):
        return Check(CREDENTIALS_CHECK, PASS, "a legacy admin-created app's access token "
                                              "(SHOPIFY_ACCESS_TOKEN), which never expires")
    try:
        tokens.current()
    except CredentialsUnavailable as problem:
        return Check(CREDENTIALS_CHECK, FAIL, f"{problem.code}: {problem.detail}",
                     CREDENTIALS_HINTS.get(problem.code, "check SHOPIFY_CLIENT_ID and "
                                                         "SHOPIFY_CLIENT_SECRET"))
    except TokenUnavailable as error:
        return Check(CREDENTIALS_CHECK, FAIL, str(error),
                     "check that this host can reach SHOPIFY_SHOP; Shopify's status page "
                     "may help")
    status = tokens.status()
    expires = f", valid until {_utc(status.expires_at)} and renewed before then" \
        if status.expires_at else ""
    return Check(CREDENTIALS_CHECK, PASS, f"the Dev Dashboard app's client id and secret, "
                                          f"through {_GRANTS.get(status.kind, status.kind)}"
                                          f"{expires}; granted: {status.scope or 'not said'}")


def check_shop_answers(probe: Probe) -> Check:
    if probe.shop.status is None:
        return Check("Shopify answers", FAIL, f"no answer from {probe.shop.url}: {probe.shop.body}",
                     "set SHOPIFY_SHOP to your-store.myshopify.com and check that this host "
                     "can reach it")
    shop = probe.shop_info
    if shop is not None:
        return Check("Shopify answers", PASS, f"{shop['name']} ({shop['domain']})")
    return Check("Shopify answers", PASS, _said(probe.shop))


def check_token(probe: Probe) -> Check:
    scopes = probe.scopes
    if scopes.status is None:
        return Check("access token is valid", SKIP, "Shopify did not answer")
    if scopes.status == 200:
        return Check("access token is valid", PASS)
    if scopes.status == 401:
        return Check("access token is valid", FAIL, "Shopify refused the token (401)",
                     "set SHOPIFY_ACCESS_TOKEN to the Admin API access token of the shop's "
                     "custom app (it starts with shpat_)")
    return Check("access token is valid", FAIL, _said(scopes),
                 "this does not look like a Shopify shop: set SHOPIFY_SHOP to its "
                 "your-store.myshopify.com domain")


def _granted(scope: str, handles: list[str]) -> bool:
    """A write scope grants its read scope too, as Shopify's do."""
    return scope in handles or scope.replace("read_", "write_", 1) in handles


def scopes_hint(missing: list[str], dev_dashboard: bool) -> str:
    """Where the merchant adds scopes: a Dev Dashboard app takes them in a new
    version it releases (shopify.app.toml's `[access_scopes]`), which the shop
    then approves; a legacy custom app made in the shop's admin, in its settings."""
    if dev_dashboard:
        return (f"add {', '.join(missing)} to the access scopes of the app's version in the "
                "Dev Dashboard (or run `flask --app app shopify-config` > shopify.app.toml, "
                "then `shopify app deploy`), release that version, then reinstall the app "
                "or approve the new scopes in the shop's admin")
    return (f"add {', '.join(missing)} to the app's Admin API access scopes and reinstall the "
            "app (Shopify admin: Settings > Apps and sales channels > Develop apps)")


def check_scopes(probe: Probe, needed: list[str], dev_dashboard: bool = False) -> Check:
    name = f"token has the {', '.join(needed)} scope{'s' if len(needed) > 1 else ''}"
    if probe.scopes.status != 200:
        return Check(name, SKIP, "needs a valid access token")
    handles = probe.handles
    if handles is None:
        return Check(name, FAIL, f"{_said(probe.scopes)} without a list of access scopes",
                     "set SHOPIFY_SHOP to the shop's your-store.myshopify.com domain")
    missing = [scope for scope in needed if not _granted(scope, handles)]
    if missing:
        return Check(name, FAIL, f"the token has {', '.join(handles) or 'no scopes'}",
                     scopes_hint(missing, dev_dashboard))
    return Check(name, PASS)


def answered_version(answer: Answer) -> str | None:
    """The version Shopify says it served (the X-Shopify-API-Version header)."""
    return next((value for key, value in answer.headers.items()
                 if key.lower() == "x-shopify-api-version"), None)


def check_api_version(probe: Probe, version: str) -> Check:
    """Shopify answers a version it no longer supports with its oldest supported
    one, and says which in X-Shopify-API-Version: a WARN, since the receiver
    still works until that version's fields change under it
    (https://shopify.dev/docs/api/usage/versioning)."""
    name = f"API version {version} is accepted"
    status = probe.shop.status
    served = answered_version(probe.shop) if status == 200 else None
    if served and served != version:
        return Check(name, WARN, f"Shopify answered with API version {served}: it no longer "
                                 f"serves {version}, and serves its oldest supported version "
                                 f"instead",
                     f"set SHOPIFY_API_VERSION to a supported version such as "
                     f"{DEFAULT_API_VERSION}, or unset it for the default")
    if status == 200:
        return Check(name, PASS)
    if status is None or probe.scopes.status in (None, 401):
        return Check(name, SKIP, "needs an answering shop and a valid access token")
    if status == 404 and probe.scopes.status == 200:
        return Check(name, FAIL, f"Shopify has no Admin API {version} (404 on {probe.shop.url})",
                     f"set SHOPIFY_API_VERSION to a supported version such as "
                     f"{DEFAULT_API_VERSION}, or unset it for the default")
    return Check(name, FAIL, _said(probe.shop),
                 "check SHOPIFY_SHOP and SHOPIFY_API_VERSION; Shopify's status page may help")


WEBHOOKS_CHECK = "Shopify webhooks are subscribed"


def check_declared_webhooks() -> Check:
    """Under Dev Dashboard credentials the subscriptions are the app's, declared
    in shopify.app.toml, and the webhookSubscriptions API lists only those made
    through it: nothing to check, and no reason to fail."""
    return Check(WEBHOOKS_CHECK, SKIP, DECLARED_WEBHOOKS)


def check_webhooks(probe: Probe,
                   listed: tuple[Answer | None, list[dict[str, str | None]] | None],
                   address: str | None) -> Check:
    """Shopify's webhooks reach the receiver: a subscription for each topic at
    `address` (PUBLIC_URL's; any /webhooks/shopify address while it is unset).
    `listed`: list_webhooks()'s (answer, subscriptions)."""
    name = WEBHOOKS_CHECK
    if probe.scopes.status != 200:
        return Check(name, SKIP, "needs a valid access token")
    answer, subscriptions = listed
    if subscriptions is None:
        # run() passes (None, None) only with no valid token: SKIP above.
        assert answer is not None
        return Check(name, FAIL, f"{answer.method} {answer.url} answered "
                                 f"{answer.status or 'nothing'} without a list of webhooks",
                     "check the app's access scopes, then run `flask --app app webhooks list`")
    missing = missing_topics(subscriptions, address)
    if missing:
        return Check(name, FAIL, f"none for {', '.join(missing)} at "
                                 f"{address or 'an address ending in /webhooks/shopify'}",
                     "run `flask --app app webhooks register`")
    return Check(name, PASS, f"at {address or 'an address ending in /webhooks/shopify'}")


def probe_shopify(client: ShopifyBackend) -> Probe:
    return Probe(*client.read_shop_and_scopes())


def run(app: Flask) -> list[Check]:
    """Every check, in the order a merchant should fix them."""
    client = app.extensions["shopify"]
    results = [
        check_configuration(app.config),
        check_database(app.extensions["store"]),
        check_credentials(client.tokens, app.config),
    ]
    try:
        probe = probe_shopify(client) if not results[-1].failed else None
    except (CredentialsUnavailable, TokenUnavailable) as problem:
        results.append(Check(CREDENTIALS_CHECK, FAIL, str(problem),
                             CREDENTIALS_HINTS["shopify_unauthorized"]))
        probe = None
    if probe is None:
        return [*results, Check("Shopify answers", SKIP, "needs an access token")]
    results += [
        check_shop_answers(probe),
        check_token(probe),
        check_scopes(probe, required_scopes(app.config), dev_dashboard(app.config)),
        check_api_version(probe, app.config["SHOPIFY_API_VERSION"]),
    ]
    if dev_dashboard(app.config):
        results.append(check_declared_webhooks())
    elif app.config["SHOPIFY_WEBHOOK_SECRET"]:
        listed = client.list_webhooks() if probe.scopes.status == 200 else (None, None)
        results.append(check_webhooks(probe, listed, public_address(app.config)))
    return results
