"""A batch of submissions in one transaction (app/store/batching.py), on SQLite
and on PostgreSQL: what `add` does when many arrive at once."""

import sqlite3
import threading

import psycopg
import pytest
from helpers import STORED, migrated_store

from app.store import Added, RateLimit
from app.store.batching import Submission

pytest_plugins = ["postgres"]

# A second event with a taken id: each driver's integrity error.
DUPLICATE_ID = (sqlite3.IntegrityError, psycopg.errors.UniqueViolation)

IP = "203.0.113.9"


@pytest.fixture
def store(database_url):
    return migrated_store(database_url)


def submission(event_id, now, customer_id=None, **fields):
    return Submission(event_id, "{}", STORED, customer_id, now, **fields)


def test_a_batch_stays_exactly_within_a_limit_counting_stored_and_batched_events(store):
    store.add("stored", "{}", STORED, None, 100.0, client_ip=IP)
    limit = (RateLimit("client_ip", IP, 3, 50.0),)
    added = store._write_batch([submission(f"e{n}", 110.0 + n, client_ip=IP, limits=limit)
                                for n in range(4)])
    assert [a.new for a in added] == [True, True, False, False]
    assert added[2] == Added(None, False, None, "client_ip", 100.0)
    assert store.count_events() == 3


def test_a_batch_counts_each_limit_from_its_own_window(store):
    store.add("stored", "{}", STORED, 5, 100.0)
    added = store._write_batch([
        submission("e1", 110.0, customer_id=5, limits=(RateLimit("customer_id", 5, 1, 90.0),)),
        submission("e2", 210.0, customer_id=5, limits=(RateLimit("customer_id", 5, 1, 111.0),)),
    ])
    assert [a.limited_by for a in added] == ["customer_id", None]


def test_a_resubmission_within_a_batch_is_stored_once(store):
    added = store._write_batch([submission(f"e{n}", 100.0, fingerprint="same",
                                           dedupe_since=0.0) for n in range(3)])
    assert {a.event_id for a in added} == {"e0"} and store.count_events() == 1


def test_a_batch_hands_a_resubmission_its_stored_event(store):
    store.add("first", "{}", STORED, None, 100.0, fingerprint="same", dedupe_since=0.0)
    added = store._write_batch([submission("e1", 110.0, fingerprint="same", dedupe_since=50.0),
                                submission("e2", 110.0, fingerprint="other", dedupe_since=50.0)])
    assert added == [Added("first", False, "queued"), Added("e2", True, "queued")]


def test_a_batch_that_fails_writes_nothing(store):
    store.add("taken", "{}", STORED, None, 100.0)
    with pytest.raises(DUPLICATE_ID):
        store._write_batch([submission("fresh", 110.0), submission("taken", 110.0)])
    assert store.get("fresh") is None and store.count_events() == 1


def test_an_added_event_is_committed_when_add_returns(store, database_url):
    assert store.add("e1", "{}", STORED, None, 100.0).new
    assert migrated_store(database_url).get("e1")["status"] == "queued"


def test_a_failing_submission_in_a_batch_fails_alone(store):
    store.add("taken", "{}", STORED, None, 100.0)
    with pytest.raises(DUPLICATE_ID):
        store.add("taken", "{}", STORED, None, 110.0)
    assert store.add("fresh", "{}", STORED, None, 110.0).new
    assert store.count_events() == 2


def test_two_instances_adding_at_once_stay_exactly_within_a_limit(store, database_url):
    """Two processes' stores (each its own batches), 12 threads each, 40
    submissions against a limit of 10: exactly 10 stored (PostgreSQL: advisory
    locks over each batch's keys; SQLite: one writer at a time)."""
    instances = [store, migrated_store(database_url)]
    limit = (RateLimit("client_ip", IP, 10, 0.0),)
    results = []

    def add(n):
        results.append(instances[n % 2].add(f"e{n}", "{}", STORED, None, 100.0 + n,
                                            client_ip=IP, limits=limit))

    threads = [threading.Thread(target=add, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(added.new for added in results) == 10 == store.count_events()
    assert len(results) == 40


def test_a_batch_of_any_size_stores_each_new_event_once(store):
    """Inserted in chunks of a power of two rows (13 = 8 + 4 + 1), resubmissions
    and refusals among them."""
    batch = [submission(f"e{n}", 100.0 + n, fingerprint=f"f{n % 11}", dedupe_since=0.0)
             for n in range(13)]
    added = store._write_batch(batch)
    assert [a.new for a in added] == [True] * 11 + [False] * 2
    assert store.count_events() == 11 and store.get("e10")["status"] == "queued"
