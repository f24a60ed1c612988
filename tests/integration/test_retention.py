"""Retention: completed and failed events are deleted RETENTION_DAYS after they
settled, by the idle worker or `flask --app app prune`; active ones never are."""

import os
import subprocess
import sys
import threading
import time

import pytest
from helpers import ANSWER, add_event, migrated_store, settings

from app.config import ConfigError, load
from app.delivery import maintenance
from app.delivery.maintenance import PRUNE_INTERVAL_SECONDS
from app.delivery.worker import Worker
from app.store.base import Subject

pytest_plugins = ["postgres"]

DAY = 86400
def event_ids(store):
    return sorted(event["id"] for event in store.list_events(1000))


@pytest.fixture
def store(database_url):
    return migrated_store(database_url)


def test_prune_deletes_settled_events_older_than_the_cutoff_and_their_answers(store):
    now = time.time()
    add_event(store, "done", now - 40 * DAY, settled=now - 40 * DAY)
    add_event(store, "failed", now - 40 * DAY, settled=now - 40 * DAY, status="failed")
    pruned = store.prune(now - 30 * DAY, 100)
    assert (pruned.events, pruned.answers, pruned.done) == (2, 2, True)
    assert event_ids(store) == []
    assert store.answers("done") == store.answers("failed") == []


def webhook_ids(store):
    with store._connect() as conn:
        return sorted(row["webhook_id"] for row in conn.execute(
            "SELECT webhook_id FROM shopify_webhooks"))


def test_prune_deletes_a_pruned_event_s_webhooks_and_old_ones_about_no_event(store):
    now = time.time()
    add_event(store, "done", now - 40 * DAY, settled=now - 40 * DAY)
    store.add_webhook("w-ours", None, "draft_orders/update", None, now - 40 * DAY, "{}", "pending")
    with store._connect(write=True) as conn:
        conn.execute("UPDATE shopify_webhooks SET status = 'applied', event_id = 'done'")
    store.add_webhook("w-old", None, "draft_orders/update", None, now - 40 * DAY, "{}",
                      "ignored", "not a draft order this service created")
    store.add_webhook("w-recent", None, "draft_orders/update", None, now - DAY, "{}",
                      "ignored", "not a draft order this service created")
    store.prune(now - 30 * DAY, 100)
    assert webhook_ids(store) == ["w-recent"]


def unmatched(store, count, at):
    for n in range(count):
        store.add_webhook(f"w-{at}-{n}", None, "orders/create", None, at, "", "ignored",
                          "an order not made from a draft order")


def test_prune_deletes_every_webhook_about_no_event_past_retention_batch_after_batch(store):
    now = time.time()
    unmatched(store, 7, now - 40 * DAY)
    unmatched(store, 1, now - DAY)
    pruned = store.prune(now - 30 * DAY, batch=2)
    assert (pruned.webhooks, pruned.done) == (7, True)
    assert len(webhook_ids(store)) == 1


def test_prune_told_to_stop_says_it_left_webhooks_about_no_event_behind(store):
    unmatched(store, 5, time.time() - 40 * DAY)
    pruned = store.prune(time.time() - 30 * DAY, batch=2, go_on=lambda: False)
    assert (pruned.webhooks, pruned.done) == (2, False)


def test_prune_keeps_a_pending_webhook_however_old(store):
    store.add_webhook("w-pending", None, "customers/redact", None, time.time() - 40 * DAY,
                      "{}", "pending")
    store.prune(time.time() - 30 * DAY, 100)
    assert webhook_ids(store) == ["w-pending"]


def test_prune_deletes_data_request_exports_past_retention(store):
    store.export_request(Subject(1, None), time.time() - 40 * DAY, "command", lambda found: "{}",
                         lambda export_id: ())
    assert store.prune(time.time() - 30 * DAY, 100).exports == 1
    assert store.exports(10) == []


def test_prune_deletes_the_shops_own_sent_notifications_past_retention(store):
    """A data request's notice, as a credentials problem's, is about no event:
    no event's pruning takes it along."""
    then = time.time() - 40 * DAY
    store.export_request(Subject(1, None), then, "command", lambda found: "{}",
                         lambda export_id: [{"kind": "data_request", "channel": "webhook",
                                             "body": "{}"}])
    claimed = store.claim_notification(then, 60)
    assert store.finish_notification(claimed, "sent")
    store.prune(time.time() - 30 * DAY, 100)
    with store._connect() as conn:
        assert conn.execute("SELECT COUNT(*) AS n FROM notifications").fetchone()["n"] == 0


def test_prune_keeps_an_event_that_settled_after_the_cutoff_however_old(store):
    now = time.time()
    add_event(store, "late", now - 40 * DAY, settled=now - 10 * DAY)
    assert store.prune(now - 30 * DAY, 100).events == 0
    assert event_ids(store) == ["late"]
    assert len(store.answers("late")) == 1


def test_prune_never_deletes_queued_or_processing_events(store):
    old = time.time() - 40 * DAY
    add_event(store, "queued", old)
    add_event(store, "processing", old)
    store.claim("w", old, 60)
    rescheduled = old + 1
    add_event(store, "waiting", old)
    store.claim("w", old, 60)
    store.settle("waiting", "w", rescheduled, ANSWER, next_attempt_at=rescheduled)
    assert store.prune(time.time(), 100).events == 0
    assert event_ids(store) == ["processing", "queued", "waiting"]


def test_prune_deletes_in_batches_and_stops_between_them_when_told(store):
    old = time.time() - 40 * DAY
    for n in range(5):
        add_event(store, f"e{n}", old, settled=old)
    pruned = store.prune(time.time(), batch=2, go_on=lambda: False)
    assert (pruned.events, pruned.done) == (2, False)
    assert len(event_ids(store)) == 3


def test_prune_goes_on_batch_after_batch_until_nothing_is_left(store):
    old = time.time() - 40 * DAY
    for n in range(5):
        add_event(store, f"e{n}", old, settled=old)
    assert store.prune(time.time(), batch=2)[:3] == (5, 5, True)
    assert event_ids(store) == []


# --- The worker. ---

@pytest.fixture
def retaining(app, store, clock):
    """A worker on `store` keeping settled events 30 days."""
    core = app.extensions["worker"]
    return Worker(store, core.client, core.policy, core.lease_seconds, clock=clock,
                  retention_seconds=30 * DAY)


def test_the_worker_prunes_when_no_event_is_due(retaining, store):
    old = time.time() - 40 * DAY
    add_event(store, "old", old, settled=old)
    stop = threading.Event()
    thread = threading.Thread(target=retaining.run_forever, args=(stop,))
    thread.start()
    deadline = time.monotonic() + 10
    while event_ids(store) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join()
    assert event_ids(store) == []


def test_the_worker_prunes_at_most_once_per_interval(retaining, store, clock):
    retaining._prune_when_idle(threading.Event())
    old = time.time() - 40 * DAY
    add_event(store, "old", old, settled=old)
    retaining._prune_when_idle(threading.Event())
    assert event_ids(store) == ["old"]
    clock.advance(PRUNE_INTERVAL_SECONDS)
    retaining._prune_when_idle(threading.Event())
    assert event_ids(store) == []


def test_the_worker_stops_pruning_when_an_event_arrives_and_resumes_when_idle(
        retaining, store, monkeypatch):
    monkeypatch.setattr(maintenance, "PRUNE_BATCH", 2)
    old = time.time() - 40 * DAY
    for n in range(5):
        add_event(store, f"e{n}", old, settled=old)
    retaining.notify()  # as the receiver does after storing a submission
    retaining._prune_when_idle(threading.Event())
    assert len(event_ids(store)) == 3
    retaining._wake.clear()  # as run_forever does before the next idle moment
    retaining._prune_when_idle(threading.Event())
    assert event_ids(store) == []


def test_the_worker_stops_pruning_when_an_event_falls_due(retaining, store, monkeypatch):
    monkeypatch.setattr(maintenance, "PRUNE_BATCH", 2)
    old = time.time() - 40 * DAY
    for n in range(5):
        add_event(store, f"e{n}", old, settled=old)
    add_event(store, "due", time.time())
    retaining._prune_when_idle(threading.Event())
    assert len(event_ids(store)) == 4  # three settled, and the one due


def test_with_retention_off_the_worker_keeps_every_event(app, store, clock):
    core = app.extensions["worker"]
    keeping = Worker(store, core.client, core.policy, core.lease_seconds, clock=clock)
    old = time.time() - 4000 * DAY
    add_event(store, "old", old, settled=old)
    keeping._prune_when_idle(threading.Event())
    assert event_ids(store) == ["old"]


# --- Settings and the command. ---

def test_retention_days_defaults_to_30(tmp_path):
    assert load(settings(tmp_path), str(tmp_path))["RETENTION_DAYS"] == 30


def test_retention_days_must_be_a_whole_number(tmp_path):
    with pytest.raises(ConfigError, match="RETENTION_DAYS must be a whole number"):
        load(settings(tmp_path, RETENTION_DAYS="two weeks"), str(tmp_path))


def test_the_app_worker_keeps_events_RETENTION_DAYS(make_app):
    assert make_app(RETENTION_DAYS="7").extensions["worker"].retention_seconds == 7 * DAY


def test_prune_command_says_what_it_deleted(make_app):
    app = make_app(RETENTION_DAYS="30")
    old = time.time() - 40 * DAY
    add_event(app.extensions["store"], "old", old, settled=old)
    add_event(app.extensions["store"], "new", time.time(), settled=time.time())
    result = app.test_cli_runner().invoke(args=["prune"])
    assert result.output == ("prune: deleted 1 completed or failed events last changed more"
                             " than 30 days ago, and their 1 Shopify answers; 0 Shopify webhooks"
                             " about no event and 0 data-request exports older than that\n")
    assert event_ids(app.extensions["store"]) == ["new"]


def test_prune_command_deletes_nothing_when_retention_is_off(make_app):
    app = make_app(RETENTION_DAYS="0")
    old = time.time() - 4000 * DAY
    add_event(app.extensions["store"], "old", old, settled=old)
    result = app.test_cli_runner().invoke(args=["prune"])
    assert result.output == "prune: RETENTION_DAYS is 0, so every event is kept; nothing deleted\n"
    assert event_ids(app.extensions["store"]) == ["old"]


def test_prune_command_runs_with_the_apps_own_settings(tmp_path):
    environ = {name: value for name, value in os.environ.items()
               if not name.startswith(("SHOPIFY_", "SHARED_", "DATABASE_", "RETENTION_"))}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "prune"],
                            env={**environ, **settings(tmp_path)}, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("prune: deleted 0 completed or failed events")
