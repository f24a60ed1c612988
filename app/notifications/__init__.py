"""Notifications: the merchant told of a new draft order or a failed event.

`messages` builds them (pure, queued by the worker's settle in the same
transaction); `channels` sends one by webhook or email; `sender` is the outbox
thread that sends what is due, retried with app/retry.py's backoff.

May import: the base modules (config, states, ids, lifecycle, retry), store
and shopify; never intake, delivery, web, ops or dev (delivery imports this).
"""
