"""Who sent the cart: the storefront signs the customer id with Liquid's
`hmac_sha256` filter, and only a shop's theme knows the shared secret.

Shopify renders `{{ customer.id | hmac_sha256: secret }}` as the lowercase hex
HMAC-SHA256 of the id's decimal text, so that is exactly what we recompute.

That Mechanic form never expires: whoever once saw a page's source can replay
it. The timestamped form, modelled on Stripe's webhook signatures, signs
"<unix seconds>.<customer id>" at render time instead, and is refused once older
than a tolerance. The two messages cannot be mistaken for each other: an id
has no ".".

For a B2B shopper the snippet also signs the company location it buys for,
as "<customer message>:<company id>:<location id>", where the customer message
is exactly what the customer signature signed. Tying the location to the
customer (and to the page's time) keeps a location signature from serving
anyone else; ":" occurs in no customer message, so no two messages collide.

A refused signature tells the shopper only to reload or contact the store; the
precise reason (a wrong secret, a snippet in the wrong mode, a clock off) goes
to the log line, never with the secret or the signature itself.
"""

import hashlib
import hmac
from collections.abc import Mapping

from ..ids import MAX_BIGINT, positive_id
from .errors import ApiError

# A page rendered by Shopify a little "in the future" of our clock is clock skew;
# anything further ahead means a clock to fix, not a page to trust.
MAX_CLOCK_SKEW = 300

MAX_SIGNED_AT = 10**12 - 1  # unix seconds of at most 12 digits, read like an id
# The 401 detail for a customer we cannot confirm, whichever route refused it.
UNCONFIRMED = "Please reload the page and try again; if that does not help, contact the store."


def _customer_message(customer_id: int | str, signed_at: int | None = None) -> str:
    return str(customer_id) if signed_at is None else f"{signed_at}.{customer_id}"


def _hmac(message: str, secret: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _matches(expected: str, raw_signature: object) -> bool:
    """Constant-time, whatever the submitted value (a number, a list, non-ASCII)."""
    given = raw_signature if isinstance(raw_signature, str) else ""
    return hmac.compare_digest(expected.encode(), given.lower().encode("utf-8", "replace"))


def sign(customer_id: int | str, secret: str, signed_at: int | None = None) -> str:
    """The signature the storefront snippet renders for `customer_id`, in the
    Mechanic form, or in the timestamped form when `signed_at` is given."""
    return _hmac(_customer_message(customer_id, signed_at), secret)


def sign_location(customer_id: int | str, company_id: int, location_id: int, secret: str,
                  signed_at: int | None = None) -> str:
    """The signature the snippet renders for the company location a B2B
    customer buys for, in the same form as their customer signature."""
    return _hmac(f"{_customer_message(customer_id, signed_at)}:{company_id}:{location_id}",
                 secret)


def _absent(raw: object) -> bool:
    return raw is None or raw == ""


def _customer_id_text(raw: object) -> str | None:
    """The decimal text of a submitted customer id, or None for a guest."""
    if _absent(raw):
        return None
    customer_id = positive_id(raw, MAX_BIGINT)
    if customer_id is None:
        raise ApiError(422, "invalid_customer_id",
                       "customerId must be a positive whole number or null.",
                       field="customerId")
    return str(customer_id)


def verified_customer_id(raw_id: object, raw_signature: object, secret: str,
                         signed_at: int | None = None) -> int | None:
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
        raise ApiError(401, "signature_missing", UNCONFIRMED, field="customerIdSignature",
                       log="customerId was sent without customerIdSignature")
    if not _matches(sign(customer_id, secret, signed_at), raw_signature):
        raise ApiError(401, "signature_invalid", UNCONFIRMED, field="customerIdSignature",
                       log=f"customerIdSignature does not match customerId {customer_id}; "
                           f"check that the snippet's secret equals SHARED_SECRET")
    return int(customer_id)


def _signed_at(raw: object) -> int:
    """The unix seconds a timestamped signature was rendered at."""
    if _absent(raw):
        raise ApiError(401, "signature_missing", UNCONFIRMED, field="customerIdSignedAt",
                       log="customerIdSignedAt is required: SIGNATURE_MODE=timestamped accepts "
                           "only timestamped signatures; set the snippet's "
                           "draft_order_signature_mode to \"timestamped\"")
    signed_at = positive_id(raw, MAX_SIGNED_AT)
    if signed_at is None:
        raise ApiError(401, "signature_invalid", UNCONFIRMED, field="customerIdSignedAt",
                       log="customerIdSignedAt must be the unix time, in whole seconds, at "
                           "which the page was rendered")
    return signed_at


def signed_customer_id(body: Mapping[str, object], secret: str, *, mode: str, tolerance: float,
                       now: float) -> int | None:
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
        raise ApiError(401, "signature_invalid", UNCONFIRMED, field="customerIdSignedAt",
                       log=f"customerIdSignedAt is {signed_at - now:.0f} s in the future; "
                           f"check that the receiver's clock is right")
    return customer_id


def _company_id(body: Mapping[str, object], field: str) -> int:
    company_id = positive_id(body.get(field), MAX_BIGINT)
    if company_id is None:
        raise ApiError(422, "invalid_company_location",
                       f"{field} must be a positive whole number.", field=field)
    return company_id


def signed_company(body: Mapping[str, object], secret: str,
                   customer_id: int | None) -> dict[str, int] | None:
    """The company location a B2B submission's signature vouches for, as
    {"company_id", "location_id"}, or None when the body names no location.

    `customer_id` is the one `signed_customer_id` verified from the same body:
    the location's signature extends that customer's signed message, so a
    guest can name no location. A wrong or missing signature is refused as
    the customer's is, never quietly turned into an order without the company.
    """
    if _absent(body.get("companyLocationId")):
        return None
    company_id = _company_id(body, "companyId")
    location_id = _company_id(body, "companyLocationId")
    raw_signature = body.get("companyLocationSignature")
    if _absent(raw_signature):
        raise ApiError(401, "signature_missing", UNCONFIRMED, field="companyLocationSignature",
                       log="companyLocationId was sent without companyLocationSignature")
    if customer_id is None:
        raise ApiError(401, "signature_invalid", UNCONFIRMED, field="companyLocationSignature",
                       log="companyLocationId was sent without a signed customerId")
    raw_signed_at = body.get("customerIdSignedAt")
    signed_at = None if _absent(raw_signed_at) else _signed_at(raw_signed_at)
    if not _matches(sign_location(customer_id, company_id, location_id, secret, signed_at),
                    raw_signature):
        raise ApiError(401, "signature_invalid", UNCONFIRMED, field="companyLocationSignature",
                       log=f"companyLocationSignature does not match company {company_id} "
                           f"location {location_id} for customer {customer_id}; check that "
                           f"the snippet signs the customer's message, company and location")
    return {"company_id": company_id, "location_id": location_id}


def named_company(body: Mapping[str, object], customer_id: int | None) -> dict[str, int] | None:
    """Under the app proxy: the company location the body names, unsigned (the
    proxy signs the customer, not the location), as {"company_id",
    "location_id"}, or None when it names none. Shopify vouches for it before
    the draft is made: the worker's PrepareDraft (app/shopify/graphql.py)
    drafts only for a location of a company the customer is a contact of, and
    fails the event with b2b_contact_not_found otherwise. A guest is no contact."""
    if _absent(body.get("companyLocationId")):
        return None
    if customer_id is None:
        raise ApiError(422, "invalid_company_location",
                       "Please sign in to buy for your company.", field="companyLocationId")
    return {"company_id": _company_id(body, "companyId"),
            "location_id": _company_id(body, "companyLocationId")}
