"""Delivery: the worker that takes a stored event to Shopify, once.

`worker` is the loop (claim, call, settle) with its lease heartbeat;
`transitions` the pure rules of what comes next after each call; `webhooks`
applies the Shopify webhooks intake kept; `maintenance` prunes old events
while idle.

May import: the base modules (config, states, ids, lifecycle, retry), store,
shopify and notifications; never intake, web, ops or dev.
"""
