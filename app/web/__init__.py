"""Web: the merchant's pages and the app's HTTP plumbing.

`admin` (the event log), `setup_page`, `auth` (the OAuth install pages),
`health`, with `page_headers` (security headers), `lockout` (login throttling)
and `errors` (every error answered in the contract's JSON shape).

May import: the base modules, store, shopify, intake, notifications and
delivery; never ops or dev.
"""
