"""Commands for the merchant's processes: `flask --app app <command>`."""

import logging
import signal
import threading

import click
from flask import current_app

from . import doctor


def register(app):
    @app.cli.command("worker")
    def worker_command():
        """Run the delivery worker alone (web processes with RUN_WORKER=0)."""
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        click.echo("worker: delivering events; stop with Ctrl-C")
        current_app.extensions["worker"].run_forever(stop)
        click.echo("worker: stopped")

    @app.cli.command("doctor")
    def doctor_command():
        """Check settings, database and Shopify (shop, token, scope, API version)."""
        results = doctor.run(current_app)
        for result in results:
            click.echo(result.line())
        if any(result.failed for result in results):
            raise SystemExit(1)
