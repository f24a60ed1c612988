"""The admin's login throttle, counted in the event store: one count for every
web process and instance, exact under concurrent guesses, bounded in space."""

import threading

import pytest
from helpers import Clock, migrated_store

from app.store import open_store
from app.web.lockout import LoginThrottle

pytest_plugins = ["postgres"]


@pytest.fixture
def store(database_url):
    return migrated_store(database_url)


def rows(store, table):
    with store._connect() as conn:
        return conn.execute(f"SELECT COUNT(*) AS n FROM {table}").fetchone()["n"]


def test_the_tenth_attempt_still_gets_its_answer_and_the_eleventh_waits(store):
    throttle = LoginThrottle(store, clock=Clock(at=1000.0))

    waits = [throttle.attempt("a") for _ in range(11)]

    assert waits == [0] * 10 + [300]


def test_web_processes_sharing_a_database_share_one_count(store, database_url):
    """The web command runs several processes; an address gets 10 tries in all."""
    first = LoginThrottle(store, clock=Clock(at=1000.0))
    second = LoginThrottle(open_store(database_url), clock=Clock(at=1000.0))

    waits = [(first if n % 2 else second).attempt("a") for n in range(11)]

    assert waits == [0] * 10 + [300]
    assert first.locked("a") and second.locked("a")


@pytest.mark.slow
def test_failures_older_than_the_window_are_deleted_by_later_attempts(store):
    clock = Clock(at=1000.0)
    throttle = LoginThrottle(store, clock=clock)
    for n in range(500):
        throttle.attempt(f"10.0.{n // 256}.{n % 256}")
    clock.advance(61)

    throttle.attempt("203.0.113.9")

    assert rows(store, "login_failures") == 1


def test_ended_lockouts_are_deleted_by_later_attempts(store):
    clock = Clock(at=1000.0)
    throttle = LoginThrottle(store, clock=clock)
    for _ in range(10):
        throttle.attempt("a")
    assert rows(store, "login_lockouts") == 1
    clock.advance(300)

    assert throttle.attempt("b") == 0
    assert rows(store, "login_lockouts") == 0 and not throttle.locked("a")


@pytest.mark.slow
def test_concurrent_guesses_from_one_address_get_no_more_than_ten_tries(store):
    throttle = LoginThrottle(store, clock=Clock(at=1000.0))
    allowed = []
    start = threading.Barrier(20)

    def guess():
        start.wait()
        for _ in range(5):
            allowed.append(throttle.attempt("a") == 0)

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert allowed.count(True) == 10 and len(allowed) == 100
