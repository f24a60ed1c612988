"""The event store's contract: every test runs on SQLite and on PostgreSQL."""

import threading
import time

import pytest
from helpers import ANSWER, PAYLOAD, STORED, migrated_store

from app.store import Added, RateLimit, open_store, stored_payload

pytest_plugins = ["postgres"]



@pytest.fixture
def make_store(database_url):
    """A migrated store on the test's database; each call is another process's view."""

    return lambda: migrated_store(database_url)


@pytest.fixture
def store(make_store):
    return make_store()


def in_threads(target, count):
    """Run target(0) ... target(count - 1) in threads that all start at once."""
    barrier = threading.Barrier(count)

    def run(number):
        barrier.wait()
        target(number)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_two_workers_never_claim_the_same_event(store):
    now = time.time()
    for n in range(60):
        store.add(f"e{n}", '{"cart": {}}', STORED, None, now)
    claimed = {}

    def claimer(number):
        mine = claimed.setdefault(number, [])
        while (event := store.claim(f"w{number}", time.time(), 60)) is not None:
            mine.append(event["id"])

    in_threads(claimer, 4)
    all_claims = [event_id for ids in claimed.values() for event_id in ids]
    assert sorted(all_claims) == sorted(f"e{n}" for n in range(60))


def test_event_is_not_due_before_its_next_attempt(store):
    now = time.time()
    store.add("e1", "{}", STORED, None, now)
    event = store.claim("w", now, 60)
    assert store.settle("e1", "w", now, next_attempt_at=now + 10)
    assert event["id"] == "e1" and store.claim("w", now + 9, 60) is None
    assert store.claim("w", now + 10, 60)["id"] == "e1"


def test_settled_events_are_never_claimed_again(store):
    now = time.time()
    store.add("e1", "{}", STORED, None, now)
    store.claim("w", now, 60)
    store.settle("e1", "w", now, status="completed")
    assert store.claim("w", now + 10_000, 60) is None
    assert store.next_due_at() is None


def test_next_due_at_waits_for_a_running_lease(store):
    now = time.time()
    store.add("e1", "{}", STORED, None, now)
    store.claim("w", now, 60)
    assert store.next_due_at() == now + 60


def test_an_expired_lease_passes_the_event_to_another_worker(store):
    now = time.time()
    store.add("e1", "{}", STORED, None, now)
    store.claim("dead", now, 60)
    assert store.claim("w", now + 59, 60) is None
    assert store.claim("w", now + 60, 60)["lease_owner"] == "w"


def test_a_former_owner_cannot_settle(store):
    now = time.time()
    store.add("e1", "{}", STORED, None, now)
    store.claim("dead", now, 60)
    store.claim("w", now + 60, 60)
    assert not store.settle("e1", "dead", now + 61, ANSWER, status="completed")
    assert store.get("e1")["status"] == "processing" and store.answers("e1") == []


def test_a_stored_event_reads_back_as_it_was_given(store):
    received = '{"cart": {"note": "Für dich ♥", "items": [{"variant_id": 39072856}]}}'
    store.add("e1", received, STORED, 7_420_000_000_123, 1_700_000_000.123456,
              fingerprint="f1", client_ip="203.0.113.9")
    event = store.get("e1")
    assert (event["received"], event["payload"]) == (received, PAYLOAD)
    assert (event["customer_id"], event["created_at"]) == (7_420_000_000_123, 1_700_000_000.123456)
    assert (event["status"], event["line_count"], event["maybe_posted"]) == ("queued", 1, 0)


def test_an_unknown_event_is_none(store):
    assert store.get("nope") is None


def test_a_settled_answer_is_kept_with_its_event_in_order(store):
    now = time.time()
    store.add("e1", "{}", STORED, None, now)
    for number in range(2):
        store.claim("w", now, 60)
        store.settle("e1", "w", now, {**ANSWER, "status": 202 - number}, attempts=number + 1)
    answers = store.answers("e1")
    assert [(a["status"], a["method"], a["body"]) for a in answers] == [
        (202, "POST", ANSWER["body"]), (201, "POST", ANSWER["body"])]


def test_a_settled_draft_order_id_keeps_shopifys_64_bit_size(store):
    now = time.time()
    store.add("e1", "{}", STORED, None, now)
    store.claim("w", now, 60)
    store.settle("e1", "w", now, status="completed", draft_order_id=1_125_899_906_842_624,
                 draft_order_name="#D1")
    assert store.get("e1")["draft_order_id"] == 1_125_899_906_842_624


def test_settling_an_unknown_column_is_refused(store):
    with pytest.raises(ValueError, match="payload"):
        store.settle("e1", "w", time.time(), payload="{}")


def test_the_same_fingerprint_added_at_once_is_stored_once(store):
    now = time.time()
    results = []
    in_threads(lambda n: results.append(store.add(
        f"e{n}", "{}", STORED, None, now, fingerprint="same", dedupe_since=now - 600)), 8)
    new = [added.event_id for added in results if added.new]
    assert len(new) == 1 and {added.event_id for added in results} == set(new)
    assert store.count_events() == 1


def test_a_fingerprint_older_than_the_window_is_stored_again(store):
    store.add("e1", "{}", STORED, None, 1000.0, fingerprint="same", dedupe_since=400.0)
    assert store.add("e2", "{}", STORED, None, 1700.0, fingerprint="same",
                     dedupe_since=1100.0) == Added("e2", True, "queued")


def test_a_resubmission_gets_the_first_event_and_its_status(store):
    store.add("e1", "{}", STORED, None, 1000.0, fingerprint="same", dedupe_since=400.0)
    store.claim("w", 1000.0, 60)
    assert store.add("e2", "{}", STORED, None, 1001.0, fingerprint="same",
                     dedupe_since=401.0) == Added("e1", False, "processing")


def test_a_failed_event_is_not_handed_back_to_a_resubmission(store):
    store.add("e1", "{}", STORED, None, 1000.0, fingerprint="same", dedupe_since=400.0)
    store.claim("w", 1000.0, 60)
    store.settle("e1", "w", 1000.0, status="failed", error_code="shopify_rejected")
    assert store.add("e2", "{}", STORED, None, 1001.0, fingerprint="same",
                     dedupe_since=401.0) == Added("e2", True, "queued")


def test_add_counts_a_rate_limit_by_client_ip_within_its_window(store):
    for number, at in enumerate((100.0, 200.0, 300.0)):
        store.add(f"e{number}", "{}", STORED, None, at, client_ip="203.0.113.9")
    store.add("other", "{}", STORED, None, 300.0, client_ip="198.51.100.1")
    limit = RateLimit("client_ip", "203.0.113.9", 2, 150.0)
    assert store.add("e4", "{}", STORED, None, 310.0, client_ip="203.0.113.9",
                     limits=(limit,)) == Added(None, False, None, "client_ip", 200.0)
    assert store.get("e4") is None
    assert store.add("e5", "{}", STORED, None, 310.0, client_ip="203.0.113.9",
                     limits=(limit._replace(most=3),)).new


def test_add_counts_a_rate_limit_by_customer(store):
    store.add("e1", "{}", STORED, 7_420_000_000_123, 100.0)
    refused = store.add("e2", "{}", STORED, 7_420_000_000_123, 110.0,
                        limits=(RateLimit("customer_id", 7_420_000_000_123, 1, 0.0),))
    assert (refused.new, refused.limited_by, refused.oldest) == (False, "customer_id", 100.0)
    assert store.add("e3", "{}", STORED, 5, 110.0,
                     limits=(RateLimit("customer_id", 5, 1, 0.0),)).new


def test_add_counts_a_rate_limit_by_guest_key_which_the_event_keeps(store):
    limit = RateLimit("guest_key", "keyed-hash-1", 1, 0.0)
    assert store.add("e1", "{}", STORED, None, 100.0, limits=(limit,)).new
    assert store.get("e1")["guest_key"] == "keyed-hash-1"
    refused = store.add("e2", "{}", STORED, None, 110.0, limits=(limit,))
    assert (refused.new, refused.limited_by, refused.oldest) == (False, "guest_key", 100.0)
    assert store.add("e3", "{}", STORED, None, 110.0,
                     limits=(limit._replace(value="keyed-hash-2"),)).new


@pytest.mark.slow
@pytest.mark.parametrize("column,value", [("client_ip", "203.0.113.9"), ("customer_id", 5)])
def test_concurrent_adds_stay_exactly_within_a_rate_limit(store, column, value):
    """The count and the insert are one atomic step: 100 submissions at once
    against a limit of 30 store exactly 30."""
    now = time.time()
    results = []
    customer_id = value if column == "customer_id" else None
    in_threads(lambda n: results.append(store.add(
        f"e{n}", "{}", STORED, customer_id, now, client_ip="203.0.113.9",
        limits=(RateLimit(column, value, 30, now - 60),))), 100)
    assert sum(added.new for added in results) == 30 == store.count_events()
    assert {added.limited_by for added in results if not added.new} == {column}


def test_a_stored_payload_is_compact_json(store):
    payload = stored_payload({"draft_order": {"note": "Für dich ♥", "line_items": []}})
    store.add("e1", "{}", payload, None, 1.0)
    with store._connect() as conn:
        stored = conn.execute("SELECT payload FROM events").fetchone()["payload"]
    assert stored == '{"draft_order":{"note":"Für dich ♥","line_items":[]}}'


def test_mark_posting_needs_the_lease(store):
    now = time.time()
    store.add("e1", "{}", STORED, None, now)
    store.claim("w", now, 60)
    assert not store.mark_posting("e1", "other", now, 60, now + 30)
    assert store.mark_posting("e1", "w", now, 60, now + 30)
    assert store.get("e1")["maybe_posted"] == 1


def test_mark_posting_refuses_an_expired_lease_and_renews_a_live_one(store):
    now = time.time()
    store.add("e1", "{}", STORED, None, now)
    store.claim("w", now, 60)
    assert not store.mark_posting("e1", "w", now + 61, 60, now + 91)
    assert store.get("e1")["maybe_posted"] == 0
    assert store.mark_posting("e1", "w", now + 59, 60, now + 89)
    assert store.get("e1")["lease_until"] == now + 119


def test_mark_posting_records_until_when_the_posts_answer_can_come(store):
    now = time.time()
    store.add("e1", "{}", STORED, None, now)
    store.claim("w", now, 60)
    store.mark_posting("e1", "w", now, 60, now + 30)
    assert store.get("e1")["next_attempt_at"] == now + 30


def test_an_expired_lease_is_taken_over_before_its_posts_answer_could_come(store):
    """A dead worker's event resumes one lease after its last renewal, not once
    its POST's deadline has passed: the next worker looks it up meanwhile."""
    now = time.time()
    store.add("e1", "{}", STORED, None, now)
    store.claim("dead", now, 10)
    store.mark_posting("e1", "dead", now, 10, now + 30)
    assert store.next_due_at(post_window=30) == now + 10
    assert store.claim("w", now + 10, 10, post_window=30)["lease_owner"] == "w"


def test_next_due_at_agrees_with_claim_for_a_shorter_post_window(store):
    """A process whose SHOPIFY_TIMEOUT is shorter than the dead worker's may take
    its event over only later; it is told so, rather than to claim again at once."""
    now = time.time()
    store.add("e1", "{}", STORED, None, now)
    store.claim("dead", now, 10)
    store.mark_posting("e1", "dead", now, 10, now + 30)
    assert store.next_due_at(post_window=5) == now + 25
    assert store.claim("w", now + 24, 10, post_window=5) is None
    assert store.claim("w", now + 25, 10, post_window=5)["lease_owner"] == "w"


def test_renew_lease_extends_only_the_owners_live_lease(store):
    now = time.time()
    store.add("e1", "{}", STORED, None, now)
    store.claim("w", now, 10)
    assert not store.renew_lease("e1", "other", now + 5, 10)
    assert store.renew_lease("e1", "w", now + 5, 10)
    assert store.get("e1")["lease_until"] == now + 15
    assert store.claim("other", now + 12, 10) is None
    assert not store.renew_lease("e1", "w", now + 15, 10)  # ran out: another may have it


def test_a_settled_event_has_no_lease_to_renew(store):
    now = time.time()
    store.add("e1", "{}", STORED, None, now)
    store.claim("w", now, 10)
    store.settle("e1", "w", now, next_attempt_at=now + 60)
    assert not store.renew_lease("e1", "w", now + 1, 10)
    assert store.get("e1")["lease_until"] is None


def test_event_log_pages_newest_first(store):
    for number, at in enumerate((1000.0, 3000.0, 2000.0, 3000.0)):
        store.add(f"e{number}", "{}", STORED, None, at)
    pages = [store.list_events(2, 0), store.list_events(2, 2)]
    assert [[row["id"] for row in page] for page in pages] == [["e3", "e1"], ["e2", "e0"]]
    assert store.count_events() == 4 and "payload" not in pages[0][0]


def test_retry_queues_a_failed_event_again(store):
    now = time.time()
    store.add("e1", "{}", STORED, None, now)
    store.claim("w", now, 60)
    store.settle("e1", "w", now, status="failed", error_code="shopify_rejected", failures=2)
    assert store.retry("e1", now + 5)
    event = store.get("e1")
    assert (event["status"], event["error_code"], event["failures"]) == ("queued", None, 0)
    assert store.claim("w", now + 5, 60)["id"] == "e1"


def test_retry_leaves_an_event_that_has_not_failed(store):
    now = time.time()
    store.add("e1", "{}", STORED, None, now)
    store.claim("w", now, 60)
    assert not store.retry("e1", now)
    assert store.get("e1")["lease_owner"] == "w"


def test_a_migrated_database_answers_and_has_every_table(store):
    store.ping()
    assert store.missing_tables() == []


def test_a_database_without_the_schema_lacks_both_tables(database_url):
    assert open_store(database_url).missing_tables() == ["answers", "events"]


def test_concurrent_submissions_are_all_stored_and_same_ones_folded(store):
    """Many threads adding at once (group-committed on SQLite): every distinct
    submission stored once, every repeat answered with the first one's id."""
    now = time.time()
    results = []

    def submit(n):
        fingerprint = f"cart-{n % 10}"  # ten distinct carts, each sent four times
        results.append((fingerprint, store.add(f"e{n}", "{}", STORED, None, now,
                                               fingerprint=fingerprint, dedupe_since=0.0)))

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.count_events() == 10
    first = {}
    for fingerprint, added in results:
        first.setdefault(fingerprint, set()).add(added.event_id)
    assert all(len(ids) == 1 for ids in first.values())
    assert sum(added.new for _, added in results) == 10


def test_a_submission_that_cannot_be_stored_fails_alone(store):
    now = time.time()
    store.add("taken", "{}", STORED, None, now)
    errors, stored = [], []

    def submit(event_id):
        try:
            stored.append(store.add(event_id, "{}", STORED, None, now))
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=submit, args=(event_id,))
               for event_id in ("taken", "a", "b", "c")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 1
    assert sorted(added.event_id for added in stored) == ["a", "b", "c"]


def test_concurrent_adds_sharing_keys_in_every_combination_all_complete(store):
    """Submissions locking an address, a customer and a fingerprint each, crossing
    one another's keys: none waits on another in a cycle (no deadlock), and each
    limit holds."""
    now, results = time.time(), []

    def submit(n):
        address, customer = f"198.51.100.{n % 2}", n // 2 % 2 + 1
        results.append(store.add(
            f"e{n}", "{}", STORED, customer, now, fingerprint=f"cart-{n % 3}",
            client_ip=address, dedupe_since=now - 600,
            limits=(RateLimit("client_ip", address, 100, now - 60),
                    RateLimit("customer_id", customer, 100, now - 60))))

    in_threads(submit, 48)
    assert len(results) == 48 and store.count_events() == sum(added.new for added in results)


def test_latest_answers_are_read_cut_and_counted(store):
    store.add("e1", "{}", STORED, None, 1.0)
    for number in range(5):
        store.claim("w", 1.0 + number, 0.5)
        store.settle("e1", "w", 1.0 + number, status="queued",
                     answer={**ANSWER, "body": f"{number}" * 10})
    answers, total = store.latest_answers("e1", 2, 4)
    assert total == 5
    assert [(a["body"], a["body_length"]) for a in answers] == [("3333", 10), ("4444", 10)]


def test_mark_invoicing_flags_the_send_and_needs_the_lease(store):
    now = time.time()
    store.add("e1", "{}", STORED, None, now)
    store.claim("w", now, 60)
    assert not store.mark_invoicing("e1", "other", now, 60, now + 30)
    assert store.mark_invoicing("e1", "w", now, 60, now + 30)
    event = store.get("e1")
    assert (event["invoice_maybe_sent"], event["maybe_posted"], event["next_attempt_at"]) == (
        1, 0, now + 30)


def completed_with_reconcile_at(store, event_id, reconcile_at, now):
    store.add(event_id, "{}", STORED, None, now)
    assert store.claim("w", now, 60)["id"] == event_id
    assert store.settle(event_id, "w", now, status="completed", draft_order_id=7,
                        draft_state="open", reconcile_at=reconcile_at)


def test_claim_reconcile_leases_the_most_overdue_completed_event(store):
    now = time.time()
    completed_with_reconcile_at(store, "later", now - 5, now - 20)
    completed_with_reconcile_at(store, "first", now - 10, now - 20)
    completed_with_reconcile_at(store, "not-yet", now + 60, now - 20)
    claimed = store.claim_reconcile("r", now, 60)
    assert (claimed["id"], claimed["lease_owner"]) == ("first", "r")
    assert store.claim_reconcile("r", now, 60)["id"] == "later"
    assert store.claim_reconcile("r", now, 60) is None


def test_claim_reconcile_takes_a_lease_run_out_back(store):
    now = time.time()
    completed_with_reconcile_at(store, "e1", now - 5, now - 20)
    assert store.claim_reconcile("r1", now, 60)["id"] == "e1"
    assert store.claim_reconcile("r2", now + 30, 60) is None
    assert store.claim_reconcile("r2", now + 61, 60)["lease_owner"] == "r2"


def test_claim_reconcile_never_takes_an_active_event(store):
    now = time.time()
    store.add("e1", "{}", STORED, None, now - 20)
    store.claim("w", now - 20, 1)
    store.settle("e1", "w", now - 20, reconcile_at=now - 10)  # still processing
    assert store.claim_reconcile("r", now, 60) is None
