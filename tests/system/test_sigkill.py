"""A delivery worker killed with SIGKILL at any point loses nothing and duplicates
nothing: once its lease runs out, another worker takes the event over and it ends
with exactly one draft order; with the default lease, within 15 seconds (plus a
Retry-After). A live worker keeps its event however long its Shopify call takes.

Real `flask --app app worker` processes against the Admin API simulator in a
thread; events are submitted through the web app on the same SQLite file, whose
rows the tests read directly to know when to kill.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest
import requests
from helpers import SECRET, cart_body, settings
from servers import procfile_receiver

from app.ids import EVENT_MARKER

pytestmark = pytest.mark.slow  # worker and web processes killed: seconds a test

TOKEN = "shpat_sigkill_tests"
FAST = {"SHOPIFY_TIMEOUT": "0.5", "LEASE_SECONDS": "2"}
DEFAULTS = {}  # LEASE_SECONDS and SHOPIFY_TIMEOUT as a merchant gets them
RECOVERY_SECONDS = 15.0  # from a kill to the next worker's answer, with the defaults
WAIT = 20.0  # seconds any one step may take before the test gives up


@pytest.fixture
def shop(start_simulator):
    return start_simulator(TOKEN, bucket_size=10_000)


@pytest.fixture
def timing():
    """Short leases and timeouts, so takeovers come quickly; a test may ask for
    DEFAULTS by parametrizing `timing`."""
    return FAST


@pytest.fixture
def environ(tmp_path, shop, timing):
    return settings(tmp_path, SHOPIFY_SHOP=shop.url, SHOPIFY_ACCESS_TOKEN=TOKEN, **timing)


@pytest.fixture
def db_path(environ):
    return environ["DATABASE_URL"].removeprefix("sqlite:///")


@pytest.fixture
def event_id(make_app, environ):
    """One accepted submission, queued for the worker processes."""
    response = make_app(**environ).test_client().post("/webhooks/cart", json=cart_body())
    assert response.status_code == 202
    return response.get_json()["id"]


@pytest.fixture
def start_worker(environ, tmp_path):
    """Start `flask --app app worker`; every process started is killed at the end."""
    processes = []

    def start():
        log = open(tmp_path / f"worker-{len(processes)}.log", "wb")
        process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"],
                                   env={**os.environ, **environ}, cwd=tmp_path,
                                   stdout=log, stderr=subprocess.STDOUT)
        log.close()
        processes.append(process)
        return process

    try:
        yield start
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


def event_row(db_path, event_id):
    conn = sqlite3.connect(db_path, timeout=10)
    conn.row_factory = sqlite3.Row
    try:
        return dict(conn.execute("SELECT * FROM events WHERE id = ?", (event_id,)).fetchone())
    finally:
        conn.close()


def wait_until(condition, what, worker=None, timeout=WAIT):
    """Poll `condition` until it holds (returning its value); fail after `timeout`
    or as soon as `worker` has exited."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert worker is None or worker.poll() is None, f"the worker exited before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def sigkill(process):
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=10) == -signal.SIGKILL


def marked_drafts(shop, event_id):
    return [d for d in shop.state.snapshot("draft_orders")
            if {"name": EVENT_MARKER, "value": event_id} in d["note_attributes"]]


def requests_made(shop, method, path_part=""):
    return [r for r in shop.state.snapshot("requests")
            if r["method"] == method and path_part in r["path"]]


def arrived(shop, method, path_part=""):
    return [a for a in shop.state.snapshot("arrivals")
            if a["method"] == method and path_part in a["path"]]


def completes_with_one_draft(shop, db_path, event_id, worker):
    """Wait for the event to complete; check it holds the one draft marked with its id,
    and that no POST is still inside Shopify on its way to making another."""
    event = wait_until(lambda: (row := event_row(db_path, event_id))["status"]
                       in ("completed", "failed") and row, "the event to settle", worker)
    drafts = marked_drafts(shop, event_id)
    assert len(arrived(shop, "POST")) == len(requests_made(shop, "POST"))
    assert event["status"] == "completed", (event["error_code"], event["error_detail"])
    assert len(drafts) == 1, f"{len(drafts)} draft orders for one event"
    assert (event["draft_order_id"], event["draft_order_name"]) == (drafts[0]["id"],
                                                                     drafts[0]["name"])
    return event


def test_killed_after_shopify_created_the_draft_the_next_worker_finds_it(
        shop, db_path, event_id, start_worker):
    shop.state.configure(delay_seconds=5)  # the draft is made, its answer held back
    first = start_worker()
    wait_until(lambda: shop.state.snapshot("draft_orders"), "the draft order", first)
    sigkill(first)
    at_kill = event_row(db_path, event_id)
    assert (at_kill["status"], at_kill["maybe_posted"]) == ("processing", 1)
    assert at_kill["lease_owner"] is not None and at_kill["draft_order_id"] is None
    shop.state.configure(delay_seconds=0)

    second = start_worker()
    completes_with_one_draft(shop, db_path, event_id, second)

    assert len(requests_made(shop, "POST")) == 1
    assert requests_made(shop, "GET", "draft_orders.json")  # the look-up that found it


def test_killed_between_polls_the_next_worker_resumes_polling(
        shop, db_path, event_id, start_worker):
    shop.state.configure(mode="accepted", accepted_polls=2, retry_after=0.5)
    first = start_worker()
    at_kill = wait_until(lambda: (row := event_row(db_path, event_id))["poll_url"] and row,
                         "the poll URL to be stored", first)
    sigkill(first)
    assert at_kill["lease_owner"] is None and at_kill["draft_order_id"] is None

    second = start_worker()
    completes_with_one_draft(shop, db_path, event_id, second)

    assert len(requests_made(shop, "POST")) == 1
    polls = requests_made(shop, "GET", urlsplit(at_kill["poll_url"]).path)
    assert [poll["status"] for poll in polls] == [202, 202, 200]


def test_killed_while_a_poll_is_in_flight_the_next_worker_resumes_polling(
        shop, db_path, event_id, start_worker):
    shop.state.configure(mode="accepted", accepted_polls=2, retry_after=0.3)
    first = start_worker()
    wait_until(lambda: event_row(db_path, event_id)["poll_url"], "the poll URL", first)
    shop.state.configure(delay_seconds=5)  # answers to polls are held back from now on
    wait_until(lambda: arrived(shop, "GET", "/poll/"), "a poll", first)
    sigkill(first)
    at_kill = event_row(db_path, event_id)
    assert at_kill["lease_owner"] is not None and at_kill["status"] == "processing"
    shop.state.configure(delay_seconds=0)

    second = start_worker()
    completes_with_one_draft(shop, db_path, event_id, second)

    assert len(requests_made(shop, "POST")) == 1


def test_killed_while_the_202_is_in_flight_the_next_worker_finds_the_listed_draft(
        shop, db_path, event_id, start_worker):
    """Shopify lists a draft while it is still calculating: the 202 that says so is lost."""
    shop.state.configure(mode="accepted", accepted_listed=True, delay_seconds=5)
    first = start_worker()
    wait_until(lambda: shop.state.snapshot("draft_orders"), "the accepted draft", first)
    sigkill(first)
    at_kill = event_row(db_path, event_id)
    assert (at_kill["maybe_posted"], at_kill["poll_url"]) == (1, None)
    shop.state.configure(delay_seconds=0)

    second = start_worker()
    completes_with_one_draft(shop, db_path, event_id, second)

    assert len(requests_made(shop, "POST")) == 1


def test_killed_before_its_post_took_effect_the_late_draft_is_found_not_doubled(
        shop, db_path, event_id, start_worker):
    shop.state.configure(delay_before_seconds=1)  # the POST waits before any work
    first = start_worker()
    wait_until(lambda: arrived(shop, "POST"), "the POST to reach Shopify", first)
    sigkill(first)
    assert shop.state.snapshot("draft_orders") == []  # killed before Shopify acted
    shop.state.configure(delay_before_seconds=0)  # the held POST still waits out its 1 s

    second = start_worker()  # takes over once the lease (2 s) has run out
    completes_with_one_draft(shop, db_path, event_id, second)

    assert len(requests_made(shop, "POST")) == 1


@pytest.mark.parametrize("kill_after", [0.0, 0.05, 0.15, 0.3, 0.6])
def test_killed_at_any_moment_after_its_claim_the_event_gets_exactly_one_draft(
        shop, db_path, event_id, start_worker, kill_after):
    """Shopify waits 0.1 s before the work and 0.2 s after it, so the kills land
    before the POST, while Shopify holds it, after the draft exists, and after
    the answer came back."""
    shop.state.configure(delay_before_seconds=0.1, delay_seconds=0.2)
    first = start_worker()
    wait_until(lambda: event_row(db_path, event_id)["lease_owner"], "the claim", first)
    time.sleep(kill_after)
    sigkill(first)

    second = start_worker()
    completes_with_one_draft(shop, db_path, event_id, second)


# --- fast recovery with the default lease, and no takeover of a live worker -------------


@pytest.mark.parametrize("timing", [DEFAULTS])
def test_killed_mid_post_the_event_completes_within_15_seconds_with_one_draft(
        shop, db_path, event_id, start_worker):
    """A deploy kills the process while Shopify makes the draft; the new process,
    already up, finds the draft one lease later."""
    shop.state.configure(delay_seconds=WAIT)  # the draft is made, its answer held back
    first = start_worker()
    wait_until(lambda: shop.state.snapshot("draft_orders"), "the draft order", first)
    second = start_worker()
    sigkill(first)
    killed_at = time.monotonic()
    shop.state.configure(delay_seconds=0)

    completes_with_one_draft(shop, db_path, event_id, second)

    assert time.monotonic() - killed_at <= RECOVERY_SECONDS
    assert len(requests_made(shop, "POST")) == 1


@pytest.mark.parametrize("timing", [DEFAULTS])
def test_killed_mid_poll_the_event_completes_within_15_seconds_plus_retry_after(
        shop, db_path, event_id, start_worker):
    retry_after = 1.0
    shop.state.configure(mode="accepted", accepted_polls=2, retry_after=retry_after)
    first = start_worker()
    wait_until(lambda: event_row(db_path, event_id)["poll_url"], "the poll URL", first)
    shop.state.configure(delay_seconds=WAIT)  # answers to polls are held back from now on
    wait_until(lambda: arrived(shop, "GET", "/poll/"), "a poll", first)
    second = start_worker()
    sigkill(first)
    killed_at = time.monotonic()
    shop.state.configure(delay_seconds=0)

    completes_with_one_draft(shop, db_path, event_id, second)

    assert time.monotonic() - killed_at <= RECOVERY_SECONDS + retry_after
    assert len(requests_made(shop, "POST")) == 1


@pytest.mark.parametrize("timing", [{"SHOPIFY_TIMEOUT": "6", "LEASE_SECONDS": "1"}])
def test_a_live_worker_slower_than_its_lease_inside_a_shopify_call_keeps_its_event(
        shop, db_path, event_id, start_worker):
    """Shopify takes 4 leases to answer; a second worker waits all along, and
    neither looks the draft up nor posts it again."""
    shop.state.configure(delay_seconds=4)
    first = start_worker()
    wait_until(lambda: arrived(shop, "POST"), "the POST", first)
    second = start_worker()

    completes_with_one_draft(shop, db_path, event_id, first)

    assert second.poll() is None
    assert [r["method"] for r in shop.state.snapshot("arrivals")] == ["POST"]


@pytest.mark.parametrize("timing", [{"SHOPIFY_TIMEOUT": "4", "LEASE_SECONDS": "1"}])
def test_killed_while_shopify_holds_its_post_longer_than_a_lease_no_second_draft_is_made(
        shop, db_path, event_id, start_worker):
    """The next worker takes the event over after a lease (1 s) and finds no draft
    yet (Shopify makes it after 2.5 s): it looks again once the POST's answer is
    due (4 s) instead of posting a second one."""
    shop.state.configure(delay_before_seconds=2.5)
    first = start_worker()
    wait_until(lambda: arrived(shop, "POST"), "the POST to reach Shopify", first)
    second = start_worker()
    sigkill(first)
    shop.state.configure(delay_before_seconds=0)  # the held POST still waits out its 2.5 s

    completes_with_one_draft(shop, db_path, event_id, second)

    assert len(requests_made(shop, "POST")) == 1
    assert len(requests_made(shop, "GET", "draft_orders.json")) >= 2  # looked, then again


def test_a_web_process_killed_mid_post_is_replaced_and_its_event_completes_within_15_s(
        shop, tmp_path):
    """The PaaS case: the serving process holding the event (delivery thread inside,
    default lease) is killed mid-POST; the web command starts another, and the
    event is finished, with one draft."""
    shop.state.configure(delay_seconds=WAIT)  # the draft is made, its answer held back
    with procfile_receiver(tmp_path, shop.url, TOKEN, SECRET) as receiver:
        response = requests.post(f"{receiver.url}/webhooks/cart", json=cart_body(), timeout=10)
        assert response.status_code == 202
        event_id = response.json()["id"]
        db_path = str(receiver.database_path)
        wait_until(lambda: shop.state.snapshot("draft_orders"), "the draft order")
        holder = int(event_row(db_path, event_id)["lease_owner"].split(":")[1])
        os.kill(holder, signal.SIGKILL)
        killed_at = time.monotonic()
        shop.state.configure(delay_seconds=0)

        completes_with_one_draft(shop, db_path, event_id, None)

        assert time.monotonic() - killed_at <= RECOVERY_SECONDS
        assert len(requests_made(shop, "POST")) == 1


def graphql_operations(shop):
    return [entry["graphql"]["operation"] for entry in shop.state.snapshot("requests")
            if "graphql" in entry]


@pytest.mark.parametrize("timing", [{**FAST, "SHOPIFY_API": "graphql"}])
def test_graphql_killed_after_shopify_created_the_draft_the_next_worker_finds_it_by_its_tag(
        shop, db_path, event_id, start_worker):
    shop.state.configure(delay_seconds=5)  # the draft is made, its answer held back
    first = start_worker()
    wait_until(lambda: shop.state.snapshot("draft_orders"), "the draft order", first)
    sigkill(first)
    assert event_row(db_path, event_id)["maybe_posted"] == 1
    shop.state.configure(delay_seconds=0)

    second = start_worker()
    completes_with_one_draft(shop, db_path, event_id, second)

    assert graphql_operations(shop) == ["DraftOrderCreate", "DraftOrderByMarker"]
