"""Integration tier: real SQLite and PostgreSQL stores (`pytest_plugins =
["postgres"]`, tests/postgres.py), the Shopify simulator served on loopback
(`start_simulator`, servers.shopify_simulator), stand-in servers in a thread, and
the receiver's worker, in this process, against them. No child processes that
serve; those are tests/system.

`python -m pytest tests/integration` runs this tier alone. The fixtures it uses
are shared with the other tiers (tests/conftest.py) or in the helper modules
next to it; a fixture only integration tests need belongs here."""
