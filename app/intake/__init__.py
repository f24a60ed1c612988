"""Intake: a cart's way in, from the storefront's POST to its stored event.

`routes` is the blueprint (POST /webhooks/cart, GET /events/<token>), `proxy`
the app proxy's (POST /proxy/cart, GET /proxy/events/<token>, with `replays`); `body`
reads the request body, `signature` checks the customer's signed id, `cart`
turns the cart into a draft order's payload, `limits` and `cors` guard the
endpoint, `status` and `shopper_texts` make what a shopper may read later,
`waiting` answers it once it changes (the status URL's long poll).
`shopify_webhooks` is the route that keeps a webhook Shopify signed. Every
refusal is an `errors.ApiError`, raised before anything is written.

May import: the base modules (config, states, ids, lifecycle, retry), store and
shopify; never notifications, delivery, web, ops or dev.
"""
