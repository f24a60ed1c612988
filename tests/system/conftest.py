"""System tier: processes. The Procfile's web command, `flask worker` processes
killed with SIGKILL, processes starting together on one database, slow clients
against a real server, the demo as a process, the wheel built and installed.

`python -m pytest tests/system` runs this tier alone; most of it is marked
`slow`. The fixtures it uses are shared with the other tiers
(tests/conftest.py, servers.py, postgres.py); a fixture only system tests need
belongs here."""
