"""The one rule for reading an id (app/ids.py), which variant, customer and draft
order ids and the signed-at seconds all follow."""

import pytest

from app.ids import MAX_BIGINT, positive_id


def test_an_id_is_a_json_integer_or_its_decimal_digits():
    assert positive_id(207119551, MAX_BIGINT) == 207119551
    assert positive_id("207119551", MAX_BIGINT) == 207119551


def test_the_maximum_itself_is_an_id():
    assert positive_id(MAX_BIGINT, MAX_BIGINT) == MAX_BIGINT
    assert positive_id(str(MAX_BIGINT), MAX_BIGINT) == MAX_BIGINT


@pytest.mark.parametrize("raw", [MAX_BIGINT + 1, str(MAX_BIGINT + 1), "9" * 20, "9" * 5000])
def test_an_id_above_the_maximum_is_none(raw):
    assert positive_id(raw, MAX_BIGINT) is None


@pytest.mark.parametrize("raw", [0, -7, "0", "-7", "+7", "07", " 7", "7 ", "7\n", "7.0", "1e3",
                                 "0x1F", "١٢", ""])
def test_zero_negatives_and_other_spellings_are_no_ids(raw):
    assert positive_id(raw, MAX_BIGINT) is None


@pytest.mark.parametrize("raw", [True, False, 7.0, None, [7], {"id": 7}])
def test_booleans_floats_and_containers_are_no_ids(raw):
    assert positive_id(raw, MAX_BIGINT) is None


def test_unquoted_takes_a_json_integer_only():
    assert positive_id(7, MAX_BIGINT, quoted=False) == 7
    assert positive_id("7", MAX_BIGINT, quoted=False) is None
