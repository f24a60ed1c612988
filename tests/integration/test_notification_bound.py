"""The merchant's notifications cannot be flooded (issue 18): each channel sends
at most NOTIFY_MAX_PER_MINUTE in any minute; past it the messages are folded,
kept in the outbox and on their events' pages, and one digest a channel says how
many and links /admin. The count is the store's, in the claim's transaction, so
it holds for every process's notifier, on SQLite and PostgreSQL alike."""

import json
import threading

import pytest
from helpers import API, Clock, add_event, migrated_store, submit

from app.notifications import channels
from app.notifications.digest import digest_body
from app.notifications.sender import LEASE_SECONDS, Notifier
from app.store.notifications import DIGEST, WINDOW_SECONDS

pytest_plugins = ["postgres"]

T0 = 1_000_000.0
BOUND = 3


def queue(store, count, channel="webhook", at=T0, event_prefix="e"):
    """`count` events, each settled as failed with one message on `channel`, queued at `at`."""
    for i in range(count):
        event_id = f"{event_prefix}{channel}{i}"
        add_event(store, event_id, at - 10)
        store.claim("w", at, 60)
        assert store.settle(event_id, "w", at, status="failed", notifications=[
            {"kind": "failed", "channel": channel, "body": "{}"}])


def claim_all(store, at, bound=BOUND):
    """Every notification a notifier claims at `at` (each sent at once)."""
    claimed = []
    while (row := store.claim_notification(at, LEASE_SECONDS, bound)) is not None:
        claimed.append(row)
        store.finish_notification(row, "sent")
    return claimed


@pytest.fixture
def outbox(database_url):
    return migrated_store(database_url)


def test_a_channel_sends_no_more_than_its_bound_in_a_minute(outbox):
    queue(outbox, 10)
    assert [row["kind"] for row in claim_all(outbox, T0)] == ["failed"] * BOUND


def test_the_rest_are_folded_into_one_digest_due_when_the_minute_is_over(outbox):
    queue(outbox, 10)
    claim_all(outbox, T0)
    with outbox._connect() as conn:
        digests = [dict(row) for row in conn.execute(
            "SELECT * FROM notifications WHERE kind = ?", (DIGEST,))]
    assert [(row["channel"], row["status"], row["next_attempt_at"]) for row in digests] == [
        ("webhook", "pending", T0 + WINDOW_SECONDS)]
    assert outbox.folded(digests[0]["id"]) == (10 - BOUND, T0)


def test_a_folded_message_stays_on_its_events_page(outbox):
    queue(outbox, BOUND + 1)
    claim_all(outbox, T0)
    shown, total = outbox.notifications(f"ewebhook{BOUND}", 10)
    assert (total, shown[0]["status"]) == (1, "folded")


def test_after_the_minute_the_digest_goes_out_and_the_bound_starts_again(outbox):
    queue(outbox, 10)
    claim_all(outbox, T0)
    queue(outbox, 5, at=T0 + WINDOW_SECONDS, event_prefix="later")
    kinds = [row["kind"] for row in claim_all(outbox, T0 + WINDOW_SECONDS)]
    assert kinds == [DIGEST] + ["failed"] * BOUND


def test_folds_after_the_digest_was_claimed_go_to_a_new_digest(outbox):
    queue(outbox, BOUND + 2)
    claim_all(outbox, T0)
    queue(outbox, 5, at=T0 + 30, event_prefix="later")
    assert claim_all(outbox, T0 + 30) == []  # still within the minute of the first sends
    [digest] = claim_all(outbox, T0 + WINDOW_SECONDS)[:1]
    assert (digest["kind"], outbox.folded(digest["id"])) == (DIGEST, (2 + 5, T0))


def test_each_channel_has_its_own_bound(outbox):
    queue(outbox, 5, "webhook")
    queue(outbox, 5, "email")
    claimed = claim_all(outbox, T0)
    assert sorted(row["channel"] for row in claimed) == ["email"] * BOUND + ["webhook"] * BOUND


def test_a_retry_of_a_counted_message_is_not_folded(outbox):
    queue(outbox, BOUND)
    first = outbox.claim_notification(T0, LEASE_SECONDS, BOUND)
    outbox.finish_notification(first, "pending", next_attempt_at=T0 + 2)
    claim_all(outbox, T0)
    retried = outbox.claim_notification(T0 + 2, LEASE_SECONDS, BOUND)
    assert retried is not None and retried["id"] == first["id"]


def test_no_bound_sends_them_all(outbox):
    queue(outbox, 10)
    assert len(claim_all(outbox, T0, bound=0)) == 10


def test_notifiers_claiming_together_stay_within_the_bound(outbox):
    queue(outbox, 30)
    claimed, start = [], threading.Barrier(4)

    def notifier():
        start.wait()
        claimed.extend(claim_all(outbox, T0))

    threads = [threading.Thread(target=notifier) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == BOUND


def digests(store):
    with store._connect() as conn:
        return [row["status"] for row in conn.execute(
            "SELECT status FROM notifications WHERE kind = ?", (DIGEST,))]


def test_prune_deletes_a_sent_digest_past_retention_and_keeps_one_still_to_send(outbox):
    queue(outbox, BOUND + 1)
    claim_all(outbox, T0)
    outbox.prune(T0 + 1000, 100)
    assert digests(outbox) == ["pending"]
    claim_all(outbox, T0 + WINDOW_SECONDS)
    assert digests(outbox) == ["sent"]
    outbox.prune(T0 + WINDOW_SECONDS, 100)  # sent, but not before the cutoff
    assert digests(outbox) == ["sent"]
    outbox.prune(T0 + 1000, 100)
    assert digests(outbox) == []


# --- The digest's words. ---

def test_the_digest_says_how_many_were_folded_and_links_the_event_log():
    document = json.loads(digest_body(37, 0.0, {"PUBLIC_URL": "https://quotes.example.com",
                                                "NOTIFY_MAX_PER_MINUTE": 6}, 60.0))
    assert document["text"] == ("37 more messages since 1970-01-01 00:00:00 UTC were not sent "
                                "one by one (more than 6 a minute): see the event log, "
                                "https://quotes.example.com/admin")
    assert (document["event"], document["folded"], document["event_id"]) == (
        "notifications.folded", 37, None)


# --- The flood of the issue: 40 failing guest carts from one address. ---

def test_forty_failing_guest_carts_make_at_most_the_bound_and_a_digest_per_channel(
        make_app, shopify, monkeypatch):
    sent = {"webhook": [], "email": []}
    monkeypatch.setattr(channels, "send_webhook", lambda url, body: sent["webhook"].append(body))
    monkeypatch.setattr(channels, "send_email", lambda url, to, body: sent["email"].append(body))
    app = make_app(NOTIFY_WEBHOOK_URL="https://hooks.example.com/services/x",
                   SMTP_URL="smtp://127.0.0.1:2525", NOTIFY_EMAIL="merchant@example.com",
                   PUBLIC_URL="https://quotes.example.com", RATE_LIMIT_PER_IP="0",
                   NOTIFY_MAX_PER_MINUTE="6")
    shopify.post(f"{API}/draft_orders.json", status=422,
                 json={"errors": {"line_items": ["Variant 39072856 does not exist"]}})
    client, core = app.test_client(), app.extensions["worker"]
    for i in range(40):
        submit(client, "203.0.113.7", customer_id=None, token=f"cart-{i}")
    while core.run_once():
        pass
    clock = Clock()
    notifier = Notifier(core.store, app.config, clock=clock)
    for _ in range(12):  # twelve seconds of sending, as in the issue
        while notifier.run_once():
            pass
        clock.advance(1)
    assert [len(sent[channel]) for channel in sent] == [6, 6]
    clock.advance(WINDOW_SECONDS)
    while notifier.run_once():
        pass
    for channel in sent:
        digest = json.loads(sent[channel][-1])
        assert (len(sent[channel]), digest["folded"]) == (7, 34)
        assert digest["admin_url"] == "https://quotes.example.com/admin"
    with core.store._connect() as conn:
        assert conn.execute("SELECT COUNT(*) AS n FROM events WHERE status = 'failed'"
                            ).fetchone()["n"] == 40

