"""The cart's body read by orjson or, where orjson could read it otherwise, by
the standard library (app/intake/body.py): the same value either way."""

import json

import pytest
from helpers import cart_body
from helpers import settings as environment
from hypothesis import given
from hypothesis import strategies as st

from app import create_app
from app.intake.body import _parse

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20)


@given(JSON_VALUES)
def test_any_json_value_reads_as_the_standard_library_reads_it(value):
    raw = json.dumps(value, ensure_ascii=False).encode()
    text, read = _parse(raw)
    # json.dumps tells 1 from 1.0, which == does not.
    assert (text, json.dumps(read)) == (raw.decode(), json.dumps(json.loads(raw)))


@pytest.mark.parametrize("number", [2**64, 10**20 - 1, -(2**63) - 1, 10**400])
def test_an_integer_past_64_bits_is_read_whole(number):
    assert _parse(b'{"n": %d}' % number)[1] == {"n": number}


@pytest.fixture
def client(tmp_path):
    return create_app(environment(tmp_path)).test_client()


def test_a_20_digit_variant_id_the_contract_allows_reaches_the_draft_whole(client):
    variant_id = 10**20 - 1  # past 64 bits: a float to orjson
    response = client.post("/webhooks/cart", json=cart_body(
        items=[{"variant_id": variant_id, "quantity": 1}]))
    assert response.status_code == 202, response.get_data()
    event = client.application.extensions["store"].get(response.get_json()["id"])
    assert event["payload"]["draft_order"]["line_items"][0]["variant_id"] == variant_id
