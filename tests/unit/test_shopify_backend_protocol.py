"""Both backends are what the worker, doctor and the CLI may call on a Shopify
client (app/shopify/backend.py's ShopifyBackend), and both pacers offer what
the worker asks of a backend's pacer. mypy checks the signatures (make_client
returns a ShopifyBackend); this checks that every member is there at run time."""

import pytest
from helpers import SHOP, TOKEN

from app.config import DEFAULT_API_VERSION
from app.shopify import GraphQLClient, RestClient, ShopifyBackend, make_client
from app.shopify.pacing import CallPacer, CostPacer, Pacer


def settings(api):
    return {"SHOPIFY_BASE_URL": SHOP, "SHOPIFY_ACCESS_TOKEN": TOKEN,
            "SHOPIFY_API_VERSION": DEFAULT_API_VERSION, "SHOPIFY_TIMEOUT": 5,
            "SHOPIFY_LEAK_RATE": 2.0, "SHOPIFY_API": api}


@pytest.mark.parametrize(("api", "backend"), [("rest", RestClient), ("graphql", GraphQLClient)])
def test_each_backend_is_a_shopify_backend(api, backend):
    client = make_client(settings(api))
    assert isinstance(client, backend)
    assert isinstance(client, ShopifyBackend)
    assert isinstance(client.pacer, Pacer)


def test_something_else_is_no_shopify_backend():
    assert not isinstance(object(), ShopifyBackend)
    assert not isinstance(CallPacer(), ShopifyBackend)


@pytest.mark.parametrize("pacer", [CallPacer, CostPacer])
def test_each_pacer_is_a_pacer(pacer):
    assert isinstance(pacer(), Pacer)
