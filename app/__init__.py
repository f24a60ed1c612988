"""Cart-to-draft-order receiver: the application factory.

A cart flows one way: `intake` (request, signature, cart validation) ->
`store` (durable event) -> `delivery` (the worker) -> `shopify` -> `store`
(status), read back by `intake`'s status endpoint; `notifications` tell the
merchant, `web` holds the merchant's pages, `ops` the commands.

Imports point down the layers, each package's __init__ saying what it may
import (tests/unit/test_layout.py holds them to it): the base modules (config,
states, ids, lifecycle, retry); then `store` and `shopify`, each importing the
base only; `intake` and `notifications` (base, store, shopify); `delivery`
(and notifications); `web` (anything but ops); `ops` (anything but dev). This
factory wires them all; nothing but app.dev imports app.dev.
"""

import os
import sys
from collections.abc import Mapping
from typing import Any

import click
from flask import Flask, Request, Response
from flask.cli import FlaskGroup
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.middleware.proxy_fix import ProxyFix

from . import assets, config
from .delivery.transitions import FollowUp, Policy
from .delivery.worker import Worker
from .intake import guest_form, proxy, routes, shopify_webhooks
from .notifications import messages
from .notifications.sender import Notifier
from .ops import cli
from .shopify import make_client
from .shopify.tokens import LegacyToken, ManagedToken
from .store import SchemaUpgradeRequired, open_store
from .store.base import SqlStore
from .web import admin, auth, errors, health, privacy_exports, setup_page


class _NoSessions(SessionInterface):
    """No page of ours keeps a browser session (the admin uses HTTP basic auth
    and signed form tokens), so no request pays for opening a cookie session."""

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        return None  # Flask then uses its null session

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        pass


def _finding_commands() -> bool:
    """Is the `flask` command loading the app only to list or look up its commands?

    It does for `--help`, and for a bare `flask --help` in any folder, since the
    package is installed as `app`; running a command loads it again inside it.
    """
    context = click.get_current_context(silent=True)
    return context is not None and isinstance(context.command, FlaskGroup)


def _unconfigured(error: config.ConfigError) -> Flask:
    """An app with only the commands, for a configuration that does not load:
    `--help` works, and each command reports every problem (app/ops/cli.py)."""
    app = Flask(__name__)
    app.extensions["config_error"] = error
    cli.register(app)
    return app


def _tokens(settings: Mapping[str, Any], store: SqlStore) -> LegacyToken | ManagedToken:
    """The shop's token: kept fresh from the Dev Dashboard app's credentials, or
    a legacy admin-created app's as it is."""
    if not settings["SHOPIFY_CLIENT_ID"]:
        return LegacyToken(settings["SHOPIFY_ACCESS_TOKEN"])
    return ManagedToken(store, settings["SHOPIFY_BASE_URL"], settings["SHOPIFY_CLIENT_ID"],
                        config.client_secrets(settings), settings["SHOPIFY_TIMEOUT"],
                        notifications=lambda code, detail, now: messages.credentials_messages(
                            code, detail, settings, now))


def create_app(overrides: Mapping[str, str] | None = None) -> Flask:
    """Build the app from the environment; `overrides` (environment-style
    names to strings) take precedence, for tests and the demo."""
    app = Flask(__name__, instance_relative_config=True,
                template_folder=assets.TEMPLATES, static_folder=assets.STATIC)
    app.session_interface = _NoSessions()
    try:
        app.config.update(config.load({**os.environ, **(overrides or {})}, app.instance_path))
    except config.ConfigError as error:
        if _finding_commands():
            return _unconfigured(error)
        # One line a problem, no traceback. Exit status 3 is "worker failed to
        # boot": app.serve's supervisor stops instead of respawning it forever.
        print(*error.lines(), sep="\n", file=sys.stderr)
        raise SystemExit(3) from None
    # Behind a PaaS router (TRUSTED_PROXIES=1), trust its X-Forwarded-* so that
    # status_url comes out as https on the public host and rate limits see the
    # shopper's address; with no proxy, those headers would be anybody's to forge.
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # Wrapping wsgi_app is Flask's documented way to add middleware.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    settings = app.config
    store = open_store(settings["DATABASE_URL"])
    try:
        # Additive migrations only: code still running elsewhere keeps working.
        store.migrate(only_additive=True)
    except SchemaUpgradeRequired as error:
        print(f"database error: {error}", file=sys.stderr)
        raise SystemExit(3) from None
    client = make_client(settings, _tokens(settings, store))
    policy = Policy(max_attempts=settings["MAX_ATTEMPTS"], poll_timeout=settings["POLL_TIMEOUT"],
                    lookup_lag=client.lookup_lag)
    app.extensions["store"] = store
    app.extensions["shopify"] = client
    app.extensions["notifier"] = Notifier(store, settings)
    app.extensions["worker"] = Worker(store, client, policy, settings["LEASE_SECONDS"],
                                      retention_seconds=settings["RETENTION_DAYS"] * 86400,
                                      follow_up=FollowUp.from_settings(settings),
                                      notifier=app.extensions["notifier"])

    errors.register(app)
    app.register_blueprint(routes.bp)
    app.register_blueprint(proxy.bp)
    app.register_blueprint(guest_form.bp)
    app.register_blueprint(shopify_webhooks.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(privacy_exports.bp)
    app.register_blueprint(setup_page.bp)
    app.register_blueprint(auth.bp)
    cli.register(app)
    return app
