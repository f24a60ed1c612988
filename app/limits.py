"""How many submissions one client may make: per IP address and per customer.

Counted from the event store, so the limits hold across web processes and
machines, and only accepted submissions count: a refused or duplicate body
costs nothing. Guests are limited by IP; a flood of them cannot become a flood
of draft orders faster than RATE_LIMIT_PER_IP a minute from each address.
"""

import math

from .errors import ApiError

WINDOW_SECONDS = 60


def check_submission_rate(store, now, client_ip, customer_id, per_ip, per_customer):
    """Raise a 429 with Retry-After when this client has used up its minute."""
    for key, value, limit, who in (("client_ip", client_ip, per_ip, "this address"),
                                   ("customer_id", customer_id, per_customer, "this customer")):
        if value is None or not limit:
            continue
        count, oldest = store.submissions_since(key, value, now - WINDOW_SECONDS)
        if count >= limit:
            wait = max(1, math.ceil(oldest + WINDOW_SECONDS - now))
            raise ApiError(429, "rate_limited",
                           f"Too many carts sent from {who}; please try again in {wait} "
                           f"seconds.", headers={"Retry-After": str(wait)}, retry_after=wait)
