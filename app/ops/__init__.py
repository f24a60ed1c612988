"""Ops: what the merchant runs from a shell: `cli` (the `flask` commands),
`doctor` (checks the settings, the database and the shop), `app_toml` (the
shopify.app.toml of this receiver).

May import: everything in app but dev. Nothing in app imports ops but the
application factory (app/__init__.py), which registers the commands.
"""

import click
from flask import current_app


def configured() -> None:
    """Stop a command of an app whose settings did not load, naming every problem."""
    error = current_app.extensions.get("config_error")
    if error:
        click.echo("\n".join(error.lines()), err=True)
        raise SystemExit(3)
