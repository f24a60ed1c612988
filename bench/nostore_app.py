"""A diagnostic for bench 1, not a configuration: the receiver as `app.wsgi`
builds it, except that its store keeps nothing and counts nothing. Every other
step of a submission runs (signature, validation, mapping, fingerprint, status
token, response), so the gap to the real receiver is what the database costs."""

from app import create_app
from app.states import EventStatus
from app.store import Added

app = create_app()
_store = app.extensions["store"]
_store.add = lambda event_id, *args, **kwargs: Added(event_id, True, EventStatus.QUEUED)
