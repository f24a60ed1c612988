"""Commands for the merchant's processes: `flask --app app <command>`."""

import logging
import os
import signal
import threading

import click
from flask import Flask, current_app

from .. import config
from ..shopify import ShopifyBackend, is_web_url
from ..shopify.subscriptions import missing_topics, public_address, subscribe
from ..shopify.tokens import CredentialsUnavailable, TokenUnavailable
from ..shopify.webhooks import TOPICS
from ..store import open_store
from . import app_toml, configured, doctor, privacy


@click.command("init-db")
def init_db_command() -> None:
    """Create or upgrade the event database's schema, and say what was done.

    A plugin command (see pyproject.toml): it must run where the app would not
    start, with only DATABASE_URL set or with a migration pending that start-up
    refuses to apply.
    """
    instance_path = Flask(__package__, instance_relative_config=True).instance_path
    try:
        database = config.database_settings(os.environ.get("DATABASE_URL", "").strip(),
                                            instance_path)
    except config.ConfigError as error:
        raise SystemExit(f"configuration error: {error}") from None
    click.echo(f"init-db: database {database['DATABASE_SHOWN']}")
    for line in open_store(database["DATABASE_URL"]).migrate():
        click.echo(f"init-db: {line}")


def _listed_webhooks(client: ShopifyBackend) -> list[dict[str, str | None]]:
    """The shop's webhook subscriptions, or stop saying why they could not be read."""
    subscriptions: list[dict[str, str | None]] | None  # each {topic, address}
    try:
        answer, subscriptions = client.list_webhooks()
    except (CredentialsUnavailable, TokenUnavailable) as problem:
        raise SystemExit(f"webhooks: no access token: {problem} (`flask --app app doctor` "
                         f"says more)") from None
    if subscriptions is None:
        said = f"answered {answer.status}" if answer.status else f"did not answer ({answer.body})"
        raise SystemExit(f"webhooks: could not list the shop's webhooks: {answer.method} "
                         f"{answer.url} {said}")
    return subscriptions


def register(app: Flask) -> None:
    app.cli.add_command(privacy.privacy_group)

    @app.cli.command("worker")
    def worker_command() -> None:
        """Run the delivery worker alone (web processes with RUN_WORKER=0)."""
        configured()
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        click.echo("worker: delivering events; stop with Ctrl-C")
        current_app.extensions["worker"].run_forever(stop)
        click.echo("worker: stopped")

    @app.cli.command("prune")
    def prune_command() -> None:
        """Delete now the settled events older than RETENTION_DAYS, as the worker
        does when idle, and say how many."""
        configured()
        days = current_app.config["RETENTION_DAYS"]
        pruned = current_app.extensions["worker"].prune()
        if pruned is None:
            click.echo("prune: RETENTION_DAYS is 0, so every event is kept; nothing deleted")
            return
        click.echo(f"prune: deleted {pruned.events} completed or failed events last changed"
                   f" more than {days} days ago, and their {pruned.answers} Shopify answers;"
                   f" {pruned.webhooks} Shopify webhooks about no event and"
                   f" {pruned.exports} data-request exports older than that")

    @app.cli.command("doctor")
    def doctor_command() -> None:
        """Check settings, database and Shopify (shop, token, scope, API version)."""
        error = current_app.extensions.get("config_error")
        results = doctor.check_settings(error) if error else doctor.run(current_app)
        for result in results:
            click.echo(result.line())
        if any(result.failed for result in results):
            raise SystemExit(1)

    @app.cli.command("shopify-config")
    @click.option("--name", default=app_toml.DEFAULT_NAME, show_default=True,
                  help="the app's name in the Dev Dashboard and the shop's admin")
    def shopify_config_command(name: str) -> None:
        """Print the shopify.app.toml of this receiver (client id, URLs, access
        scopes, webhooks), for the Dev Dashboard or `shopify app deploy`."""
        configured()
        missing = app_toml.missing_settings(current_app.config)
        if missing:
            raise SystemExit(f"shopify-config: set {' and '.join(missing)} first")
        click.echo(app_toml.app_toml(current_app.config, name), nl=False)

    @app.cli.group("webhooks")
    def webhooks_group() -> None:
        """Shopify's webhooks about the draft orders this service makes."""

    @webhooks_group.command("register")
    @click.option("--url", help="the address Shopify should send them to "
                                "(default: PUBLIC_URL + /webhooks/shopify)")
    def webhooks_register_command(url: str | None) -> None:
        """Subscribe the shop to draft_orders/update, draft_orders/delete and
        orders/create at the receiver's address; those already there are kept."""
        configured()
        settings = current_app.config
        if config.dev_dashboard(settings):
            click.echo(f"webhooks: nothing to register: {app_toml.DECLARED_WEBHOOKS}")
            return
        if not settings["SHOPIFY_WEBHOOK_SECRET"]:
            raise SystemExit("webhooks: set SHOPIFY_WEBHOOK_SECRET (the custom app's API secret "
                             "key) first: until then /webhooks/shopify answers 404")
        address = url or public_address(settings)
        if not address:
            raise SystemExit("webhooks: set PUBLIC_URL to the receiver's public address "
                             "(https://…), or pass --url")
        if not is_web_url(address):
            raise SystemExit("webhooks: --url must be an https:// (or http://) address")
        client = current_app.extensions["shopify"]
        missing = missing_topics(_listed_webhooks(client), address)
        if not missing:
            click.echo(f"webhooks: {', '.join(TOPICS)} already go to {address}; nothing created")
            return
        failed = False
        for topic, problem in subscribe(client, missing, address):
            if problem:
                failed = True
                click.echo(f"webhooks: {topic} not subscribed: {problem}", err=True)
            else:
                click.echo(f"webhooks: subscribed {topic} at {address}")
        if failed:
            raise SystemExit(1)

    @webhooks_group.command("list")
    def webhooks_list_command() -> None:
        """List the shop's webhook subscriptions (every topic, every address)."""
        configured()
        subscriptions = _listed_webhooks(current_app.extensions["shopify"])
        for subscription in subscriptions:
            click.echo(f"{subscription['topic']}  {subscription['address']}")
        if not subscriptions:
            click.echo("webhooks: the shop has no webhook subscriptions")
