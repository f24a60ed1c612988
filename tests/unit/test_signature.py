import hashlib
import hmac

import pytest

from app.intake.errors import ApiError
from app.intake.signature import sign, verified_customer_id

SECRET = "secret!"


def test_signature_is_liquid_hmac_sha256_of_the_decimal_id():
    expected = hmac.new(b"secret!", b"207119551", hashlib.sha256).hexdigest()
    assert sign(207119551, SECRET) == expected


@pytest.mark.parametrize("customer_id", [207119551, "207119551"])
def test_good_signature_yields_the_customer_id(customer_id):
    assert verified_customer_id(customer_id, sign(207119551, SECRET), SECRET) == 207119551


def test_uppercase_hex_signature_is_accepted():
    assert verified_customer_id(5, sign(5, SECRET).upper(), SECRET) == 5


@pytest.mark.parametrize("raw_signature", [None, ""])
def test_missing_signature_is_401_not_a_guest_order(raw_signature):
    with pytest.raises(ApiError) as raised:
        verified_customer_id(5, raw_signature, SECRET)
    assert (raised.value.status, raised.value.code) == (401, "signature_missing")


@pytest.mark.parametrize("raw_signature", [
    sign(6, SECRET), sign(5, "other secret"), "0" * 64, "zz", 12345, ["x"], "é" * 64,
])
def test_wrong_signature_is_401(raw_signature):
    with pytest.raises(ApiError) as raised:
        verified_customer_id(5, raw_signature, SECRET)
    assert (raised.value.status, raised.value.code) == (401, "signature_invalid")


@pytest.mark.parametrize("raw_id", [None, ""])
def test_no_customer_is_a_guest_whatever_the_signature(raw_id):
    # Liquid renders `nil | hmac_sha256` as the HMAC of "", so guests send one too.
    assert verified_customer_id(raw_id, sign("", SECRET), SECRET) is None


@pytest.mark.parametrize("raw_id", [0, -5, "abc", 1.5, True, {"id": 1}, "1" * 21])
def test_malformed_customer_id_is_422(raw_id):
    with pytest.raises(ApiError) as raised:
        verified_customer_id(raw_id, sign(raw_id, SECRET), SECRET)
    assert (raised.value.status, raised.value.extra["field"]) == (422, "customerId")
