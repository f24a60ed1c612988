"""The web process's entry point (Procfile `web:`): the app, plus the delivery
worker in a background thread unless RUN_WORKER=0.

Gunicorn imports this once per worker process, after forking, so each process
gets its own worker thread; the store's leases keep them from colliding.
"""

import logging

from . import create_app

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

app = create_app()
if app.config["RUN_WORKER"]:
    app.extensions["worker"].start()
