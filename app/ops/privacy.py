"""`flask --app app privacy export|redact --customer ID | --email ADDRESS`: a
customer's data request or erasure request, as a merchant receives them by
email (Shopify's compliance webhooks do the same through the worker,
app/delivery/privacy.py).

`export` prints the export as JSON on standard output, every row with its id;
`redact` erases what app/store/privacy.py finds, then scrubs the database
files, and says how many rows of each table it erased.
"""

import json
import time

import click
from flask import current_app
from flask.cli import AppGroup

from ..delivery.privacy import export_document
from ..ids import MAX_BIGINT, positive_id
from ..shopify.compliance import valid_email
from ..store.base import SqlStore, Subject
from . import configured

_customer = click.option("--customer", "customer", metavar="ID",
                         help="the Shopify customer id")
_email = click.option("--email", "email", metavar="ADDRESS",
                      help="the customer's email address (a guest's too)")


def _subject(customer: str | None, email: str | None) -> Subject:
    """The customer the options name, or stop saying what is wrong."""
    if customer is None and email is None:
        raise click.UsageError("name the customer: --customer ID, --email ADDRESS, or both")
    customer_id = None if customer is None else positive_id(customer.strip(), MAX_BIGINT)
    if customer is not None and customer_id is None:
        raise click.BadParameter("not a Shopify customer id (a positive whole number)",
                                 param_hint="--customer")
    address = None if email is None else valid_email(email.strip())
    if email is not None and address is None:
        raise click.BadParameter("not an email address", param_hint="--email")
    return Subject(customer_id, address)


def _store() -> SqlStore:
    configured()
    store: SqlStore = current_app.extensions["store"]
    return store


privacy_group = AppGroup(
    "privacy", help="A customer's data: export it, or erase it (GDPR, CCPA requests).")


@privacy_group.command("export")
@_customer
@_email
def export_command(customer: str | None, email: str | None) -> None:
    """Print every row about the customer, as JSON, each with its id."""
    subject = _subject(customer, email)
    found = _store().personal_data(subject)
    click.echo(json.dumps(export_document(subject, found, time.time()), ensure_ascii=False,
                          indent=2))


@privacy_group.command("redact")
@_customer
@_email
def redact_command(customer: str | None, email: str | None) -> None:
    """Erase the customer's data: events, Shopify's answers, webhooks,
    notifications and exports (nothing Shopify holds)."""
    subject = _subject(customer, email)
    store = _store()
    erased = store.redact(subject, time.time())
    if erased is None:
        raise SystemExit("privacy: a worker is delivering one of this customer's events; "
                         "nothing erased yet: run the command again in a minute")
    store.scrub()
    counts = ", ".join(f"{count} {table}" for table, count in erased.counts.items())
    click.echo(f"privacy: erased {counts}")
