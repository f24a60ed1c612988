"""What a shopper reads about a failed event, in the shopper's words.

The stored error_detail (Shopify's words, the setting to check) is for the
merchant's /admin only: it can name settings and internals. The status
document (app/intake/status.py) shows these sentences instead.
"""

from collections.abc import Mapping
from typing import Any

# `Any` here is JSON: a line object an event keeps.

# What a shopper reads about a failed event, by its error code.
_BUSY = "The store's order system did not answer in time; please try again later."
_STORE_SIDE = "The problem is on the store's side; please contact the store."
SHOPPER_ERROR_DETAILS = {
    "shopify_rejected": "The store could not accept this cart as it is; please check the "
                        "items in your cart or contact the store.",
    "shopify_unavailable": _BUSY,
    "shopify_throttled": _BUSY,
    "poll_timeout": _BUSY,
    "items_unavailable": "Some items in your cart are unavailable (listed below); please "
                         "change your cart and send it again.",
    "b2b_contact_not_found": _STORE_SIDE,
    "shopify_access_denied": _STORE_SIDE,
    "shopify_graphql_error": _STORE_SIDE,
    # app/store/privacy.py's REDACTED: the customer's data erased at their request.
    "redacted": "This cart was withdrawn: the store erased its data at your request.",
}
# A line's detail by its code, where the stored one is Shopify's words (a
# userError's message), kept for /admin.
SHOPPER_LINE_DETAILS = {
    "rejected_by_shopify": "The store could not accept this item as it is; please change or "
                           "remove it, or contact the store.",
}


def shopper_error(code: str) -> str:
    """The shopper's sentence for a failed event's error code."""
    return SHOPPER_ERROR_DETAILS.get(code, _STORE_SIDE)


def shopper_line(line: Mapping[str, Any]) -> dict[str, Any]:
    """A line object as a shopper reads it."""
    return {**line, "detail": SHOPPER_LINE_DETAILS.get(line["code"], line["detail"])}
