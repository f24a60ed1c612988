"""Who sent the cart: the storefront signs the customer id with Liquid's
`hmac_sha256` filter, and only a shop's theme knows the shared secret.

Shopify renders `{{ customer.id | hmac_sha256: secret }}` as the lowercase hex
HMAC-SHA256 of the id's decimal text, so that is exactly what we recompute.
"""

import hashlib
import hmac
import re

from .errors import ApiError

_CUSTOMER_ID = re.compile(r"^[1-9][0-9]{0,19}$")


def sign(customer_id, secret):
    """The signature the storefront snippet renders for `customer_id`."""
    return hmac.new(secret.encode(), str(customer_id).encode(), hashlib.sha256).hexdigest()


def _customer_id_text(raw):
    """The decimal text of a submitted customer id, or None for a guest."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, str)) \
            or not _CUSTOMER_ID.match(str(raw)):
        raise ApiError(422, "invalid_customer_id",
                       "customerId must be a positive whole number or null.",
                       field="customerId")
    return str(raw)


def verified_customer_id(raw_id, raw_signature, secret):
    """Return the customer id the signature vouches for, or None for a guest.

    A customer id with a missing or wrong signature is refused outright rather
    than quietly turned into a guest order: it means a misconfigured secret or
    a forged request, and the shopper should hear about it.
    """
    customer_id = _customer_id_text(raw_id)
    if customer_id is None:
        return None
    if raw_signature is None or raw_signature == "":
        raise ApiError(401, "signature_missing",
                       "customerId was sent without customerIdSignature.",
                       field="customerIdSignature")
    given = raw_signature if isinstance(raw_signature, str) else ""
    if not hmac.compare_digest(sign(customer_id, secret).encode(),
                               given.lower().encode("utf-8", "replace")):
        raise ApiError(401, "signature_invalid",
                       "customerIdSignature does not match customerId; check that the "
                       "snippet's secret equals SHARED_SECRET.",
                       field="customerIdSignature")
    return int(customer_id)
