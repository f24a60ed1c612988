import threading
import time

from app.store import Store

PAYLOAD = {"draft_order": {"line_items": [{"variant_id": 1, "quantity": 1, "properties": []}]}}


def make_store(tmp_path):
    store = Store(str(tmp_path / "events.sqlite3"))
    store.init_schema()
    return store


def test_two_workers_never_claim_the_same_event(tmp_path):
    store = make_store(tmp_path)
    now = time.time()
    for n in range(60):
        store.add(f"e{n}", {"cart": {}}, PAYLOAD, None, now)
    claimed = {}

    def claimer(owner):
        mine = claimed.setdefault(owner, [])
        while (event := store.claim(owner, time.time(), 60)) is not None:
            mine.append(event["id"])

    threads = [threading.Thread(target=claimer, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    all_claims = [event_id for ids in claimed.values() for event_id in ids]
    assert sorted(all_claims) == sorted(f"e{n}" for n in range(60))


def test_event_is_not_due_before_its_next_attempt(tmp_path):
    store = make_store(tmp_path)
    now = time.time()
    store.add("e1", {}, PAYLOAD, None, now)
    event = store.claim("w", now, 60)
    assert store.settle("e1", "w", now, next_attempt_at=now + 10)
    assert event["id"] == "e1" and store.claim("w", now + 9, 60) is None
    assert store.claim("w", now + 10, 60)["id"] == "e1"


def test_settled_events_are_never_claimed_again(tmp_path):
    store = make_store(tmp_path)
    now = time.time()
    store.add("e1", {}, PAYLOAD, None, now)
    store.claim("w", now, 60)
    store.settle("e1", "w", now, status="completed")
    assert store.claim("w", now + 10_000, 60) is None
    assert store.next_due_at() is None


def test_next_due_at_waits_for_a_running_lease(tmp_path):
    store = make_store(tmp_path)
    now = time.time()
    store.add("e1", {}, PAYLOAD, None, now)
    store.claim("w", now, 60)
    assert store.next_due_at() == now + 60
