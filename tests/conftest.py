"""Fixtures every test module may ask for: the receiver app on its own SQLite
file, its test client, store and worker on a hand-moved clock, Shopify mocked,
and the Shopify simulator served on loopback. Builders and constants are in
helpers.py, real servers in servers.py."""

from contextlib import ExitStack

import pytest
import responses as responses_lib
from helpers import Clock, settings
from servers import shopify_simulator

from app import create_app
from app.delivery.worker import Worker


@pytest.fixture
def make_app(tmp_path):
    return lambda **overrides: create_app(settings(tmp_path, **overrides))


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def store(app):
    return app.extensions["store"]


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def worker(app, clock):
    core = app.extensions["worker"]
    return Worker(core.store, core.client, core.policy, core.lease_seconds, clock=clock,
                  follow_up=core.follow_up)


@pytest.fixture
def shopify():
    """Shopify's Admin API, mocked: any call not registered by the test fails it."""
    with responses_lib.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def start_simulator():
    """Start the Shopify simulator on a loopback port, for tests that need real
    HTTP: `start_simulator(token, clock=None, **config)` returns a servers.Shop.
    Every simulator started is stopped after the test. (Module- and session-wide
    servers use servers.shopify_simulator, which this wraps.)"""
    with ExitStack() as running:
        yield lambda token, clock=None, **config: running.enter_context(
            shopify_simulator(token, clock, **config))
