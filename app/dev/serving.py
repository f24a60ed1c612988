"""Any WSGI app on a real loopback port, served from a thread of this process:
the demo's three servers, and tests whose clients need real HTTP (timeouts,
dropped sockets, other processes)."""

import threading

from werkzeug.serving import make_server


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
        self._server = make_server(old.host, old.port, old.app, threaded=True)
        self._thread = self._serve(self._server)


def serve_in_thread(app, host="127.0.0.1", port=0):
    """Serve `app` on `host`:`port` (0: a free port) until `shutdown()`."""
    return ServedApp(make_server(host, port, app, threaded=True))
