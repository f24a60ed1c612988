"""Unit tier: pure functions, and the app through Flask's test client with
Shopify mocked by `responses` and its store a SQLite file in tmp. No server
process, no simulator served on a port, no PostgreSQL, no sleeping; a one-shot
CLI child (`flask … worker` refusing a bad configuration) is the most it runs.

`python -m pytest tests/unit` runs this tier alone. Its fixtures (make_app, app,
client, store, clock, worker, shopify) are shared with the other tiers, so they
are in tests/conftest.py; a fixture only unit tests need belongs here."""
