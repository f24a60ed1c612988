"""The snippet's timestamped form in Chromium, against a receiver started with
SIGNATURE_MODE=timestamped: a fresh page gets its draft order, a page signed
too long ago asks the shopper to reload."""

import json
import sqlite3
import time

import pytest
from servers import procfile_receiver

from app.dev.demo import CUSTOMER, SECRET
from app.intake.signature import sign
from browser.conftest import TOKEN
from browser.test_send_cart import click_and_wait, set_attribute


@pytest.fixture(scope="module")
def timestamped_receiver(simulator_server, storefront_server, tmp_path_factory):
    with procfile_receiver(tmp_path_factory.mktemp("timestamped"), simulator_server.url, TOKEN,
                           SECRET, allowed_origins=storefront_server.url,
                           SIGNATURE_MODE="timestamped") as running:
        yield running


@pytest.fixture
def timestamped_cart(storefront, timestamped_receiver, open_cart):
    """The cart page rendering the snippet's timestamped form for that receiver."""
    storefront.signature_mode = "timestamped"
    storefront.receiver_url = timestamped_receiver.url
    return open_cart


def received_bodies(receiver):
    with sqlite3.connect(receiver.database_path) as db:
        return [json.loads(row[0]) for row in db.execute("SELECT received FROM events")]


def test_timestamped_snippet_gets_a_draft_order_for_the_customer(timestamped_cart, simulator,
                                                                 timestamped_receiver):
    driver = timestamped_cart()

    shown = click_and_wait(driver)

    assert shown.text == "Your cart was sent: draft order #D1"
    [draft] = simulator.state.draft_orders
    assert draft["customer"] == {"id": CUSTOMER["id"]}
    [received] = received_bodies(timestamped_receiver)
    assert abs(received["customerIdSignedAt"] - time.time()) < 60


def test_page_signed_too_long_ago_asks_the_shopper_to_reload(timestamped_cart, simulator):
    driver = timestamped_cart()
    signed_at = int(time.time()) - 2 * 3600
    set_attribute(driver, "data-customer-id-signed-at", str(signed_at))
    set_attribute(driver, "data-customer-id-signature",
                  json.dumps(sign(CUSTOMER["id"], SECRET, signed_at)))

    shown = click_and_wait(driver)

    assert shown.get_attribute("data-state") == "error"
    assert shown.text == "This page has been open too long; please reload it and try again."
    assert simulator.state.draft_orders == []
