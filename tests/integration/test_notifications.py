"""The merchant told: a message for each new draft order and each failure,
queued in the settle's transaction and sent by the notifier's own thread, by
webhook (Slack-compatible) and by email, retried, and never holding up delivery."""

import base64
import email
import email.policy
import json
import socketserver
import threading
import time
from contextlib import ExitStack, contextmanager

import pytest
from helpers import API, SHOP, TOKEN, Clock, add_event, migrated_store, submit
from servers import serve

from app.delivery.worker import Worker
from app.notifications import channels, messages
from app.notifications.sender import Notifier

pytest_plugins = ["postgres"]

CREATE = f"{API}/draft_orders.json"
DRAFT = {"draft_order": {"id": 1069920479, "name": "#D12", "status": "open",
                         "invoice_url": f"{SHOP}/548380009/invoices/b21e68f2"}}
HOOK_SECRET = "T000/B000/XXXXsecretXXXX"
SMTP_PASSWORD = "smtp-password-never-shown"
CHANNELS = {"NOTIFY_WEBHOOK_URL": f"https://hooks.example.com/services/{HOOK_SECRET}",
            "SMTP_URL": f"smtp://mailer%40example.com:{SMTP_PASSWORD}@127.0.0.1:2525",
            "NOTIFY_EMAIL": "merchant@example.com"}
SETTINGS = {"SHOPIFY_BASE_URL": SHOP, "SHOPIFY_ACCESS_TOKEN": TOKEN, **CHANNELS}
EVENT = {"id": "3f1c9a52-7e0b-4d0e-9b1a-2c4d5e6f7a8b", "customer_id": 207119551,
         "line_count": 3, "draft_order_id": None}
CREATED = {"status": "completed", "draft_order_id": 1069920479, "draft_order_name": "#D12",
           "invoice_url": f"{SHOP}/548380009/invoices/b21e68f2"}
REJECTED = {"status": "failed", "error_code": "shopify_rejected",
            "error_detail": "Shopify refused the draft order:\nVariant 39072856 does not exist."}


def documents(changes, event=EVENT, settings=SETTINGS):
    return [json.loads(row["body"]) for row in messages.messages(event, changes, settings, 1.0)]


# --- The messages (pure). ---

def test_a_new_draft_order_queues_one_message_per_channel():
    rows = messages.messages(EVENT, CREATED, SETTINGS, 1.0)
    assert [(row["kind"], row["channel"]) for row in rows] == [
        ("draft_created", "webhook"), ("draft_created", "email")]


def test_a_new_draft_orders_message_names_the_draft_the_cart_and_the_customer():
    document = documents(CREATED)[0]
    assert document["text"] == ("Draft order #D12 created from a cart of 3 lines for "
                                "customer 207119551")
    assert document == {
        "text": document["text"], "event": "draft_order.created", "event_id": EVENT["id"],
        "at": 1.0, "error": None, "lines": 3, "customer_id": 207119551,
        "draft_order": {"id": 1069920479, "name": "#D12",
                        "invoice_url": f"{SHOP}/548380009/invoices/b21e68f2",
                        "admin_url": f"{SHOP}/admin/draft_orders/1069920479"}}


def test_a_guest_carts_draft_is_for_a_guest():
    document = documents(CREATED, {**EVENT, "customer_id": None, "line_count": 1})[0]
    assert document["text"] == "Draft order #D12 created from a cart of 1 line for a guest"


def test_a_failures_message_says_its_code_and_detail_in_one_line():
    document = documents(REJECTED)[0]
    assert document["text"] == (f"Cart event {EVENT['id']} failed: shopify_rejected — Shopify "
                                f"refused the draft order: Variant 39072856 does not exist.")
    assert document["event"] == "event.failed"
    assert document["draft_order"] is None
    assert document["error"] == {"code": "shopify_rejected", "detail": REJECTED["error_detail"]}


def test_slack_control_characters_in_a_detail_cannot_make_links_or_mentions():
    text = documents({**REJECTED, "error_detail": "<!channel> <https://evil.example|x> & co"}
                     )[0]["text"]
    assert text.endswith("&lt;!channel&gt; &lt;https://evil.example|x&gt; &amp; co")
    assert messages.plain(text).endswith("<!channel> <https://evil.example|x> & co")


def test_control_characters_in_a_detail_never_reach_the_one_line_text():
    # NUL, escape sequences and a right-to-left override, echoed by Shopify,
    # would otherwise go raw into the Slack text and the email's Subject.
    text = documents({**REJECTED, "error_detail": "bad\x00\x1b[31m red\u202egpj.exe"})[0]["text"]
    assert text.endswith("shopify_rejected — bad [31m red gpj.exe")


def test_no_channel_configured_means_no_message():
    settings = {"SHOPIFY_BASE_URL": SHOP}
    assert messages.messages(EVENT, CREATED, settings, 1.0) == []
    assert messages.messages(EVENT, REJECTED, settings, 1.0) == []


def test_changes_to_a_draft_that_exists_tell_nobody():
    event = {**EVENT, "draft_order_id": 1069920479}
    reread = {"draft_state": "invoice_sent", "reconcile_at": 99.0}
    assert messages.messages(event, reread, SETTINGS, 1.0) == []
    assert messages.messages(event, {**CREATED, "invoice_status": "sent"}, SETTINGS, 1.0) == []


def test_a_rescheduled_call_tells_nobody():
    assert messages.messages(EVENT, {"next_attempt_at": 5.0, "failures": 1}, SETTINGS, 1.0) == []


def test_no_message_carries_a_secret():
    bodies = [row["body"] for changes in (CREATED, REJECTED)
              for row in messages.messages(EVENT, changes, SETTINGS, 1.0)]
    for secret in (TOKEN, HOOK_SECRET, SMTP_PASSWORD):
        assert not any(secret in body for body in bodies)


# --- The outbox (the settle's transaction). ---

@pytest.fixture
def outbox(database_url):
    return migrated_store(database_url)


ROW = {"kind": "failed", "channel": "webhook", "body": "{}"}


def test_settle_queues_the_notifications_with_the_events_new_state(outbox):
    add_event(outbox, "e1", 100.0)
    outbox.claim("w", 100.0, 60)
    assert outbox.settle("e1", "w", 101.0, notifications=[ROW], status="failed")
    shown, total = outbox.notifications("e1", 10)
    assert total == 1
    assert shown[0]["status"] == "pending" and shown[0]["next_attempt_at"] == 101.0


def test_a_settle_that_lost_its_lease_queues_nothing(outbox):
    add_event(outbox, "e1", 100.0)
    outbox.claim("w", 100.0, 60)
    assert not outbox.settle("e1", "another", 101.0, notifications=[ROW], status="failed")
    assert outbox.notifications("e1", 10) == ([], 0)


def test_a_notification_that_cannot_be_written_undoes_the_whole_settle(outbox):
    add_event(outbox, "e1", 100.0)
    outbox.claim("w", 100.0, 60)
    with pytest.raises(Exception):  # noqa: B017 (either database's integrity error)
        outbox.settle("e1", "w", 101.0, notifications=[ROW, {**ROW, "body": None}],
                      status="failed")
    assert outbox.get("e1")["status"] == "processing"
    assert outbox.notifications("e1", 10) == ([], 0)


def test_two_notifiers_never_hold_the_same_notification(outbox):
    add_event(outbox, "e1", 100.0)
    outbox.claim("w", 100.0, 60)
    outbox.settle("e1", "w", 101.0, notifications=[ROW], status="failed")
    assert outbox.claim_notification(102.0, 60)["attempts"] == 1
    assert outbox.claim_notification(102.0, 60) is None
    assert outbox.claim_notification(162.0, 60)["attempts"] == 2, "due again after the lease"


def test_a_result_after_the_lease_passed_to_another_notifier_is_not_recorded(outbox):
    add_event(outbox, "e1", 100.0)
    outbox.claim("w", 100.0, 60)
    outbox.settle("e1", "w", 101.0, notifications=[ROW], status="failed")
    late = outbox.claim_notification(102.0, 60)
    outbox.claim_notification(170.0, 60)
    assert not outbox.finish_notification(late, "sent")
    assert outbox.notifications("e1", 10)[0][0]["status"] == "pending"


def test_prune_deletes_a_pruned_events_notifications(outbox):
    add_event(outbox, "old", 100.0)
    outbox.claim("w", 100.0, 60)
    outbox.settle("old", "w", 101.0, notifications=[ROW], status="failed")
    assert outbox.prune(1000.0, 100).events == 1
    assert outbox.notifications("old", 10) == ([], 0)


# --- Sending by webhook. ---

class Hook:
    """A webhook receiver on a loopback port: records each POST, answers
    `status` (after waiting on `release`, when `hold` is set)."""

    def __init__(self, status=200, answer=b"ok", hold=False):
        self.status, self.answer, self.hold = status, answer, hold
        self.received = []
        self.arrived = threading.Event()
        self.release = threading.Event()

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        self.received.append((environ["PATH_INFO"], environ.get("CONTENT_TYPE"),
                              environ["wsgi.input"].read(length)))
        self.arrived.set()
        if self.hold:
            self.release.wait(10)
        start_response(f"{self.status} X", [("Content-Type", "text/plain")])
        return [self.answer]


@contextmanager
def hook_server(hook):
    with serve(hook) as server:
        try:
            yield server
        finally:
            hook.release.set()


@pytest.fixture
def hooked(make_app):
    """`hooked(hook)`: the receiver app whose NOTIFY_WEBHOOK_URL is `hook`, served."""
    with ExitStack() as stack:
        def make(hook):
            server = stack.enter_context(hook_server(hook))
            return make_app(NOTIFY_WEBHOOK_URL=f"{server.url}/services/{HOOK_SECRET}")
        yield make


def queue_failure(app, event_id="e1"):
    """An event failed by a settle that queued its notifications, as the worker does."""
    store, now = app.extensions["store"], time.time()
    add_event(store, event_id, now - 10)
    event = store.claim("w", now, 60)
    store.settle(event_id, "w", now, notifications=app.extensions["notifier"].messages(
        event, REJECTED, now), **REJECTED)
    return store


def test_the_notifier_posts_the_message_and_marks_it_sent(hooked):
    hook = Hook()
    app = hooked(hook)
    store = queue_failure(app)
    assert app.extensions["notifier"].run_once()
    (path, content_type, body), = hook.received
    assert path == f"/services/{HOOK_SECRET}" and content_type == "application/json"
    assert json.loads(body)["event"] == "event.failed"
    shown, _ = store.notifications("e1", 10)
    assert (shown[0]["status"], shown[0]["attempts"], shown[0]["last_error"]) == ("sent", 1, None)


def refused_notifier(hooked, answer=b"no_service"):
    """(store, notifier, clock): a failure's notification queued for a webhook
    that answers 500 with `answer`."""
    app = hooked(Hook(status=500, answer=answer))
    store, clock = queue_failure(app), Clock()
    return store, Notifier(store, app.config, clock=clock), clock


def test_a_refused_webhook_is_retried_after_a_doubling_backoff(hooked):
    store, notifier, clock = refused_notifier(hooked)
    waits = []
    for _ in range(4):
        before = clock()
        assert notifier.run_once()
        waits.append(store.next_notification_at() - before)
        clock.advance(waits[-1])
    # 2 s, 4 s, 8 s, 16 s, each with up to a quarter of jitter (and the send's own time).
    assert all(2 ** n <= wait <= 2 ** n * 1.25 + 0.5 for n, wait in enumerate(waits, 1)), waits
    shown, _ = store.notifications("e1", 10)
    assert shown[0]["status"] == "pending"
    assert shown[0]["last_error"] == "the webhook answered 500: no_service"


def test_a_webhook_refused_five_times_is_kept_as_failed(hooked):
    store, notifier, clock = refused_notifier(hooked)
    for _ in range(5):
        clock.advance(400)
        assert notifier.run_once()
    clock.advance(400)
    assert not notifier.run_once()
    shown, _ = store.notifications("e1", 10)
    assert (shown[0]["status"], shown[0]["attempts"]) == ("failed", 5)


def test_a_refusals_error_never_shows_the_webhooks_secret_address(hooked):
    store, notifier, _ = refused_notifier(
        hooked, answer=f"no such hook: /services/{HOOK_SECRET}".encode())
    notifier.run_once()
    error = store.notifications("e1", 10)[0][0]["last_error"]
    assert error.startswith("the webhook answered 500") and HOOK_SECRET not in error


def test_an_unreachable_webhook_is_named_by_what_went_wrong_not_where():
    with pytest.raises(channels.SendError) as raised:
        channels.send_webhook(f"http://127.0.0.1:1/services/{HOOK_SECRET}", "{}")
    assert str(raised.value) == "could not reach the webhook (ConnectionError)"


class Dribbler(socketserver.BaseRequestHandler):
    """A webhook endpoint that feeds its answer a byte every 0.2 s, for 6 s."""

    def handle(self):
        self.request.recv(65536)
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 28:
            time.sleep(0.2)
            try:
                self.request.sendall(bytes([byte]))
            except OSError:
                return


@contextmanager
def dribbling(handler):
    """A loopback server whose `handler` answers slowly; yields its port."""
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler) as server:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        yield server.server_address[1]
        server.shutdown()


def given_up_within_two_seconds(send):
    """The SendError `send()` raises, checked to come well before the dribble ends."""
    started = time.monotonic()
    with pytest.raises(channels.SendError) as raised:
        send()
    assert time.monotonic() - started < 2
    return str(raised.value)


def test_a_webhook_answering_a_byte_at_a_time_is_given_up_at_the_timeout():
    with dribbling(Dribbler) as port:
        said = given_up_within_two_seconds(lambda: channels.send_webhook(
            f"http://127.0.0.1:{port}/hook", "{}", timeout=0.5))
    assert said == "the webhook did not answer within 0.5 s"


@pytest.mark.slow
def test_a_slow_webhook_never_delays_the_workers_deliveries(hooked, shopify):
    hook = Hook(hold=True)
    app = hooked(hook)
    shopify.add_passthru(app.config["NOTIFY_WEBHOOK_URL"])
    shopify.post(CREATE, status=201, json=DRAFT)
    core = app.extensions["worker"]
    worker = Worker(core.store, core.client, core.policy, core.lease_seconds,
                    notifier=core.notifier)
    stop = threading.Event()
    core.notifier.start(stop)
    try:
        client = app.test_client()
        first = submit(client)["id"]
        assert worker.run_once()
        assert hook.arrived.wait(5), "the notifier never posted"
        second = submit(client, customer_id=207119552)["status_url"]  # not a double click
        started = time.monotonic()
        assert worker.run_once()
        assert time.monotonic() - started < 1
        assert client.get(second).get_json()["status"] == "completed"
        held, _ = core.store.notifications(first, 10)
        assert held[0]["status"] == "pending", "the webhook was still holding its answer"
    finally:
        stop.set()
        hook.release.set()


def test_the_worker_queues_a_new_drafts_notification_as_it_settles(hooked, shopify):
    app = hooked(Hook())
    shopify.post(CREATE, status=201, json=DRAFT)
    core = app.extensions["worker"]
    event_id = submit(app.test_client())["id"]
    assert core.run_once()
    shown, _ = core.store.notifications(event_id, 10)
    assert [(row["kind"], row["channel"], row["status"]) for row in shown] == [
        ("draft_created", "webhook", "pending")]


# --- Sending by email. ---

class SmtpStub(socketserver.StreamRequestHandler):
    """Just enough of an SMTP server (no STARTTLS) to take one message: it
    keeps the login and the message on the server object."""

    def reply(self, line):
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        server = self.server
        self.reply("220 stub ESMTP")
        while line := self.rfile.readline().decode().rstrip("\r\n"):
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-stub")
                self.reply("250 AUTH PLAIN")
            elif verb == "AUTH":
                server.login = base64.b64decode(line.split()[2]).split(b"\0")[1:]
                self.reply("235 ok")
            elif verb in ("MAIL", "RCPT"):
                server.envelope.append(line.split(":", 1)[1])
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go on")
                data = []
                while (part := self.rfile.readline()) != b".\r\n":
                    data.append(part)
                server.message = b"".join(data).decode()
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


@pytest.fixture
def smtp():
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), SmtpStub) as server:
        server.envelope, server.login, server.message = [], None, None
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        yield server
        server.shutdown()


def test_an_email_goes_to_the_merchant_from_the_smtp_user_with_the_text_as_subject(smtp):
    settings = {**SETTINGS, "NOTIFY_WEBHOOK_URL": None,
                "SMTP_URL": f"smtp://mailer%40example.com:{SMTP_PASSWORD}@127.0.0.1:"
                            f"{smtp.server_address[1]}"}
    row, = messages.messages(EVENT, CREATED, settings, 1.0)
    channels.send_email(settings["SMTP_URL"], settings["NOTIFY_EMAIL"], row["body"])
    assert smtp.login == [b"mailer@example.com", SMTP_PASSWORD.encode()]
    assert smtp.envelope == ["<mailer@example.com>", "<merchant@example.com>"]
    message = email.message_from_string(smtp.message, policy=email.policy.default)
    # (Python folds a subject that fits on a line of its own onto it: " Draft order …".)
    assert message["Subject"].strip() == ("Draft order #D12 created from a cart of 3 lines "
                                          "for customer 207119551")
    assert f"{SHOP}/admin/draft_orders/1069920479" in message.get_content()
    assert SMTP_PASSWORD not in smtp.message


def test_without_a_user_the_email_comes_from_the_merchants_address(smtp):
    url = f"smtp://127.0.0.1:{smtp.server_address[1]}"
    channels.send_email(url, "merchant@example.com", documents_body(REJECTED))
    assert smtp.login is None
    assert smtp.envelope[0] == "<merchant@example.com>"


def documents_body(changes):
    return messages.messages(EVENT, changes, SETTINGS, 1.0)[0]["body"]


def test_an_unreachable_mail_server_is_a_send_error_without_the_password():
    url = f"smtp://mailer:{SMTP_PASSWORD}@127.0.0.1:1"
    with pytest.raises(channels.SendError) as raised:
        channels.send_email(url, "merchant@example.com", documents_body(CREATED))
    assert SMTP_PASSWORD not in str(raised.value)


# --- The event log. ---

def test_an_events_page_shows_its_notifications(make_app):
    app = make_app(ADMIN_PASSWORD="pw")
    store = app.extensions["store"]
    add_event(store, "e1", time.time() - 10)
    store.claim("w", time.time(), 60)
    store.settle("e1", "w", time.time(), notifications=[ROW], status="failed")
    claimed = store.claim_notification(time.time(), 60)
    store.finish_notification(claimed, "failed", last_error="the webhook answered 500: down")
    text = app.test_client().get("/admin/events/e1", auth=("m", "pw")).get_data(as_text=True)
    assert "Merchant notifications (1)" in text
    assert "<td>webhook</td><td>failed</td><td>1</td><td>the webhook answered 500: down</td>" \
        in text


def test_a_message_that_cannot_be_built_never_stops_the_settle(make_app, monkeypatch):
    notifier = make_app(**CHANNELS).extensions["notifier"]
    monkeypatch.setattr(messages, "_document", lambda *args: 1 / 0)
    assert notifier.messages(EVENT, CREATED, 1.0) == []


class SlowGreeter(socketserver.BaseRequestHandler):
    """An SMTP server that greets a byte every 0.2 s: each read is quick, the whole never ends."""

    def handle(self):
        try:
            for byte in b"220 slow.example ESMTP at your service, eventually\r\n" * 10:
                self.request.sendall(bytes([byte]))
                time.sleep(0.2)
        except OSError:
            pass


def test_an_smtp_server_answering_a_byte_at_a_time_is_given_up_at_the_timeout():
    with dribbling(SlowGreeter) as port:
        said = given_up_within_two_seconds(lambda: channels.send_email(
            f"smtp://127.0.0.1:{port}", "merchant@example.com", documents_body(REJECTED),
            timeout=0.5))
    assert said == "the SMTP server did not finish within 0.5 s"
