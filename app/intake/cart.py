"""The cart contract: which storefront carts we accept, and the draft order
each one becomes. Pure functions, so every rule can be tested on its own.

Only variant ids, quantities, line properties, the note and cart attributes
cross over, and where the settings turn them on (GraphQL only), the cart's
currency, its discount codes and the signed company location, in `cart_context`.
Prices, titles, amounts and taxes in the browser's cart are ignored on purpose:
anybody can edit them, and Shopify prices variants and decides each discount
code itself.
"""

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any, TypeGuard

from ..ids import EVENT_MARKER, positive_id
from . import contact
from .errors import ApiError

# `Any` here is JSON: a draft order payload, made from the cart as sent.

MAX_LINES = 250
MAX_QUANTITY = 999_999
MAX_NAME_CHARS = 255
MAX_VALUE_CHARS = 4000
MAX_NOTE_CHARS = 5000
MAX_TOKEN_CHARS = 255  # shown of a cart token (Shopify's run to about 100)

# What one event keeps of a submission, whatever the body: the payload, and as
# much of the body as sent as fits beside it, at least MIN_EXCERPT_BYTES.
MAX_EVENT_BYTES = 64 * 1024
MIN_EXCERPT_BYTES = 2 * 1024
MAX_PAYLOAD_BYTES = MAX_EVENT_BYTES - MIN_EXCERPT_BYTES

MAX_VARIANT_ID = 10**20 - 1  # at most 20 digits (README: the cart contract)

MAX_DISCOUNT_CODES = 25  # what one cart can show; Shopify decides each one
MAX_DISCOUNT_CODE_CHARS = 255

# ISO 4217's active alphabetic codes (funds and metals included), so that a
# typo is refused here, naming the field, instead of by Shopify later.
CURRENCY_CODES = frozenset("""
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD
    BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD
    EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD
    IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL
    MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN
    PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN
    SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES
    VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XTS XUA XXX YER
    ZAR ZMW ZWG
""".split())


def _invalid(code: str, detail: str, field: str, line: int | None = None) -> ApiError:
    if line is None:
        return ApiError(422, code, detail, field=field)
    return ApiError(422, code, detail, field=field, line=line)


def _is_int(value: object) -> TypeGuard[int]:
    # bool is a subclass of int in Python, and JSON's true must not pass as 1.
    return isinstance(value, int) and not isinstance(value, bool)


def _variant_id(item: Mapping[str, object], field: str, line: int) -> int:
    variant_id = positive_id(item.get("variant_id"), MAX_VARIANT_ID)
    if variant_id is None:
        raise _invalid("invalid_variant_id",
                       f"Line {line}: variant_id must be a positive whole number.",
                       field, line)
    return variant_id


def _quantity(item: Mapping[str, object], field: str, line: int) -> int:
    raw = item.get("quantity")
    if not _is_int(raw) or not 1 <= raw <= MAX_QUANTITY:
        raise _invalid("invalid_quantity",
                       f"Line {line}: quantity must be a whole number from 1 to {MAX_QUANTITY}.",
                       field, line)
    return raw


def _name_value_pairs(raw: object, field: str, code: str,
                      line: int | None = None) -> list[dict[str, str]]:
    """Turn a flat {name: value} object into Shopify's [{"name", "value"}] list."""
    if raw is None:
        return []
    where = f"Line {line}: " if line is not None else ""
    if not isinstance(raw, dict):
        raise _invalid(code, f"{where}{field} must be an object.", field, line)
    pairs = []
    for name, value in raw.items():
        if len(name) > MAX_NAME_CHARS:
            raise _invalid(code,
                           f"{where}a name in {field} is longer than {MAX_NAME_CHARS} characters.",
                           field, line)
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise _invalid(code,
                           f"{where}{field}[{json.dumps(name)}] must be a string or a number.",
                           f"{field}.{name}", line)
        text = value if isinstance(value, str) else repr(value)
        if len(text) > MAX_VALUE_CHARS:
            raise _invalid(code,
                           f"{where}{field}[{json.dumps(name)}] is longer than {MAX_VALUE_CHARS} "
                           f"characters.",
                           f"{field}.{name}", line)
        pairs.append({"name": name, "value": text})
    return pairs


def _line_item(item: object, index: int) -> dict[str, object]:
    field = f"cart.items[{index}]"
    if not isinstance(item, dict):
        raise _invalid("invalid_line", f"Line {index}: each cart line must be an object.",
                       field, index)
    if item.get("selling_plan_allocation") is not None:
        raise _invalid("subscription_not_supported",
                       f"Line {index} is a subscription; draft orders cannot carry selling "
                       f"plans, so remove it or check it out normally.",
                       f"{field}.selling_plan_allocation", index)
    return {
        "variant_id": _variant_id(item, f"{field}.variant_id", index),
        "quantity": _quantity(item, f"{field}.quantity", index),
        "properties": _name_value_pairs(item.get("properties"), f"{field}.properties",
                                         "invalid_properties", index),
    }


def _note(cart: Mapping[str, object]) -> str:
    note = cart.get("note")
    if note is None:
        return ""
    if not isinstance(note, str) or len(note) > MAX_NOTE_CHARS:
        raise _invalid("invalid_note",
                       f"cart.note must be text of at most {MAX_NOTE_CHARS} characters.",
                       "cart.note")
    return note


def cart_token(cart: Mapping[str, object]) -> str | None:
    """The cart's token, which ties a resubmission to its first event; None when
    the cart has none (or something that is no token, which nothing may match)."""
    token = cart.get("token")
    return token if isinstance(token, str) and token else None


def _currency(cart: Mapping[str, object]) -> str | None:
    """The cart's currency (`/cart.js` gives the shopper's presentment currency),
    or None when the cart names none."""
    currency = cart.get("currency")
    if currency is None:
        return None
    if not isinstance(currency, str) or currency not in CURRENCY_CODES:
        raise _invalid("invalid_currency",
                       "cart.currency must be an ISO 4217 currency code such as EUR.",
                       "cart.currency")
    return currency


def _discount_codes(cart: Mapping[str, object]) -> list[str]:
    """The codes of `cart.discount_codes` (`[{code, applicable}]` as `/cart.js` lists
    them), each once whatever its case, in order. `applicable` is the storefront's
    view, and Shopify decides again for the draft order, so it is not read."""
    raw = cart.get("discount_codes")
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_DISCOUNT_CODES:
        raise _invalid("invalid_discount_codes",
                       f"cart.discount_codes must be a list of at most {MAX_DISCOUNT_CODES} "
                       f"codes.", "cart.discount_codes")
    codes, seen = [], set()
    for index, entry in enumerate(raw):
        code = entry.get("code") if isinstance(entry, dict) else None
        if not isinstance(code, str) or not code.strip() \
                or len(code) > MAX_DISCOUNT_CODE_CHARS:
            raise _invalid("invalid_discount_codes",
                           f"Discount code {index} must be text of 1 to "
                           f"{MAX_DISCOUNT_CODE_CHARS} characters.",
                           f"cart.discount_codes[{index}].code")
        if code.casefold() not in seen:
            seen.add(code.casefold())
            codes.append(code)
    return codes


def _cart_context(cart: Mapping[str, object], currency: bool, discount_codes: bool,
                  company: dict[str, int] | None) -> dict[str, object]:
    """What the GraphQL backend carries beside the REST body: only what the
    settings turn on (a feature off leaves its cart field unread)."""
    context = {}
    if currency and _currency(cart) is not None:
        context["currency"] = cart["currency"]
    codes = _discount_codes(cart) if discount_codes else []
    if codes:
        context["discount_codes"] = codes
    if company is not None:
        context["company"] = company
    return context


def draft_order_payload(cart: object, customer_id: int | None = None, tags: str = "",
                        event_id: str | None = None, *, currency: bool = False,
                        discount_codes: bool = False,
                        company: dict[str, int] | None = None,
                        guest: contact.Guest | None = None) -> dict[str, Any]:
    """Validate a storefront cart and map it to a `POST draft_orders.json` body,
    marked with `event_id`, with a `cart_context` beside it when there is any:
    the cart's `currency` and `discount_codes` when those flags (CART_CURRENCY,
    CART_DISCOUNT_CODES) are on, and `company` ({"company_id", "location_id"},
    already verified by its signature). A guest's contact (`guest`, validated)
    goes onto the draft as contact.apply puts it, and is kept as `guest_contact`.

    `customer_id` must already be verified by its signature. Raises ApiError
    (422) naming the first field or line at fault.
    """
    if not isinstance(cart, dict):
        raise _invalid("invalid_cart", "cart must be an object, as {{ cart | json }} gives it.",
                       "cart")
    items = cart.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_LINES:
        raise _invalid("invalid_items",
                       f"cart.items must be a list of 1 to {MAX_LINES} lines.", "cart.items")

    draft: dict[str, Any] = {"line_items": [_line_item(item, i) for i, item in enumerate(items)]}
    if customer_id is not None:
        draft["customer"] = {"id": customer_id}
        draft["use_customer_default_address"] = True
    note = _note(cart)
    if note.strip():
        draft["note"] = note
    attributes = _name_value_pairs(cart.get("attributes"), "cart.attributes",
                                   "invalid_attributes")
    if any(pair["name"] == EVENT_MARKER for pair in attributes):
        raise _invalid("invalid_attributes", f"cart.attributes may not use the reserved name "
                       f"{EVENT_MARKER}.", f"cart.attributes.{EVENT_MARKER}")
    if event_id is not None:
        attributes.append({"name": EVENT_MARKER, "value": event_id})
    if attributes:
        draft["note_attributes"] = attributes
    if tags:
        draft["tags"] = tags
    kept = None
    if guest is not None:
        contact.apply(draft, guest)
        kept = guest.contact()
    payload: dict[str, Any] = {"draft_order": draft}
    if kept:
        payload["guest_contact"] = kept
    context = _cart_context(cart, currency, discount_codes, company)
    if context:
        payload["cart_context"] = context
    return payload


def body_excerpt(text: str, size: int, payload_bytes: int, token: str | None) -> str:
    """The record of the body (`text`, `size` bytes) the event keeps for the
    merchant beside a payload of `payload_bytes`: the body as sent when it fits
    in MAX_EVENT_BYTES, as any ordinary cart does; else its start, and a line
    saying how much was sent and naming the cart's token.

    Raises ApiError (413) when the payload leaves no room for MIN_EXCERPT_BYTES,
    before anything is written: the event could not be kept within MAX_EVENT_BYTES.
    """
    if payload_bytes > MAX_PAYLOAD_BYTES:
        raise ApiError(413, "cart_too_large",
                       f"This cart's draft order would take {math.ceil(payload_bytes / 1024)} "
                       f"KiB; one may take at most {MAX_PAYLOAD_BYTES // 1024} KiB. Send fewer "
                       f"lines or shorter line properties.", field="cart")
    room = MAX_EVENT_BYTES - payload_bytes
    if size <= room:
        return text
    trailer = (f"\n[cut: the storefront sent {size} bytes; the event keeps this start of them."
               f" Cart token: {json.dumps(token and token[:MAX_TOKEN_CHARS])}]")
    kept = text.encode()[:room - len(trailer.encode())]
    return kept.decode("utf-8", "ignore") + trailer


def fingerprint(payload: Mapping[str, Any], token: str | None, client_ip: str | None) -> str | None:
    """What makes a submission a resubmission of an earlier one: the same cart
    token and the same draft order (lines, note, attributes, verified customer)
    in the same context (currency, discount codes, company), and for a guest
    the same address, so that no other guest can ever match.
    None for a cart without a token: those are never merged."""
    if token is None:
        return None
    draft = payload["draft_order"]
    attributes = [pair for pair in draft.get("note_attributes", ())
                  if pair["name"] != EVENT_MARKER]  # differs for every event
    same = {"token": token, "draft": {**draft, "note_attributes": attributes},
            "guest_address": None if "customer" in draft else client_ip}
    if "cart_context" in payload:  # absent: the fingerprint the payload had before it existed
        same["cart_context"] = payload["cart_context"]
    return hashlib.sha256(json.dumps(same, sort_keys=True).encode()).hexdigest()
