"""The digest of a channel's folded notifications: past NOTIFY_MAX_PER_MINUTE,
app/store/notifications.py keeps a channel's messages in the outbox as folded
(each still on its event's page in /admin) and queues one digest, which
sender.py words here when it is due: how many were folded, since when, and the
link to the event log. It carries nothing of the folded messages themselves.
"""

import time
from collections.abc import Mapping
from typing import Any

from .messages import message_body

EVENT = "notifications.folded"

# Settings are read as config.load built them (one type a setting): Any.


def digest_body(folded: int, since: float | None, settings: Mapping[str, Any],
                now: float) -> str:
    """The digest's body: a Slack-style `text` and the document, as every message's."""
    admin_url = f"{settings.get('PUBLIC_URL') or ''}/admin"
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(now if since is None else since))
    text = (f"{folded} more message{'' if folded == 1 else 's'} since {when} "
            f"{'was' if folded == 1 else 'were'} not sent one by one (more than "
            f"{settings.get('NOTIFY_MAX_PER_MINUTE')} a minute): see the event log, "
            f"{admin_url}")
    return message_body(text, {"event": EVENT, "event_id": None, "at": now, "draft_order": None,
                               "error": None, "folded": folded, "admin_url": admin_url})
