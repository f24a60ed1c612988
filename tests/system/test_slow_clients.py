"""Slow clients against the web process exactly as the Procfile runs it: sixty
connections that trickle one header line at a time and never finish their
request must not delay anybody else, must be closed after REQUEST_TIMEOUT, and
must never cost the delivery worker its life.

The trickle here sends a line every half second (as good as every 5 s: the
line keeps the connection from ever looking idle) and REQUEST_TIMEOUT is 4 s,
so that the file runs in well under a minute."""

import os
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
import requests
from helpers import SECRET, cart_body
from servers import procfile_receiver, shopify_simulator

from app.serve import DeadlineServer

TOKEN = "shpat_slow_clients"
REQUEST_TIMEOUT = 4
TRICKLERS = 60
EVERY = 0.5
PROMPT = 2.0  # seconds within which everybody else must be answered


@pytest.fixture(scope="module")
def shop():
    with shopify_simulator(TOKEN) as shop:
        yield shop


@pytest.fixture(scope="module")
def web(shop, tmp_path_factory):
    with procfile_receiver(tmp_path_factory.mktemp("slow"), shop.url, TOKEN, SECRET,
                           REQUEST_TIMEOUT=str(REQUEST_TIMEOUT), RATE_LIMIT_PER_IP="0",
                           RATE_LIMIT_PER_CUSTOMER="0") as receiver:
        yield receiver


def open_trickle(url):
    """A connection that has sent the start of a request and not its end."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=5)
    sock.sendall(b"POST /webhooks/cart HTTP/1.1\r\nHost: shop.example\r\n")
    return sock


class Trickle:
    """`count` connections, each sending one more header line every `every`
    seconds from one background thread until the block ends or the server
    closes it; the thread stops itself after `limit` seconds in any case."""

    def __init__(self, url, count=TRICKLERS, every=EVERY, limit=30):
        self.sockets = [open_trickle(url) for _ in range(count)]
        self.every, self.limit = every, limit
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        deadline = time.monotonic() + self.limit
        while not self.stop.wait(self.every) and time.monotonic() < deadline:
            for sock in list(self.sockets):
                try:
                    sock.sendall(b"X-Trickle: 1\r\n")
                except OSError:
                    self.sockets.remove(sock)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        for sock in self.sockets:
            sock.close()


def timed(call):
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


def submit(url, number):
    body = cart_body(token=f"slow-{number}-{os.getpid()}",
                     items=[{"variant_id": 5_000_000 + number, "quantity": 1}])
    return requests.post(f"{url}/webhooks/cart", json=body, timeout=10)


@pytest.mark.slow
def test_healthz_answers_promptly_while_sixty_connections_trickle(web):
    with Trickle(web.url) as trickle:
        time.sleep(EVERY)
        for _ in range(5):
            response, seconds = timed(lambda: requests.get(f"{web.url}/healthz", timeout=10))
            assert response.status_code == 200 and seconds < PROMPT, seconds
            time.sleep(EVERY)
        assert len(trickle.sockets) == TRICKLERS  # all still trickling meanwhile


@pytest.mark.slow
def test_signed_submission_answers_promptly_while_sixty_connections_trickle(web):
    with Trickle(web.url) as trickle:
        time.sleep(EVERY)
        for number in range(3):
            response, seconds = timed(lambda n=number: submit(web.url, n))
            assert response.status_code == 202 and seconds < PROMPT, (seconds, response.text)
            time.sleep(EVERY)
        assert len(trickle.sockets) == TRICKLERS


SLOW_STARTS = {
    "sends nothing": (b"", b""),
    "trickles headers": (b"POST /webhooks/cart HTTP/1.1\r\nHost: shop.example\r\n",
                         b"X-Trickle: 1\r\n"),
    "trickles its body": (b"POST /webhooks/cart HTTP/1.1\r\nHost: shop.example\r\n"
                          b"Content-Type: application/json\r\nContent-Length: 14000\r\n\r\n",
                          b" "),
}


@pytest.mark.slow
@pytest.mark.parametrize("start, more", SLOW_STARTS.values(), ids=SLOW_STARTS.keys())
def test_connection_that_never_completes_its_request_is_closed_after_request_timeout(
        web, start, more):
    parts = urlsplit(web.url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=EVERY)
    sock.sendall(start)
    opened = time.monotonic()
    try:
        while time.monotonic() - opened < REQUEST_TIMEOUT + 6:
            sock.sendall(more)
            try:
                if sock.recv(4096) == b"":
                    break
            except TimeoutError:
                continue
    except (ConnectionResetError, BrokenPipeError):
        pass
    finally:
        sock.close()
    closed_after = time.monotonic() - opened
    assert REQUEST_TIMEOUT - 1 <= closed_after <= REQUEST_TIMEOUT + 3, closed_after


@pytest.mark.slow
def test_delivery_worker_still_delivers_after_a_trickle_outlasting_the_request_timeout(
        web, shop):
    with Trickle(web.url, limit=REQUEST_TIMEOUT + 3):
        time.sleep(REQUEST_TIMEOUT + 2)
    response = submit(web.url, 100)
    assert response.status_code == 202, response.text
    status_url = response.json()["status_url"]
    deadline = time.monotonic() + 15
    while requests.get(status_url, timeout=5).json()["status"] != "completed":
        assert time.monotonic() < deadline, web.log()
        time.sleep(0.1)


class Channel:
    """What the deadline reads of a waitress channel."""

    def __init__(self, serving=False):
        self.requests = [object()] if serving else []
        self.total_outbufs_len = 0
        self.last_activity = 0
        self.will_close = False


@pytest.fixture
def deadline_server():
    server = DeadlineServer(None, request_timeout=5, host="127.0.0.1", port=0, _start=False)
    yield server
    server.close()


def test_deadline_spares_a_connection_whose_request_is_being_served(deadline_server):
    serving, waiting = Channel(serving=True), Channel()
    deadline_server.active_channels = {1: serving, 2: waiting}
    deadline_server.maintenance(100.0)
    deadline_server.maintenance(105.0)
    assert waiting.will_close and not serving.will_close


def test_deadline_counts_from_when_the_answer_has_gone_out(deadline_server):
    channel = Channel()
    channel.total_outbufs_len = 1000
    deadline_server.active_channels = {1: channel}
    deadline_server.maintenance(100.0)
    channel.total_outbufs_len = 0
    deadline_server.maintenance(101.0)
    deadline_server.maintenance(105.0)
    assert not channel.will_close
    deadline_server.maintenance(106.0)
    assert channel.will_close
