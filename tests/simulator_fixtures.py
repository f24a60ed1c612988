"""Fixtures of the tests of the simulator itself (REST and GraphQL): one
simulator app on a clock standing still, its test client and its state.
A test module takes them with `from simulator_fixtures import *`."""

import pytest
from helpers import Clock

from app.dev.simulator import create_simulator

__all__ = ["clock", "make_sim", "sim", "client", "state"]


@pytest.fixture
def clock():
    return Clock(at=1000.0)


@pytest.fixture
def make_sim(clock):
    return lambda **config: create_simulator(config, clock=clock)


@pytest.fixture
def sim(make_sim):
    return make_sim()


@pytest.fixture
def client(sim):
    return sim.test_client()


@pytest.fixture
def state(sim):
    return sim.extensions["shopify_simulator"]
