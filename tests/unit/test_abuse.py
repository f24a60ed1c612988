"""Property-based abuse of POST /webhooks/cart through the Flask test client.

Every body gets a 202, or a 4xx in the contract's error shape naming a documented
code; never a 500, a traceback or a Python object's repr; exactly one event is
written per 202 and none per refusal (the receivers here run with DEDUPE_WINDOW and
the rate limits off, so that each 202 is a new event); and no accepted draft order
holds a price, title, discount or tax key. Signed carts generated at random are
stored as the draft order the README describes.

The bugs these tests found are kept as regression tests at the end of the file.
"""

import io
import json
import math
import re
import sqlite3
import time
from dataclasses import dataclass

import pytest
from helpers import SECRET, cart_body
from helpers import settings as environment
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from app import create_app
from app.ids import EVENT_MARKER
from app.intake.cart import (
    MAX_LINES,
    MAX_NAME_CHARS,
    MAX_NOTE_CHARS,
    MAX_PAYLOAD_BYTES,
    MAX_QUANTITY,
    MAX_VALUE_CHARS,
)
from app.intake.signature import sign
from app.store import stored_payload

URL = "/webhooks/cart"
SMALL_LIMIT = 2048  # MAX_BODY_BYTES of the `small` receiver, so oversized bodies stay cheap

# CI-sized: the whole file runs in about 30 s on two cores.
PROPERTY = hypothesis_settings(max_examples=100, deadline=None,
                               suppress_health_check=[HealthCheck.too_slow])

CODES = {
    400: {"invalid_json", "invalid_body", "missing_cart"},
    401: {"signature_missing", "signature_invalid", "signature_expired"},
    403: {"guest_cart_rejected", "origin_not_allowed"},
    413: {"body_too_large", "cart_too_large"},
    415: {"unsupported_media_type"},
    429: {"rate_limited"},
    422: {"invalid_customer_id", "invalid_cart", "invalid_items", "invalid_variant_id",
          "invalid_quantity", "invalid_properties", "invalid_note", "invalid_attributes",
          "subscription_not_supported", "invalid_line"},
}
# What a traceback or a Python object's repr looks like in an answer.
LEAKS = ("Traceback", 'File "', " object at 0x", "<class '", "<built-in", "Error(", "Exception(")
# Cart fields a browser sends that must never reach the draft order.
PRICED_LINE_KEYS = ("price", "original_price", "final_price", "discounted_price", "line_price",
                    "original_line_price", "final_line_price", "total_discount", "discounts",
                    "line_level_discount_allocations", "line_level_total_discount", "title",
                    "product_title", "variant_title", "taxable")
PRICED_CART_KEYS = ("total_price", "original_total_price", "items_subtotal_price",
                    "total_discount", "cart_level_discount_applications", "discount_codes",
                    "taxes_included", "currency", "token")
PRICED_WORDS = ("price", "title", "discount", "tax")
SPECIAL_FLOATS = (1e308, -1e308, -0.0, 0.0, 1.0, 2.0, 5e-324, 0.5)


@dataclass
class Receiver:
    app: object

    @property
    def client(self):
        return self.app.test_client()

    def events(self):
        with sqlite3.connect(self.app.extensions["store"].path) as conn:
            return conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    def draft(self, response):
        return self.app.extensions["store"].get(response.get_json()["id"])["payload"][
            "draft_order"]

    def post(self, data, content_type="application/json", **kwargs):
        """POST `data`; check the contract's shape and that only a 202 wrote an event."""
        before = self.events()
        response = self.client.post(URL, data=data, content_type=content_type, **kwargs)
        written = self.events() - before
        sent = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
        assert_answered_by_contract(response, sent)
        assert written == (1 if response.status_code == 202 else 0), response.get_data()
        if response.status_code == 202:
            for key in keys_of(self.draft(response)):
                assert not any(word in key.lower() for word in PRICED_WORDS), key
        return response

    def post_json(self, body, **kwargs):
        return self.post(json.dumps(body), **kwargs)


def assert_answered_by_contract(response, sent=""):
    text = response.get_data(as_text=True)
    for marker in LEAKS:
        assert marker not in text or marker in sent, text
    if response.status_code == 202:
        answer = response.get_json()
        assert answer["status"] == "queued" and answer["id"]
        assert "/events/" in answer["status_url"]
        return
    assert response.status_code in CODES, text
    assert response.mimetype == "application/json", text
    error = response.get_json()["error"]
    assert error["code"] in CODES[response.status_code], text
    assert isinstance(error["detail"], str) and error["detail"].strip(), text
    assert set(error) <= {"code", "detail", "field", "line", "retry_after"}, text
    assert isinstance(error.get("field", ""), str)
    assert isinstance(error.get("line", 0), int)


def assert_refused(response, status, code, field=None, line=None):
    assert response.status_code == status, response.get_data()
    error = response.get_json()["error"]
    assert error["code"] == code, error
    if field is not None:
        assert error["field"] == field or error["field"].startswith(field + "."), error
    if line is not None:
        assert error["line"] == line, error


# Hundreds of submissions from one test client: no dedupe, no rate limit.
EVERY_SUBMISSION_COUNTS = {"DEDUPE_WINDOW": "0", "RATE_LIMIT_PER_IP": "0",
                           "RATE_LIMIT_PER_CUSTOMER": "0"}


@pytest.fixture(scope="module")
def receiver(tmp_path_factory):
    return Receiver(create_app(environment(tmp_path_factory.mktemp("abuse"),
                                           **EVERY_SUBMISSION_COUNTS)))


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A receiver with a small MAX_BODY_BYTES."""
    return Receiver(create_app(environment(tmp_path_factory.mktemp("abuse-small"),
                                           MAX_BODY_BYTES=str(SMALL_LIMIT),
                                           **EVERY_SUBMISSION_COUNTS)))


def raw_with(body, placeholder, literal):
    """The JSON text of `body` with the string `placeholder` replaced by raw `literal`."""
    text = json.dumps(body)
    assert text.count(json.dumps(placeholder)) == 1
    return text.replace(json.dumps(placeholder), literal)


def keys_of(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from keys_of(item)
    elif isinstance(value, list):
        for item in value:
            yield from keys_of(item)


# --- Strategies -------------------------------------------------------------------------

ABSENT = object()  # the key is left out of the body


def put(container, key, value):
    if value is ABSENT:
        container.pop(key, None)
    else:
        container[key] = value


# Characters that are text: a lone surrogate refuses the whole body (see below).
CHARACTERS = st.characters(exclude_categories=["Cs"])


def repeated(limit):
    """Text of exactly `limit` characters (one character repeated: cheap to generate)."""
    return st.builds(lambda char: char * limit, CHARACTERS)


def longer_than(limit):
    """Text over `limit` characters, often by exactly one."""
    return st.builds(lambda char, extra: char * (limit + extra),
                     CHARACTERS, st.just(1) | st.integers(2, 40))


# Any text. Lone surrogates ("\ud800" escapes) are refused as a whole body (400),
# before any field is looked at; test_lone_surrogate_* cover them.
ANY_TEXT = st.text(max_size=20)
SCALARS = (st.none() | st.booleans() | st.integers(-(10**30), 10**30)
           | st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(SPECIAL_FLOATS)
           | ANY_TEXT)
JSON = st.recursive(SCALARS, lambda children: st.lists(children, max_size=4)
                    | st.dictionaries(ANY_TEXT, children, max_size=4), max_leaves=12)
NOT_OBJECT = SCALARS | st.lists(JSON, max_size=4)
NOT_LIST = SCALARS | st.dictionaries(ANY_TEXT, JSON, max_size=4)

NAMES = st.text(max_size=20) | repeated(MAX_NAME_CHARS)
TEXT_VALUES = st.text(max_size=30) | repeated(MAX_VALUE_CHARS)
INT_VALUES = st.integers(-(10**40), 10**40)
FLOAT_VALUES = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(SPECIAL_FLOATS)
BROWSER_VALUES = (st.integers(0, 10**9) | st.text(max_size=10)
                  | st.lists(st.dictionaries(st.sampled_from(PRICED_LINE_KEYS),
                                             st.integers(0, 10**6), max_size=3), max_size=2))


def lenient_digits(text):
    """A positive id in decimal: the digit strings a variant id may be."""
    return re.fullmatch(r"[1-9][0-9]{0,19}", text) is not None


WRONG_IDS = st.one_of(
    st.just(ABSENT), st.none(), st.booleans(),
    st.integers(-(10**30), 0), st.integers(10**20, 10**60),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(SPECIAL_FLOATS),
    ANY_TEXT.filter(lambda text: not lenient_digits(text)),
    st.sampled_from(["0", "007", "-1", "+1", "1.0", "1e3", " 1", "1 ", "0x1F", "١٢", "1" * 21]),
    st.lists(SCALARS, max_size=3), st.dictionaries(ANY_TEXT, SCALARS, max_size=3),
)
WRONG_CUSTOMER_IDS = WRONG_IDS.filter(lambda value: value is not ABSENT and value is not None
                                      and value != "")
WRONG_QUANTITIES = st.one_of(
    st.just(ABSENT), st.none(), st.booleans(),
    st.integers(-(10**30), 0), st.integers(MAX_QUANTITY + 1, 10**30),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(SPECIAL_FLOATS),
    ANY_TEXT, st.sampled_from(["1", "2", "999999"]),
    st.lists(SCALARS, max_size=3), st.dictionaries(ANY_TEXT, SCALARS, max_size=3),
)
WRONG_NOTES = st.one_of(
    st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
    st.lists(SCALARS, max_size=3), st.dictionaries(ANY_TEXT, SCALARS, max_size=3),
    longer_than(MAX_NOTE_CHARS),
)
BAD_PAIR_VALUES = (st.sampled_from([None, True, False]) | st.lists(SCALARS, max_size=3)
                   | st.dictionaries(ANY_TEXT, SCALARS, max_size=3))
# A number whose decimal text is over MAX_VALUE_CHARS (and under Python's 4300 digits).
LONG_NUMBERS = st.integers(MAX_VALUE_CHARS, 4299).map(lambda digits: 10**digits)


@st.composite
def wrong_name_value_objects(draw):
    """Not an object, or a {name: value} object with one entry that breaks a rule,
    anywhere among good ones."""
    rule = draw(st.sampled_from(["not_object", "value_type", "long_name", "long_value"]))
    if rule == "not_object":
        return draw(SCALARS.filter(lambda value: value is not None) | st.lists(JSON, max_size=3))
    pairs = list(draw(st.dictionaries(st.text(max_size=10), TEXT_VALUES | INT_VALUES,
                                      max_size=3)).items())
    if rule == "value_type":
        bad = (draw(st.text(max_size=10)), draw(BAD_PAIR_VALUES))
    elif rule == "long_name":
        bad = (draw(longer_than(MAX_NAME_CHARS)), draw(st.text(max_size=10)))
    else:
        bad = (draw(st.text(max_size=10)), draw(longer_than(MAX_VALUE_CHARS) | LONG_NUMBERS))
    pairs = [pair for pair in pairs if pair[0] != bad[0]]
    pairs.insert(draw(st.integers(0, len(pairs))), bad)
    return dict(pairs)


WRONG_NAME_VALUES = wrong_name_value_objects()


def pairs_of(mapping):
    return [{"name": name, "value": value if isinstance(value, str) else str(value)}
            for name, value in mapping.items()]


@st.composite
def cart_lines(draw, noise=True):
    """A valid storefront line, with browser noise, and the line item it must become."""
    variant_id = draw(st.integers(1, 10**20 - 1))
    quantity = draw(st.integers(1, MAX_QUANTITY))
    properties = draw(st.just(ABSENT) | st.none()
                      | st.dictionaries(NAMES, TEXT_VALUES | INT_VALUES, max_size=4))
    line = draw(st.dictionaries(st.sampled_from(PRICED_LINE_KEYS), BROWSER_VALUES,
                                max_size=4 if noise else 0))
    line["variant_id"] = draw(st.sampled_from([variant_id, str(variant_id)]))
    line["quantity"] = quantity
    put(line, "properties", properties)
    expected = {"variant_id": variant_id, "quantity": quantity,
                "properties": pairs_of(properties) if isinstance(properties, dict) else []}
    return line, expected


@st.composite
def signed_carts(draw, max_lines=8, noise=True):
    """A valid body as the storefront sends it (with the browser's prices and titles
    unless `noise` is off), and the draft order it must become but for the marker."""
    lines = draw(st.lists(cart_lines(noise), min_size=1, max_size=max_lines))
    cart = draw(st.dictionaries(st.sampled_from(PRICED_CART_KEYS), BROWSER_VALUES,
                                max_size=4 if noise else 0))
    cart["items"] = [line for line, _ in lines]
    note = draw(st.just(ABSENT) | st.none() | st.text(max_size=40)
                | st.sampled_from(["", " ", "\n\t "]) | repeated(MAX_NOTE_CHARS))
    put(cart, "note", note)
    attributes = draw(st.just(ABSENT) | st.none()
                      | st.dictionaries(NAMES.filter(lambda name: name != EVENT_MARKER),
                                        TEXT_VALUES | INT_VALUES, max_size=4))
    put(cart, "attributes", attributes)
    body = {"cart": cart}
    # Up to 2**63 - 1, the largest id the store keeps (test_signed_customer_id_above_2_63_*).
    customer_id = draw(st.none() | st.integers(1, 2**63 - 1))
    if customer_id is None:
        put(body, "customerId", draw(st.sampled_from([ABSENT, None, ""])))
        put(body, "customerIdSignature", draw(st.just(ABSENT) | st.none() | st.text(max_size=8)))
    else:
        body["customerId"] = draw(st.sampled_from([customer_id, str(customer_id)]))
        body["customerIdSignature"] = sign(customer_id, SECRET)
        if draw(st.booleans()):  # the timestamped form, signed up to 50 minutes ago
            signed_at = int(time.time()) - draw(st.integers(0, 3000))
            body["customerIdSignedAt"] = draw(st.sampled_from([signed_at, str(signed_at)]))
            body["customerIdSignature"] = sign(customer_id, SECRET, signed_at)
    draft = {"line_items": [item for _, item in lines]}
    if customer_id is not None:
        draft.update(customer={"id": customer_id}, use_customer_default_address=True)
    if isinstance(note, str) and note.strip():
        draft["note"] = note
    draft["note_attributes"] = pairs_of(attributes) if isinstance(attributes, dict) else []
    return body, draft


# --- Any JSON at all --------------------------------------------------------------------

BODY_KEYS = ["cart", "customerId", "customerIdSignature", "customerIdSignedAt"]


@pytest.mark.slow
@PROPERTY
@given(body=JSON | st.dictionaries(st.sampled_from(BODY_KEYS) | ANY_TEXT, JSON, max_size=4))
def test_any_json_value_is_answered_by_the_contract(receiver, body):
    receiver.post_json(body)


FUZZ_LINE = st.dictionaries(
    st.sampled_from(["variant_id", "quantity", "properties", "selling_plan_allocation",
                     "price", "title"]), JSON | st.integers(1, 3), max_size=6)
FUZZ_CART = st.dictionaries(
    st.sampled_from(["items", "note", "attributes", "total_price"]),
    JSON | st.lists(FUZZ_LINE | JSON, max_size=3), max_size=4)


@pytest.mark.slow
@PROPERTY
@given(body=st.dictionaries(st.sampled_from(BODY_KEYS), FUZZ_CART | JSON | st.integers(1, 3),
                            max_size=4))
def test_cart_shaped_body_of_any_values_is_answered_by_the_contract(receiver, body):
    receiver.post_json(body)


@PROPERTY
@given(data=st.binary(max_size=200))
def test_any_bytes_are_answered_by_the_contract(receiver, data):
    receiver.post(data)


# --- A wrong value in one field ---------------------------------------------------------


def _line(draw, body):
    return draw(st.integers(0, len(body["cart"]["items"]) - 1))


def _wrong_cart(draw, body):
    body["cart"] = draw(NOT_OBJECT)
    return 422, "invalid_cart", "cart", None


def _wrong_items(draw, body):
    valid = {"variant_id": 1, "quantity": 1}
    put(body["cart"], "items", draw(st.just(ABSENT) | st.just([]) | NOT_LIST
                                    | st.just([valid] * (MAX_LINES + 1))))
    return 422, "invalid_items", "cart.items", None


def _wrong_line(draw, body):
    index = _line(draw, body)
    body["cart"]["items"][index] = draw(NOT_OBJECT)
    return 422, "invalid_line", f"cart.items[{index}]", index


def _wrong_variant_id(draw, body):
    index = _line(draw, body)
    put(body["cart"]["items"][index], "variant_id", draw(WRONG_IDS))
    return 422, "invalid_variant_id", f"cart.items[{index}].variant_id", index


def _wrong_quantity(draw, body):
    index = _line(draw, body)
    put(body["cart"]["items"][index], "quantity", draw(WRONG_QUANTITIES))
    return 422, "invalid_quantity", f"cart.items[{index}].quantity", index


def _wrong_properties(draw, body):
    index = _line(draw, body)
    body["cart"]["items"][index]["properties"] = draw(WRONG_NAME_VALUES)
    return 422, "invalid_properties", f"cart.items[{index}].properties", index


def _selling_plan_allocation(draw, body):
    index = _line(draw, body)
    body["cart"]["items"][index]["selling_plan_allocation"] = draw(
        JSON.filter(lambda value: value is not None))
    return 422, "subscription_not_supported", f"cart.items[{index}].selling_plan_allocation", index


def _wrong_note(draw, body):
    body["cart"]["note"] = draw(WRONG_NOTES)
    return 422, "invalid_note", "cart.note", None


def _wrong_attributes(draw, body):
    body["cart"]["attributes"] = draw(WRONG_NAME_VALUES
                                      | st.just({"Gift": "yes", EVENT_MARKER: "forged"}))
    return 422, "invalid_attributes", "cart.attributes", None


def _wrong_customer_id(draw, body):
    body["customerId"] = draw(WRONG_CUSTOMER_IDS)
    return 422, "invalid_customer_id", "customerId", None


def _wrong_signature(draw, body):
    customer_id = draw(st.integers(1, 2**63 - 1))
    right = sign(customer_id, SECRET)  # the Mechanic form
    body.pop("customerIdSignedAt", None)
    body["customerId"] = draw(st.sampled_from([customer_id, str(customer_id)]))
    value = draw(st.one_of(
        st.sampled_from([ABSENT, None, "", right[:-1], right + "0", sign(customer_id + 1, SECRET),
                         sign(customer_id, SECRET + "x"), right[:-1] + ("0" if right[-1] != "0"
                                                                          else "1")]),
        ANY_TEXT.filter(lambda text: text.lower() != right),
        st.integers(), st.booleans(), st.lists(SCALARS, max_size=2),
        st.dictionaries(ANY_TEXT, SCALARS, max_size=2)))
    put(body, "customerIdSignature", value)
    missing = value is ABSENT or value is None or value == ""
    return 401, "signature_missing" if missing else "signature_invalid", "customerIdSignature", None


def _wrong_signed_at(draw, body):
    customer_id = draw(st.integers(1, 2**63 - 1))
    body["customerId"] = customer_id
    body["customerIdSignature"] = sign(customer_id, SECRET)
    body["customerIdSignedAt"] = draw(st.one_of(
        st.booleans(), st.integers(-(10**30), 0), st.integers(10**12, 10**30),
        st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(SPECIAL_FLOATS),
        ANY_TEXT.filter(lambda text: text != "" and not re.fullmatch(r"[1-9][0-9]{0,11}", text)),
        st.lists(SCALARS, min_size=1, max_size=2),
        st.dictionaries(ANY_TEXT, SCALARS, min_size=1, max_size=2)))
    return 401, "signature_invalid", "customerIdSignedAt", None


WRONG_FIELDS = {
    "cart": _wrong_cart, "items": _wrong_items, "line": _wrong_line,
    "variant_id": _wrong_variant_id, "quantity": _wrong_quantity,
    "properties": _wrong_properties, "selling_plan_allocation": _selling_plan_allocation,
    "note": _wrong_note, "attributes": _wrong_attributes, "customerId": _wrong_customer_id,
    "customerIdSignature": _wrong_signature, "customerIdSignedAt": _wrong_signed_at,
}


@pytest.mark.slow
@pytest.mark.parametrize("field", list(WRONG_FIELDS))
@hypothesis_settings(PROPERTY, max_examples=50)
@given(data=st.data())
def test_wrong_value_in_a_field_is_refused_naming_it_and_writing_nothing(receiver, field, data):
    body, _ = data.draw(signed_carts(max_lines=3, noise=False))
    status, code, where, line = WRONG_FIELDS[field](data.draw, body)
    response = receiver.post_json(body)
    assert_refused(response, status, code, field=where, line=line)


# --- Valid signed carts -----------------------------------------------------------------


@pytest.mark.slow
@hypothesis_settings(PROPERTY, max_examples=150)
@given(cart=signed_carts())
def test_valid_cart_is_stored_as_the_draft_order_it_maps_to(receiver, cart):
    """Lines in order (variant ids as ints, properties as name/value pairs), the
    customer only when signed, the note unless blank, the attributes then the
    event marker, and nothing else; or, when that draft order would not fit in
    an event, 413 cart_too_large."""
    body, draft = cart
    marked = {"name": EVENT_MARKER, "value": "0" * 36}  # as long as an event id
    stored = stored_payload({"draft_order": {
        **draft, "note_attributes": [*draft["note_attributes"], marked]}})
    response = receiver.post_json(body)
    if len(stored.text.encode()) > MAX_PAYLOAD_BYTES:
        assert_refused(response, 413, "cart_too_large", field="cart")
        return
    assert response.status_code == 202, response.get_json()
    draft["note_attributes"].append({"name": EVENT_MARKER, "value": response.get_json()["id"]})
    assert receiver.draft(response) == draft


@PROPERTY
@given(value=FLOAT_VALUES)
def test_float_property_value_is_sent_as_text_of_the_same_number(receiver, value):
    body = cart_body(items=[{"variant_id": 1, "quantity": 1, "properties": {"Size": value}}])
    response = receiver.post_json(body)
    assert response.status_code == 202, response.get_json()
    text = receiver.draft(response)["line_items"][0]["properties"][0]["value"]
    assert float(text) == value and math.copysign(1, float(text)) == math.copysign(1, value)


@pytest.mark.parametrize("number", [2**63, 2**64, 10**19 + 7, -(2**64), 10**3999],
                         ids=["2^63", "2^64", "20 digits", "-2^64", "4000 digits"])
def test_integer_property_value_beyond_64_bits_is_sent_as_its_exact_digits(receiver, number):
    body = cart_body(items=[{"variant_id": 1, "quantity": 1, "properties": {"Serial": number}}])
    response = receiver.post_json(body)
    assert response.status_code == 202, response.get_json()
    assert receiver.draft(response)["line_items"][0]["properties"] == [
        {"name": "Serial", "value": str(number)}]


# --- Raw text the JSON encoder would never write ----------------------------------------

LITERAL_PLACES = {
    "variant_id": lambda literal: cart_body(items=[{"variant_id": literal, "quantity": 1}]),
    "quantity": lambda literal: cart_body(items=[{"variant_id": 1, "quantity": literal}]),
    "property": lambda literal: cart_body(
        items=[{"variant_id": 1, "quantity": 1, "properties": {"Size": literal}}]),
    "attribute": lambda literal: cart_body(attributes={"Gift": literal}),
    "ignored_cart_field": lambda literal: cart_body(total_price=literal),
    "customerId": lambda literal: {**cart_body(), "customerId": literal},
}


@pytest.mark.parametrize("place", list(LITERAL_PLACES))
@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_or_infinity_literal_anywhere_is_400_invalid_json(receiver, place, literal):
    raw = raw_with(LITERAL_PLACES[place]("@@literal@@"), "@@literal@@", literal)
    assert_refused(receiver.post(raw), 400, "invalid_json")


@PROPERTY
@given(place=st.sampled_from(list(LITERAL_PLACES)), digits=st.integers(4301, 50_000),
       sign_=st.sampled_from(["", "-"]))
def test_integer_longer_than_python_parses_is_400_invalid_json(receiver, place, digits, sign_):
    raw = raw_with(LITERAL_PLACES[place]("@@literal@@"), "@@literal@@", sign_ + "9" * digits)
    assert_refused(receiver.post(raw), 400, "invalid_json")


@pytest.mark.parametrize("number", [10**20, 2**70, 10**4000], ids=["10^20", "2^70", "10^4000"])
def test_integer_variant_id_beyond_20_digits_is_422(receiver, number):
    body = cart_body(items=[{"variant_id": 1, "quantity": 1}, {"variant_id": number,
                                                               "quantity": 1}])
    assert_refused(receiver.post_json(body), 422, "invalid_variant_id",
                   field="cart.items[1].variant_id", line=1)


@pytest.mark.parametrize("number", [10**20, 2**70, 10**4000], ids=["10^20", "2^70", "10^4000"])
def test_integer_customer_id_beyond_20_digits_is_422(receiver, number):
    body = {**cart_body(), "customerId": number}
    assert_refused(receiver.post_json(body), 422, "invalid_customer_id", field="customerId")


@PROPERTY
@given(depth=st.integers(1, 3000), shape=st.sampled_from(["list", "object"]))
def test_nesting_of_any_depth_is_answered_by_the_contract(receiver, depth, shape):
    nested = ("[" * depth + "]" * depth if shape == "list"
              else '{"a": ' * depth + "0" + "}" * depth)
    response = receiver.post(raw_with(cart_body(extra="@@nested@@"), "@@nested@@", nested))
    assert response.status_code == 202 or response.get_json()["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("raw", [
    "[" * 100_000,
    "[" * 100_000 + "]" * 100_000,
    '{"a": ' * 100_000 + "0" + "}" * 100_000,
    '{"cart": {"items": ' + "[" * 100_000 + "]" * 100_000 + "}}",
], ids=["open", "closed", "objects", "inside-cart"])
def test_json_nested_100000_levels_deep_is_400_invalid_json(receiver, raw):
    assert_refused(receiver.post(raw), 400, "invalid_json")


def _not_utf8(data):
    """Bytes no UTF-8 decoder accepts, not even one that lets surrogates pass
    (those have their own test: test_utf8_encoded_surrogate_bytes_are_400_invalid_json)."""
    try:
        data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return True
    return False


@PROPERTY
@given(bad=st.sampled_from([b"\xff", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf4\x90\x80\x80", b"\x80",
                            b"\xc3", b"\xe2\x82", b"\xfe\xff"])
       | st.binary(min_size=1, max_size=6).filter(_not_utf8),
       place=st.sampled_from(["note", "property", "name"]))
def test_body_with_bytes_that_are_not_utf8_is_400_invalid_json(receiver, bad, place):
    body = {"note": cart_body(note="@@"),
            "property": cart_body(items=[{"variant_id": 1, "quantity": 1,
                                          "properties": {"Engraving": "@@"}}]),
            "name": cart_body(attributes={"@@": "yes"})}[place]
    raw = json.dumps(body).encode().replace(b"@@", bad)
    assert_refused(receiver.post(raw), 400, "invalid_json")


@PROPERTY
@given(text=st.tuples(st.text(max_size=5), st.characters(categories=["Cs"]),
                     st.text(max_size=5)).map("".join),
       place=st.sampled_from(["note", "property_name", "property_value", "attribute_name",
                              "attribute_value", "customerId", "customerIdSignature"]))
def test_lone_surrogate_in_any_text_field_is_400_invalid_json(receiver, text, place):
    line = {"variant_id": 1, "quantity": 1}
    body = {
        "note": lambda: cart_body(note=text),
        "property_name": lambda: cart_body(items=[{**line, "properties": {text: "x"}}]),
        "property_value": lambda: cart_body(items=[{**line, "properties": {"x": text}}]),
        "attribute_name": lambda: cart_body(attributes={text: "x"}),
        "attribute_value": lambda: cart_body(attributes={"x": text}),
        "customerId": lambda: {**cart_body(), "customerId": text},
        "customerIdSignature": lambda: cart_body(signature=text),
    }[place]()
    assert_refused(receiver.post_json(body), 400, "invalid_json")


# --- Size, framing and content type -----------------------------------------------------


def padded_cart(size):
    raw = json.dumps(cart_body()).encode()
    assert len(raw) <= size
    return raw + b" " * (size - len(raw))


@PROPERTY
@given(size=st.integers(SMALL_LIMIT + 1, 4 * SMALL_LIMIT),
       kind=st.sampled_from(["padded_cart", "cart_then_garbage", "brackets"]))
def test_body_over_max_body_bytes_is_413_body_too_large(small, size, kind):
    data = {"padded_cart": lambda: padded_cart(size),
            "cart_then_garbage": lambda: padded_cart(SMALL_LIMIT) + b"x" * (size - SMALL_LIMIT),
            "brackets": lambda: b"[" * size}[kind]()
    assert_refused(small.post(data), 413, "body_too_large")


def test_body_of_exactly_max_body_bytes_is_accepted(small):
    assert small.post(padded_cart(SMALL_LIMIT)).status_code == 202


def test_content_length_over_the_limit_is_413_whatever_the_body(small):
    response = small.post(None, input_stream=io.BytesIO(json.dumps(cart_body()).encode()),
                          environ_overrides={"CONTENT_LENGTH": str(SMALL_LIMIT + 1)})
    assert_refused(response, 413, "body_too_large")


def test_content_length_shorter_than_the_body_cuts_it_and_is_400(receiver):
    raw = json.dumps(cart_body()).encode()
    response = receiver.post(None, input_stream=io.BytesIO(raw),
                             environ_overrides={"CONTENT_LENGTH": str(len(raw) // 2)})
    assert_refused(response, 400, "invalid_json")


@pytest.mark.parametrize("content_type", ["application/json", "text/plain;charset=UTF-8", None])
@pytest.mark.parametrize("data", [b"", b" ", b"\r\n\t"], ids=["empty", "space", "whitespace"])
def test_empty_body_is_400_invalid_json(receiver, content_type, data):
    assert_refused(receiver.post(data, content_type=content_type), 400, "invalid_json")


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "APPLICATION/JSON",
                                          "text/plain", "Text/Plain; charset=UTF-8"])
def test_json_or_plain_text_in_any_spelling_is_accepted(receiver, content_type):
    assert receiver.post_json(cart_body(), content_type=content_type).status_code == 202


@PROPERTY
@given(content_type=st.sampled_from([
    "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml",
    "text/html", "text/xml", "application/octet-stream", "image/png", "text/csv"])
    | st.from_regex(r"[a-z]{1,12}/[a-z0-9.+-]{1,20}", fullmatch=True).filter(
        lambda mimetype: "json" not in mimetype and mimetype != "text/plain"))
def test_other_content_type_is_415_even_for_a_valid_cart(receiver, content_type):
    response = receiver.post_json(cart_body(), content_type=content_type)
    assert_refused(response, 415, "unsupported_media_type")


# --- Bugs this file found, kept as regression tests -------------------------------


@pytest.mark.parametrize("limits", ["off", "on"])
@pytest.mark.parametrize("customer_id", [2**63, 10**20 - 1], ids=["2^63", "20 nines"])
def test_signed_customer_id_above_2_63_is_answered_by_the_contract(make_app, limits,
                                                                   customer_id):
    app = make_app(**(EVERY_SUBMISSION_COUNTS if limits == "off" else {}))
    response = Receiver(app).post_json(cart_body(customer_id=customer_id))
    assert_refused(response, 422, "invalid_customer_id", field="customerId")


def test_chunked_body_over_max_body_bytes_is_413_body_too_large(small):
    data = padded_cart(SMALL_LIMIT) + b"garbage" * SMALL_LIMIT
    # The web server de-chunks the body and sets wsgi.input_terminated, as emulated here.
    response = small.post(None, input_stream=io.BytesIO(data), environ_overrides={
        "HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True})
    assert_refused(response, 413, "body_too_large")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_body_encoded_as_utf16_or_utf32_is_400_invalid_json(receiver, encoding):
    raw = json.dumps(cart_body()).encode(encoding)
    assert_refused(receiver.post(raw, content_type="application/json"), 400, "invalid_json")


def test_utf8_encoded_surrogate_bytes_are_400_invalid_json(receiver):
    raw = json.dumps(cart_body(note="@@")).encode().replace(b"@@", b"\xed\xa0\x80")
    assert_refused(receiver.post(raw), 400, "invalid_json")


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "1" * 400 + ".5"],
                         ids=["1e400", "-1e400", "400 digits"])
def test_number_that_overflows_a_float_never_becomes_infinity(receiver, literal):
    body = cart_body(items=[{"variant_id": 1, "quantity": 1, "properties": {"Size": "@@"}}])
    assert_refused(receiver.post(raw_with(body, "@@", literal)), 400, "invalid_json")


def test_digit_string_variant_id_with_a_trailing_newline_is_422(receiver):
    body = cart_body(items=[{"variant_id": "39072856\n", "quantity": 1}])
    assert_refused(receiver.post_json(body), 422, "invalid_variant_id",
                   field="cart.items[0].variant_id", line=0)


def test_error_detail_names_a_property_without_python_escapes(receiver):
    body = cart_body(items=[{"variant_id": 1, "quantity": 1, "properties": {"a\x00b": None}}])
    response = receiver.post_json(body)
    assert_refused(response, 422, "invalid_properties")
    assert "\\x" not in response.get_json()["error"]["detail"]


def test_a_body_nesting_an_unchecked_field_deep_is_kept_within_64_kib(receiver):
    """A body nesting arrays 950 deep (800 here, within pytest's deeper stack) in a
    field nobody reads was stored whole, and its event page re-indented it to a
    gigabyte."""
    body = {**cart_body(), "junk": ["[" * 800 + "]" * 800] * 350}
    text = json.dumps(body).replace('"[[', "[[").replace(']]"', "]]")
    response = receiver.post(text)
    assert response.status_code == 202
    assert len(receiver.app.extensions["store"].get(response.get_json()["id"])["received"]
               .encode()) <= 64 * 1024
