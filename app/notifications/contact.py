"""Who asked: a guest's contact in the merchant's messages, as the intake kept
it in the event's payload (`guest_contact`, app/intake/contact.py). Pure
functions of the stored payload; a signed-in customer's event has none."""

from collections.abc import Mapping
from typing import Any

MESSAGE_CHARS = 200  # of the guest's message in the one-line text
FIELDS = (("name", "Name"), ("email", "Email"), ("phone", "Phone"), ("company", "Company"))


def contact_of(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """The guest's contact kept with the event, or None."""
    payload = event.get("payload")
    found = payload.get("guest_contact") if isinstance(payload, dict) else None
    return found if isinstance(found, dict) and found else None


def document_part(event: Mapping[str, Any]) -> dict[str, Any]:
    """The message document's `contact`, only for a guest who gave one."""
    found = contact_of(event)
    return {"contact": found} if found else {}


def cut(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, an ellipsis marking a cut (messages.py
    and channels.py bound their texts with it too)."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def who(contact: Mapping[str, Any] | None) -> str:
    """`a guest`, or `a guest, Ann Lee (ann@example.com): "Ship by Friday?"`."""
    if not contact:
        return "a guest"
    names = [str(contact[key]) for key in ("name", "company") if contact.get(key)]
    words = "a guest" + (f", {' of '.join(names)}" if names else "")
    if contact.get("email"):
        words += f" ({contact['email']})"
    if contact.get("message"):
        words += f': "{cut(str(contact["message"]), MESSAGE_CHARS)}"'
    return words


def lines(contact: Mapping[str, Any] | None) -> list[str]:
    """The contact in full, a line each, for the email's body."""
    if not contact:
        return []
    found = [f"{label}: {contact[key]}" for key, label in FIELDS if contact.get(key)]
    found += [f"{pair['name']}: {pair['value']}" for pair in contact.get("custom", ())]
    if contact.get("message"):
        found += ["Message:", *str(contact["message"]).splitlines()]
    return ["", "Who asked (a guest):", *found]
