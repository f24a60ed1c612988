"""A throw-away PostgreSQL server, started once per test session, and a fresh
database for each test that asks for one. Use it with
`pytest_plugins = ["postgres"]` in the test module.

Debian's server binaries (the `postgresql` package, which .ci/run installs) on
127.0.0.1 and a free port, trusting local connections, unsafe but fast
(fsync off). initdb and postgres refuse to run as root, so as root they run as
the `postgres` user, in a directory of their own under /tmp (pytest's tmp is
closed to other users); it is removed at the end.
"""

import glob
import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from servers import free_port

SERVER_OPTIONS = ("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                  "-c", "max_connections=200")


def _bin_directory():
    """The newest installed server's bin directory, or None."""
    found = glob.glob("/usr/lib/postgresql/*/bin/postgres")
    return Path(max(found, key=lambda path: int(Path(path).parts[4]))).parent if found else None


def _server_user():
    """Keyword arguments making subprocess run as a user the server accepts, or None."""
    if os.geteuid() != 0:
        return {}
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        return None
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


_database_names = (f"test_{number}" for number in itertools.count(1))


@dataclass(frozen=True)
class PostgresServer:
    port: int

    def url(self, database="postgres"):
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self, statement):
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(statement)


def _wait_until_ready(process, server, log_path, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"postgres exited with {process.returncode}:\n"
                               f"{log_path.read_text(errors='replace')}")
        try:
            psycopg.connect(server.url(), connect_timeout=1).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.fixture(scope="session")
def postgres_server():
    binaries, run_as = _bin_directory(), _server_user()
    if binaries is None:
        pytest.skip("PostgreSQL tests need Debian's server: apt-get install postgresql")
    if run_as is None:
        pytest.skip("PostgreSQL tests run as root need the `postgres` user to run the server")
    base = Path(tempfile.mkdtemp(prefix="cart-draft-postgres-"))
    if run_as:
        os.chown(base, run_as["user"], run_as["group"])
    log_path = base / "server.log"
    server = PostgresServer(free_port())
    try:
        subprocess.run([binaries / "initdb", "-D", base / "data", "-U", "postgres", "-A", "trust",
                        "-E", "UTF8", "--locale=C", "--no-sync"],
                       cwd=base, check=True, capture_output=True, **run_as)
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [binaries / "postgres", "-D", base / "data", "-p", str(server.port),
                 "-c", "listen_addresses=127.0.0.1", "-k", base, *SERVER_OPTIONS],
                cwd=base, stdout=log, stderr=subprocess.STDOUT, **run_as)
        try:
            _wait_until_ready(process, server, log_path)
            yield server
        finally:
            process.send_signal(signal.SIGQUIT)  # what `pg_ctl stop -m immediate` sends
            process.wait(timeout=30)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server):
    """The URL of an empty database, dropped after the test."""
    name = next(_database_names)
    postgres_server.admin(f"CREATE DATABASE {name}")
    yield postgres_server.url(name)
    postgres_server.admin(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Each backend in turn: an empty SQLite file, then an empty PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'events.sqlite3'}"
    return request.getfixturevalue("postgres_url")


def pytest_collection_modifyitems(items):
    """A test on PostgreSQL is slow (a database made and dropped for each one):
    the fast loop (`-m "not slow"`) runs the SQLite variants, CI runs both."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("database_url") == "postgresql"
        if on_postgres or "postgres_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
