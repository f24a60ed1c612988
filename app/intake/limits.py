"""How many submissions one client may make: per IP address and per customer.

Counted from the event store, in the same transaction that inserts the event,
so the limits hold exactly across threads, web processes and machines, and only
accepted submissions count: a refused or resubmitted body costs nothing. Guests
are limited by IP, and by the email they typed (RATE_LIMIT_PER_EMAIL); a flood
of them cannot become a flood of draft orders faster than RATE_LIMIT_PER_IP a
minute from each address.
"""

import math

from ..store import Added, RateLimit
from .errors import ApiError

WINDOW_SECONDS = 60

_WHO = {"client_ip": "this address", "customer_id": "this customer",
        "guest_key": "this email address"}


def submission_limits(now: float, client_ip: str | None, customer_id: int | None, per_ip: int,
                      per_customer: int, guest_key: str | None = None,
                      per_email: int = 0) -> tuple[RateLimit, ...]:
    """The RateLimits a submission must stay within (0 turns a limit off);
    `guest_key`: a guest's email as contact.rate_key keys it."""
    return tuple(RateLimit(column, value, most, now - WINDOW_SECONDS)
                 for column, value, most in (("client_ip", client_ip, per_ip),
                                             ("customer_id", customer_id, per_customer),
                                             ("guest_key", guest_key, per_email))
                 if value is not None and most)


def rate_limited(added: Added, now: float) -> ApiError:
    """The 429, with Retry-After, for a submission the store refused by a limit."""
    # A refusal by a limit names it and the oldest event it counted (at least one).
    assert added.limited_by is not None and added.oldest is not None
    wait = max(1, math.ceil(added.oldest + WINDOW_SECONDS - now))
    return ApiError(429, "rate_limited",
                    f"Too many carts sent from {_WHO[added.limited_by]}; please try again in "
                    f"{wait} seconds.", headers={"Retry-After": str(wait)}, retry_after=wait)
