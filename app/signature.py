"""Who sent the cart: the storefront signs the customer id with Liquid's
`hmac_sha256` filter, and only a shop's theme knows the shared secret.

Shopify renders `{{ customer.id | hmac_sha256: secret }}` as the lowercase hex
HMAC-SHA256 of the id's decimal text, so that is exactly what we recompute.

That Mechanic form never expires: whoever once saw a page's source can replay
it. The timestamped form, modelled on Stripe's webhook signatures, signs
"<unix seconds>.<customer id>" at render time instead, and is refused once older
than a tolerance. The two messages cannot be mistaken for each other: an id
has no ".".

A refused signature tells the shopper only to reload or contact the store; the
precise reason (a wrong secret, a snippet in the wrong mode, a clock off) goes
to the log line, never with the secret or the signature itself.
"""

import hashlib
import hmac

from .errors import ApiError
from .ids import MAX_BIGINT, positive_id

# A page rendered by Shopify a little "in the future" of our clock is clock skew;
# anything further ahead means a clock to fix, not a page to trust.
MAX_CLOCK_SKEW = 300

MAX_SIGNED_AT = 10**12 - 1  # unix seconds of at most 12 digits, read like an id
_UNCONFIRMED = "Please reload the page and try again; if that does not help, contact the store."


def sign(customer_id, secret, signed_at=None):
    """The signature the storefront snippet renders for `customer_id`, in the
    Mechanic form, or in the timestamped form when `signed_at` is given."""
    message = str(customer_id) if signed_at is None else f"{signed_at}.{customer_id}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _absent(raw):
    return raw is None or raw == ""


def _customer_id_text(raw):
    """The decimal text of a submitted customer id, or None for a guest."""
    if _absent(raw):
        return None
    customer_id = positive_id(raw, MAX_BIGINT)
    if customer_id is None:
        raise ApiError(422, "invalid_customer_id",
                       "customerId must be a positive whole number or null.",
                       field="customerId")
    return str(customer_id)


def verified_customer_id(raw_id, raw_signature, secret, signed_at=None):
    """Return the customer id the signature vouches for, or None for a guest;
    `signed_at` (the timestamped form's parsed seconds) is part of what was signed.

    A customer id with a missing or wrong signature is refused outright rather
    than quietly turned into a guest order: it means a misconfigured secret or
    a forged request, and the shopper should hear about it.
    """
    customer_id = _customer_id_text(raw_id)
    if customer_id is None:
        return None
    if _absent(raw_signature):
        raise ApiError(401, "signature_missing", _UNCONFIRMED, field="customerIdSignature",
                       log="customerId was sent without customerIdSignature")
    given = raw_signature if isinstance(raw_signature, str) else ""
    if not hmac.compare_digest(sign(customer_id, secret, signed_at).encode(),
                               given.lower().encode("utf-8", "replace")):
        raise ApiError(401, "signature_invalid", _UNCONFIRMED, field="customerIdSignature",
                       log=f"customerIdSignature does not match customerId {customer_id}; "
                           f"check that the snippet's secret equals SHARED_SECRET")
    return int(customer_id)


def _signed_at(raw):
    """The unix seconds a timestamped signature was rendered at."""
    if _absent(raw):
        raise ApiError(401, "signature_missing", _UNCONFIRMED, field="customerIdSignedAt",
                       log="customerIdSignedAt is required: SIGNATURE_MODE=timestamped accepts "
                           "only timestamped signatures; set the snippet's "
                           "draft_order_signature_mode to \"timestamped\"")
    signed_at = positive_id(raw, MAX_SIGNED_AT)
    if signed_at is None:
        raise ApiError(401, "signature_invalid", _UNCONFIRMED, field="customerIdSignedAt",
                       log="customerIdSignedAt must be the unix time, in whole seconds, at "
                           "which the page was rendered")
    return signed_at


def signed_customer_id(body, secret, *, mode, tolerance, now):
    """The customer id a submission's signature vouches for, or None for a guest.

    A body carrying `customerIdSignedAt` is always checked as timestamped, in
    either mode: accepting it costs nothing (the Mechanic form is accepted
    anyway) and lets a merchant switch the snippet before SIGNATURE_MODE.
    Only `mode="mechanic"` accepts a body without it. The HMAC is checked
    before the age, so an expired answer always means a genuine old page.
    """
    raw_id, raw_signature = body.get("customerId"), body.get("customerIdSignature")
    raw_signed_at = body.get("customerIdSignedAt")
    if _absent(raw_signed_at) and mode == "mechanic":
        return verified_customer_id(raw_id, raw_signature, secret)
    if _customer_id_text(raw_id) is None:
        return None
    signed_at = _signed_at(raw_signed_at)
    customer_id = verified_customer_id(raw_id, raw_signature, secret, signed_at)
    if now - signed_at > tolerance:
        raise ApiError(401, "signature_expired",
                       "This page was signed too long ago; please reload the page and "
                       "try again.", field="customerIdSignedAt")
    if signed_at - now > MAX_CLOCK_SKEW:
        raise ApiError(401, "signature_invalid", _UNCONFIRMED, field="customerIdSignedAt",
                       log=f"customerIdSignedAt is {signed_at - now:.0f} s in the future; "
                           f"check that the receiver's clock is right")
    return customer_id
