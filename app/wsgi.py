"""The WSGI app the web process serves (`python -m app.serve`, the Procfile's
`web:` line), plus the delivery worker in a background thread unless RUN_WORKER=0.

Each process that imports this gets its own worker thread; the store's leases
keep the threads of several processes from taking the same event.
"""

import logging

from . import create_app

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

app = create_app()
if app.config["RUN_WORKER"]:
    app.extensions["worker"].start()
