"""`flask demo`, a plugin command (pyproject.toml's `flask.commands`), so that it
runs before any SHOPIFY_* variable is set.

Flask imports every plugin command's module on each `flask` run, so this one
stays small: the demo, its simulator and its storefront are imported only when
the command runs.
"""

import click


@click.command("demo")
@click.option("--port", type=click.IntRange(1, 65533), default=8080, show_default=True,
              help="Receiver port; the simulator and the storefront take the next two.")
@click.option("--polling/--no-polling", default=True, show_default=True,
              help="Have the simulator answer 202 and make the receiver poll, as busy shops do "
                   "(REST only).")
@click.option("--api", type=click.Choice(["rest", "graphql"]), default="rest", show_default=True,
              help="The Admin API the receiver speaks (SHOPIFY_API); graphql adds a discount "
                   "code, a second currency and a sold-out item to try.")
@click.option("--oauth", is_flag=True,
              help="Install the app by OAuth (open the simulator's /_sim/launch first) "
                   "instead of running on client credentials.")
@click.option("--token-seconds", type=click.IntRange(min=1), default=None,
              help="Access tokens the simulator issues last this long, so renewals can be "
                   "watched (default: 86399 for client credentials, 3600 installed).")
@click.option("--snippet", type=click.Choice(["proxy", "hmac"]), default=None,
              help="The storefront snippet: through the app proxy (Shopify signs the customer; "
                   "the default), or the legacy one with the shared secret (the default with "
                   "--oauth: Shopify proxies only to an installed app).")
def demo_command(port, polling, api, oauth, token_seconds, snippet):
    """Run the simulator, the receiver and a demo storefront on 127.0.0.1."""
    from .demo import run

    run(port, polling, api, oauth, token_seconds, snippet or ("hmac" if oauth else "proxy"))
