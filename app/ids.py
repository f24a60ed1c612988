"""Shopify's ids (variants, customers, draft orders), read by one rule, which
the signed-at seconds of a timestamped signature follow too.

An id is a positive whole number: a JSON integer, or where the sender may
quote it, its decimal digits with no sign, leading zero or space. Never a
boolean (JSON's true is no 1), never a float, and never above the bound its
caller names (the event store keeps ids in 64-bit columns).

Here too the one name that ties a draft order to its event (EVENT_MARKER),
which the cart writes and the backends and Shopify's webhooks read.
"""

import re

MAX_BIGINT = 2**63 - 1

# The note attribute that marks each draft order with the event it came from,
# so that a worker unsure whether its POST went through can find the draft.
EVENT_MARKER = "_cart_event_id"

_DIGITS = re.compile(r"[1-9][0-9]*")


def positive_id(raw: object, maximum: int, *, quoted: bool = True) -> int | None:
    """`raw` as an int, or None when it is no id of at most `maximum`;
    `quoted=False` refuses the decimal text and takes only a JSON integer."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if 0 < raw <= maximum else None
    # The length first: int() of thousands of digits is slow, or refused.
    if quoted and isinstance(raw, str) and len(raw) <= len(str(maximum)) \
            and _DIGITS.fullmatch(raw):
        return int(raw) if int(raw) <= maximum else None
    return None
