"""The status URL's long poll (issue 19): `GET <status_url>?wait=N&since=V`
answers as soon as the status document is no longer version V, or after N
seconds (at most MOST_WAIT_SECONDS), whichever comes first. Without `wait`
(or `since`) it answers at once, as ever. Every document carries its
`version`, a digest of what the shopper may see.

The event may change in another process (`flask worker`, the other serving
processes), so the wake-up cannot be in-process only: one watcher thread per
process reads, every WATCH_EVERY seconds and in one statement, when each
watched event last changed (store.updated_marks), and wakes the requests whose
event moved; each re-reads its document and answers if its version changed,
else waits on. The thread runs while some request waits, and LINGER seconds
more (on PostgreSQL it holds one more connection per process meanwhile).

A waiting request holds one of waitress's threads (which are only ever handed
complete requests, so a slow client costs a socket, never a thread, until its
request is whole). So at most STATUS_WAITERS requests per process wait; past
that bound the status URL answers at once, as a plain poll (header
`X-Status-Wait: busy`), and send-cart.js waits a second before asking again.

`status_response` is what any status route calls (GET /events/<token>, and
the app proxy's).
"""

import hashlib
import json
import logging
import math
import threading
import time
from collections.abc import Mapping

from flask import Response, current_app, jsonify

from ..event import Event
from ..store.base import SqlStore
from .errors import ApiError
from .status import status_document

MOST_WAIT_SECONDS = 25  # under REQUEST_TIMEOUT-like proxy limits (Heroku's router: 30 s)
WATCH_EVERY = 0.05      # seconds between two reads of the watched events' marks
LINGER = 5.0            # seconds the watcher thread stays once nobody waits
_VERSION_CHARS = 16

_MADE = threading.Lock()  # makes each app's Watcher once
_log = logging.getLogger(__name__)


def version(document: Mapping[str, object]) -> str:
    """A digest of a status document: equal documents, equal versions."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:_VERSION_CHARS]


def wait_asked(args: Mapping[str, str]) -> tuple[float, str | None]:
    """The query's `wait` (seconds, bounded to MOST_WAIT_SECONDS) and `since`
    (a version), checked; (0, None) when the client asks for no wait."""
    raw_wait, since = args.get("wait"), args.get("since")
    if raw_wait is None:
        return 0.0, None
    try:
        wait = float(raw_wait)
    except ValueError:
        wait = math.nan
    if not math.isfinite(wait) or wait < 0 or len(raw_wait) > 10:
        raise ApiError(400, "invalid_wait", "wait must be a number of seconds.", field="wait")
    if since is not None and (len(since) != _VERSION_CHARS
                              or any(c not in "0123456789abcdef" for c in since)):
        raise ApiError(400, "invalid_since", "since must be a status document's version.",
                       field="since")
    return min(wait, MOST_WAIT_SECONDS), since


class _Waiter:
    def __init__(self, event_id: str, mark: float | None) -> None:
        self.event_id, self.mark = event_id, mark
        self.moved = threading.Event()


class Watcher:
    """A process's waiting status requests and the one thread that watches their events."""

    def __init__(self, store: SqlStore, slots: int, every: float = WATCH_EVERY) -> None:
        self.store, self.slots, self.every = store, slots, every
        self._waiters: list[_Waiter] = []
        self._lock = threading.Lock()
        self._watching = False
        self._taken = 0

    def take_slot(self) -> bool:
        """A waiting place, if fewer than `slots` requests wait; give it back with `free_slot`."""
        with self._lock:
            if self.slots - self._taken <= 0:
                return False
            self._taken += 1
            return True

    def free_slot(self) -> None:
        with self._lock:
            self._taken -= 1

    def wait_for_move(self, event_id: str, mark: float | None, seconds: float) -> bool:
        """Sleep until the event's mark differs from `mark` (True) or `seconds`
        pass (False)."""
        waiter = _Waiter(event_id, mark)
        with self._lock:
            self._waiters.append(waiter)
            if not self._watching:
                self._watching = True
                threading.Thread(target=self._watch, name="status-watcher", daemon=True).start()
        try:
            return waiter.moved.wait(seconds)
        finally:
            with self._lock:
                self._waiters.remove(waiter)

    def _watch(self) -> None:
        """Read the watched events' marks every `every` seconds while any request
        waits; gone once none has waited for LINGER seconds (on PostgreSQL the
        thread's connection goes with it, so it is not made again at every wait)."""
        pause = threading.Event()
        idle_since = time.monotonic()
        while True:
            with self._lock:
                if not self._waiters and time.monotonic() - idle_since >= LINGER:
                    self._watching = False
                    return
                waiters = list(self._waiters)
            if not waiters:
                pause.wait(self.every)
                continue
            idle_since = time.monotonic()
            try:
                marks = self.store.updated_marks(sorted({w.event_id for w in waiters}))
            except Exception:  # a database blip: wake them all, each re-reads its event
                _log.warning("the status watcher could not read the events' marks", exc_info=True)
                marks = {}
            for waiter in waiters:
                if marks.get(waiter.event_id) != waiter.mark:
                    waiter.moved.set()
            pause.wait(self.every)


def watcher() -> Watcher:
    """The current app's Watcher, made on first use."""
    extensions = current_app.extensions
    found = extensions.get("status_watcher")
    if found is None:
        with _MADE:
            found = extensions.setdefault("status_watcher", Watcher(
                extensions["store"], current_app.config["STATUS_WAITERS"]))
    assert isinstance(found, Watcher)
    return found


def status_response(event_id: str, args: Mapping[str, str]) -> Response:
    """The status document of `event_id` (404 when there is none), once it is no
    longer the version `since` or the `wait` has passed (see the module's
    docstring); with its `version`."""
    wait, since = wait_asked(args)
    store: SqlStore = current_app.extensions["store"]
    event = _event(store, event_id)
    document = status_document(event)
    waited = None
    if wait > 0 and since is not None and version(document) == since:
        watching = watcher()
        if watching.take_slot():
            try:
                event, document, waited = _wait(watching, store, event, since, wait)
            finally:
                watching.free_slot()
        else:
            waited = "busy"
    response = jsonify({**document, "version": version(document)})
    response.headers["Cache-Control"] = "no-store"
    if waited:
        response.headers["X-Status-Wait"] = waited
    return response


def no_event() -> ApiError:
    """The 404 of a status address naming no event: a token not ours, or an
    event pruned since (both status routes answer it alike)."""
    return ApiError(404, "not_found", "There is no event at this address.")


def _event(store: SqlStore, event_id: str) -> Event:
    event = store.get(event_id)
    if event is None:
        raise no_event()
    return event


def _wait(watching: Watcher, store: SqlStore, event: Event, since: str,
          wait: float) -> tuple[Event, dict[str, object], str]:
    """Wait for the event's document to change from `since`, for at most `wait` seconds."""
    deadline = time.monotonic() + wait
    document = status_document(event)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return event, document, "timeout"
        if watching.wait_for_move(event["id"], event["updated_at"], left):
            event = _event(store, event["id"])
            document = status_document(event)
            if version(document) != since:
                return event, document, "changed"
