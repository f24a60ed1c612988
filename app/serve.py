"""The web process: `python -m app.serve`, the Procfile's `web:` line.

Why waitress and not gunicorn: gunicorn's threads read the request themselves,
so a client that sends its headers one line every few seconds holds a thread
for as long as it likes; a few dozen such clients hold them all, and under the
sync worker one of them gets the whole process, delivery thread included,
killed by the worker timeout. Waitress reads every request whole in one event
loop and hands a thread only a complete request: a slow client costs a socket,
never a thread, and nothing is ever killed for it.

Waitress closes only connections that have gone quiet, and a trickle never is.
So this server also closes any connection that has not sent a complete request
within REQUEST_TIMEOUT seconds of opening or of its previous answer, and it
answers waitress's own refusals (body or headers too large, malformed request)
in the API's JSON error shape.

Waitress runs Python in one process, so one core at most. WEB_CONCURRENCY
processes (default 2, the variable Heroku sets by dyno size) serve one listening
socket, forked by a small supervisor that imports no app: each child builds the
app itself, with its own delivery worker and database connections, and a child
that dies (a crash, a kill) is replaced at once, as gunicorn's master would.

`python -m app.serve MODULE:APP` serves another WSGI app the same way (the
benchmarks' bare endpoint); the default is `app.wsgi:app`, the receiver with its
delivery worker.
"""

import importlib
import json
import logging
import os
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from types import FrameType
from typing import NoReturn
from wsgiref.types import WSGIApplication

from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask

from . import config

# Waitress's refusals, as the API names them; anything else it refuses is a bad request.
_ERROR_CODES = {413: "body_too_large", 431: "headers_too_large", 500: "internal_error",
                501: "not_implemented"}
MAX_HEADER_BYTES = 64 * 1024
CONNECTION_LIMIT = 1000
LISTEN_BACKLOG = 2048
# A child that exits this way (configuration or database error) would fail again:
# the supervisor stops, as gunicorn's master does on "worker failed to boot".
BOOT_FAILURE = 3
RESPAWN_PAUSE_SECONDS = 1.0  # after a child that died within its first second
QUEUE_DIGEST_SECONDS = 10.0  # at most one "Task queue depth" line this often


class _JsonErrorTask(ErrorTask):
    def execute(self) -> None:
        error = self.request.error
        body = json.dumps({"error": {"code": _ERROR_CODES.get(error.code, "bad_request"),
                                     "detail": f"{error.reason}: {error.body}"}}).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Channel(HTTPChannel):
    error_task_class = _JsonErrorTask


class DeadlineServer(TcpWSGIServer):
    """Waitress's server, closing connections that take too long to send a request."""

    channel_class = _Channel

    def __init__(self, application: WSGIApplication, request_timeout: float,
                 **adjustments: object) -> None:  # waitress's own adjustments
        self.request_timeout = request_timeout
        self._waiting_since: dict[HTTPChannel, float] = {}
        super().__init__(application, cleanup_interval=1, **adjustments)

    def maintenance(self, now: float) -> None:
        """Runs every second in the event loop: after waitress's own check for quiet
        connections, close each one that has waited for a complete request longer
        than the timeout. A connection whose request is being served, or whose
        answer is still going out, is not waiting: its clock starts after that."""
        super().maintenance(now)
        waiting_since: dict[HTTPChannel, float] = {}
        for channel in self.active_channels.values():
            if channel.requests or channel.total_outbufs_len:
                continue
            since = self._waiting_since.get(channel, now)
            if now - since >= self.request_timeout:
                channel.will_close = True
            else:
                waiting_since[channel] = since
        self._waiting_since = waiting_since


class QueueDepthDigest(logging.Filter):
    """Waitress warns "Task queue depth is N" for every request that finds all
    threads busy, in its event loop and under its dispatcher's lock: 700 lines a
    second in bench/'s load (a flood's own log flood, and 2% of the samples of
    bench/profile_intake.py). This lets one line through every `every` seconds,
    saying the deepest queue since the last one and how many warnings it stands
    for. Only waitress's event loop logs there, so no lock is needed."""

    def __init__(self, every: float = QUEUE_DIGEST_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.every, self.clock = every, clock
        self._next = 0.0
        self._deepest = 0
        self._folded = 0

    def filter(self, record: logging.LogRecord) -> bool:
        depth = record.args[0] if isinstance(record.args, tuple) and record.args else 0
        self._deepest = max(self._deepest, depth if isinstance(depth, int) else 0)
        self._folded += 1
        now = self.clock()
        if now < self._next:
            return False
        record.msg = "Task queue depth reached %d (%d such warnings since the last line)"
        record.args = (self._deepest, self._folded)
        self._next, self._deepest, self._folded = now + self.every, 0, 0
        return True


def _stop(signum: int, frame: FrameType | None) -> NoReturn:
    raise SystemExit(0)  # waitress's loop catches it and stops its threads


def _serve(listener: socket.socket, app_path: str, settings: config.Settings) -> None:
    """Serve `app_path` on the listening socket in this process until SIGTERM."""
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    logging.getLogger("waitress.queue").addFilter(QueueDepthDigest())
    module, _, name = app_path.partition(":")
    application = getattr(importlib.import_module(module), name)
    server = DeadlineServer(
        application, settings["REQUEST_TIMEOUT"],
        _sock=listener, bind_socket=False,
        sockinfo=(listener.family, listener.type, listener.proto, listener.getsockname()),
        threads=settings["WEB_THREADS"], backlog=LISTEN_BACKLOG,
        max_request_body_size=settings["MAX_BODY_BYTES"],
        max_request_header_size=MAX_HEADER_BYTES, connection_limit=CONNECTION_LIMIT,
        asyncore_use_poll=True,
        # X-Forwarded-* are the app's to trust or not (TRUSTED_PROXIES), not waitress's.
        clear_untrusted_proxy_headers=False)
    server.print_listen(f"Serving on http://{{}}:{{}} (process {os.getpid()})")
    server.run()


def _child(listener: socket.socket, app_path: str, settings: config.Settings) -> NoReturn:
    """A forked child's whole life: serve, then leave without running the
    supervisor's code that follows the fork."""
    code = 1
    try:
        _serve(listener, app_path, settings)
        code = 0
    except SystemExit as error:
        code = error.code if isinstance(error.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _supervise(listener: socket.socket, app_path: str, settings: config.Settings) -> int:
    """Keep WEB_CONCURRENCY children serving `listener`; on SIGTERM or SIGINT stop
    them all and wait for them. Returns the exit status for the whole service."""
    children: dict[int, float] = {}  # pid: when it started
    state = {"stopping": False, "status": 0}

    def spawn() -> None:
        pid = os.fork()
        if pid == 0:
            _child(listener, app_path, settings)
        children[pid] = time.monotonic()
        if state["stopping"]:  # the SIGTERM came between the fork and the line above
            os.kill(pid, signal.SIGTERM)

    def stop(signum: int | None = None, frame: FrameType | None = None) -> None:
        state["stopping"] = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(settings["WEB_CONCURRENCY"]):
        spawn()
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        started = children.pop(pid, None)
        if started is None or state["stopping"]:
            continue
        code = os.waitstatus_to_exitcode(status)
        if code == BOOT_FAILURE:
            print(f"web process {pid} could not start; stopping", file=sys.stderr, flush=True)
            state["status"] = BOOT_FAILURE
            stop()
            continue
        print(f"web process {pid} exited ({code}); starting another", file=sys.stderr,
              flush=True)
        if time.monotonic() - started < RESPAWN_PAUSE_SECONDS:
            time.sleep(RESPAWN_PAUSE_SECONDS)  # no busy loop of crashing children
        if not state["stopping"]:  # a SIGTERM may have come during the pause
            spawn()
    return state["status"]


def main(argv: Sequence[str]) -> None:
    try:
        settings = config.server_settings(os.environ)
    except config.ConfigError as error:
        print(*error.lines(), sep="\n", file=sys.stderr)
        raise SystemExit(BOOT_FAILURE) from None
    app_path = argv[0] if argv else "app.wsgi:app"
    listener = socket.create_server(("0.0.0.0", settings["PORT"]), backlog=LISTEN_BACKLOG)
    if settings["WEB_CONCURRENCY"] == 1:
        _serve(listener, app_path, settings)
    else:
        raise SystemExit(_supervise(listener, app_path, settings))


if __name__ == "__main__":
    main(sys.argv[1:])
