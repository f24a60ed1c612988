"""What only PostgreSQL does: claims that skip locked rows instead of waiting,
many connections at once, and connections kept per thread."""

import threading
import time

import psycopg
import pytest
from helpers import STORED, migrated_store

from app.store import PostgresStore

pytest_plugins = ["postgres"]



@pytest.fixture
def store(postgres_url):
    return migrated_store(postgres_url)


def backends(postgres_url):
    """How many connections this test's database has, not counting the one asking
    nor the server's own (an autovacuum worker may visit a new database)."""
    with psycopg.connect(postgres_url) as conn:
        return conn.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE datname ="
                            " current_database() AND pid <> pg_backend_pid()"
                            " AND backend_type = 'client backend'").fetchone()[0]


def test_a_claim_passes_over_a_locked_event_without_waiting(store, postgres_url):
    now = time.time()
    store.add("locked", "{}", STORED, None, now - 10)
    store.add("free", "{}", STORED, None, now)
    claimed = []
    with psycopg.connect(postgres_url) as other:
        other.execute("SELECT id FROM events WHERE id = 'locked' FOR UPDATE")
        thread = threading.Thread(target=lambda: claimed.append(store.claim("w", now, 60)),
                                  daemon=True)
        thread.start()
        thread.join(timeout=5)
    assert claimed and claimed[0]["id"] == "free"


def test_workers_on_separate_connections_claim_each_event_exactly_once(store, postgres_url):
    now = time.time()
    for number in range(400):
        store.add(f"e{number}", "{}", STORED, None, now)
    barrier, claims = threading.Barrier(8), []

    def worker(owner):
        own_store = PostgresStore(postgres_url)  # as another process would have
        barrier.wait()
        while (event := own_store.claim(owner, time.time(), 60)) is not None:
            claims.append((event["id"], owner))

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(event_id for event_id, _ in claims) == sorted(f"e{n}" for n in range(400))
    assert len({owner for _, owner in claims}) > 1


def test_a_connection_the_server_dropped_is_replaced_on_the_next_call(store, postgres_url):
    store.ping()
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                      " WHERE datname = current_database() AND pid <> pg_backend_pid()")
    with pytest.raises(psycopg.OperationalError):
        store.ping()
    store.ping()


def test_a_thread_reuses_its_connection(store, postgres_url):
    for _ in range(20):
        store.ping()
    assert backends(postgres_url) == 1


def test_a_thread_that_ends_closes_its_connection(store, postgres_url):
    thread = threading.Thread(target=store.ping)
    thread.start()
    thread.join()
    deadline = time.monotonic() + 5
    while backends(postgres_url) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert backends(postgres_url) == 0


def test_a_reconcile_claim_passes_over_a_locked_event_without_waiting(store, postgres_url):
    now = time.time()
    for event_id, due in (("locked", now - 10), ("free", now - 5)):
        store.add(event_id, "{}", STORED, None, now - 20)
        store.claim("w", now - 20, 60)
        store.settle(event_id, "w", now - 20, status="completed", draft_order_id=7,
                     reconcile_at=due)
    claimed = []
    with psycopg.connect(postgres_url) as other:
        other.execute("SELECT id FROM events WHERE id = 'locked' FOR UPDATE")
        thread = threading.Thread(
            target=lambda: claimed.append(store.claim_reconcile("r", now, 60)), daemon=True)
        thread.start()
        thread.join(timeout=5)
    assert claimed and claimed[0]["id"] == "free"
