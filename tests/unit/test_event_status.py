"""Event statuses are named once, in app/states.py; what cannot import
them (the storefront script, the event log's stylesheet) is checked against it."""

import re
from pathlib import Path

from app.states import ACTIVE, SETTLED, EventStatus

ROOT = Path(__file__).resolve().parent.parent.parent
SEND_CART = (ROOT / "static" / "send-cart.js").read_text(encoding="utf-8")


def test_every_status_is_either_active_or_settled():
    assert sorted(ACTIVE + SETTLED) == sorted(EventStatus)


def test_send_cart_waits_for_the_settled_statuses_the_server_sends():
    table = re.search(r"var EVENT_STATUS = \{([^}]*)\};", SEND_CART).group(1)
    named = dict(re.findall(r'(\w+): "([^"]*)"', table))

    assert named == {status.value: status.value for status in SETTLED}


def test_send_cart_spells_each_status_only_in_its_table():
    for status in EventStatus:
        assert len(re.findall(f'"{status}"', SEND_CART)) <= 1, status


def test_event_log_colours_every_status():
    stylesheet = (ROOT / "templates" / "admin" / "base.html").read_text(encoding="utf-8")
    for status in EventStatus:
        assert f".status-{status} " in stylesheet or f".status-{status}," in stylesheet, status
