"""Processes starting together (gunicorn's workers, a worker process, a deploy's
second machine) on one database all come up, whether it is new or already set up.

Each round forks several processes that wait for one another and then set
up the schema as create_app does; the race is narrow, so rounds repeat.
"""

import multiprocessing
import sys
import time
import traceback

import psycopg
import pytest

from app.store import open_store

pytest_plugins = ["postgres"]

pytestmark = pytest.mark.slow  # rounds of processes starting together: seconds a test

PROCESSES = 12
ROUND_TIMEOUT = 30


def _start(url, go):
    store = open_store(url)
    go.wait()  # every process is ready: they start within microseconds
    try:
        store.migrate(only_additive=True)  # what create_app does to the database
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        raise SystemExit(1) from None


def _all_come_up(url):
    """Start PROCESSES at once on the database at `url`; the exit status of each."""
    fork = multiprocessing.get_context("fork")
    go = fork.Barrier(PROCESSES + 1)
    processes = [fork.Process(target=_start, args=(url, go)) for _ in range(PROCESSES)]
    for process in processes:
        process.start()
    go.wait(ROUND_TIMEOUT)
    deadline = time.monotonic() + ROUND_TIMEOUT
    for process in processes:
        process.join(max(deadline - time.monotonic(), 0))
        if process.exitcode is None:
            process.kill()
            process.join()
    return [process.exitcode for process in processes]


def _rounds(rounds, url_for_round):
    """The rounds in which some process failed to come up, with every exit status."""
    failed = []
    for number in range(rounds):
        codes = _all_come_up(url_for_round(number))
        if any(codes):
            failed.append((number, codes))
    return failed


@pytest.fixture
def fresh_postgres(postgres_url):
    """A function giving, each time, the URL of a database without tables."""
    def fresh(_number):
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            tables = [row[0] for row in conn.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema()")]
            if tables:
                conn.execute(f"DROP TABLE {', '.join(tables)} CASCADE")
        return postgres_url
    return fresh


def test_processes_starting_together_on_a_new_sqlite_file_all_come_up(tmp_path):
    # Before the fix, one round in about 50 failed: "database is locked".
    assert _rounds(60, lambda n: f"sqlite:///{tmp_path / f'events-{n}.sqlite3'}") == []


def test_processes_starting_together_on_an_existing_sqlite_file_all_come_up(tmp_path):
    url = f"sqlite:///{tmp_path / 'events.sqlite3'}"
    open_store(url).migrate()
    assert _rounds(20, lambda n: url) == []


# Some servers make every transaction REPEATABLE READ or SERIALIZABLE by default.
@pytest.mark.parametrize("isolation", ["read%5C%20committed", "serializable"])
def test_processes_starting_together_on_a_new_postgres_database_all_come_up(fresh_postgres,
                                                                            isolation):
    options = f"?options=-c%20default_transaction_isolation%3D{isolation}"
    assert _rounds(8, lambda n: fresh_postgres(n) + options) == []


def test_processes_starting_together_on_an_existing_postgres_database_all_come_up(postgres_url):
    open_store(postgres_url).migrate()
    assert _rounds(5, lambda n: postgres_url) == []
