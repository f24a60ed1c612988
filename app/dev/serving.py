"""Any WSGI app on a real loopback port, served from a thread of this process:
the demo's three servers, and tests whose clients need real HTTP (timeouts,
dropped sockets, other processes)."""

import re
import sys
import threading

from werkzeug.serving import WSGIRequestHandler, make_server

_ANSI_STYLE = re.compile(r"\x1b\[[0-9;]*m")


class _RequestHandler(WSGIRequestHandler):
    """Werkzeug colours each request's line by its status, terminal or not
    (only colorama, where installed, strips the codes): plain unless the log,
    on stderr, is a terminal, so the demo's output kept in a file reads clean."""

    def log(self, type, message, *args):
        if not sys.stderr.isatty():
            args = [_ANSI_STYLE.sub("", arg) if isinstance(arg, str) else arg for arg in args]
        super().log(type, message, *args)


class ServedApp:
    """A WSGI app served on a real port by a Werkzeug server in a daemon thread."""

    POLL_INTERVAL = 0.05  # how soon shutdown() is noticed (socketserver's default: 0.5 s)

    def __init__(self, server):
        self._server = server
        self._thread = self._serve(server)
        self.url = f"http://{server.host}:{server.port}"

    def _serve(self, server):
        thread = threading.Thread(target=server.serve_forever, daemon=True,
                                  kwargs={"poll_interval": self.POLL_INTERVAL})
        thread.start()
        return thread

    def shutdown(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def refuse_connections(self):
        """Stop listening, keeping the app and its state: clients get "connection
        refused", as from a server that is down hard, until `accept_connections`."""
        self.shutdown()

    def accept_connections(self):
        """Listen again on the same address, with the same app."""
        old = self._server
        self._server = make_server(old.host, old.port, old.app, threaded=True,
                                   request_handler=_RequestHandler)
        self._thread = self._serve(self._server)


def serve_in_thread(app, host="127.0.0.1", port=0):
    """Serve `app` on `host`:`port` (0: a free port) until `shutdown()`."""
    return ServedApp(make_server(host, port, app, threaded=True,
                                 request_handler=_RequestHandler))
