"""A guest's contact form: which fields are asked, their validation, and where
each lands on the draft order. Pure functions, apart from `check_captcha`,
which asks the CAPTCHA's provider.

Only a guest is asked: a signed-in customer is known to Shopify, so their body's
`guest` object is never read. A guest's body carries

    "guest": {"email": ..., "name": ..., "phone": ..., "company": ..., "message": ...,
              "custom": {"<label>": ...}, "website": "", "form_token": "...",
              "captcha_token": "..."}

and each field in error is named as `guest.<field>` (`guest.custom.<label>`), so
that the storefront script shows the detail beside that field.

Where the contact lands (REST https://shopify.dev/docs/api/admin-rest/latest/resources/draftorder,
GraphQL DraftOrderInput https://shopify.dev/docs/api/admin-graphql/latest/input-objects/DraftOrderInput):
the email is the draft's `email` (where Shopify sends its invoice); the name,
phone and company are the billing address's, which the draft's page shows the
merchant; the message is added to the note under a label; custom fields become
the draft's attributes (REST note_attributes, GraphQL customAttributes). The
payload also keeps the contact as typed, under `guest_contact`, for the
merchant's notification, /admin and the privacy commands; no backend sends it.
"""

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email

from . import captcha, spam
from .errors import ApiError

MAX_EMAIL_CHARS = 254
MAX_LINE_CHARS = 255  # name, company, a custom field
MAX_MESSAGE_CHARS = 2000
MESSAGE_LABEL = "Message from the guest:"

# A phone as people type it: an optional leading +, then digits with spaces,
# dots, dashes or parentheses; 6 to 15 digits (E.164's most). Kept as typed.
_PHONE = re.compile(r"^\+?[0-9 ().-]+$")
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 6, 15

LABELS = {"email": "Email", "name": "Name", "phone": "Phone", "company": "Company",
          "message": "Message"}


@dataclass(frozen=True)
class Guest:
    """What a guest told us about themselves, validated (empty: not given)."""

    email: str = ""
    name: str = ""
    phone: str = ""
    company: str = ""
    message: str = ""
    custom: tuple[tuple[str, str], ...] = ()

    def contact(self) -> dict[str, Any]:
        """The contact as the payload keeps it (`guest_contact`): only what was given."""
        kept: dict[str, Any] = {name: getattr(self, name) for name in LABELS
                                if getattr(self, name)}
        if self.custom:
            kept["custom"] = [{"name": label, "value": value} for label, value in self.custom]
        return kept


def _invalid(field: str, detail: str) -> ApiError:
    return ApiError(422, "invalid_contact", detail, field=f"guest.{field}")


def _has_control(text: str, allow_newlines: bool) -> bool:
    allowed = "\n\t" if allow_newlines else ""
    return any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") and c not in allowed
               for c in text.replace("\r\n", "\n"))


def _text(raw: object, field: str, label: str, limit: int, required: bool,
          multiline: bool = False) -> str:
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise _invalid(field, f"{label} must be text.")
    text = raw.replace("\r\n", "\n").strip()
    if not text:
        if required:
            raise _invalid(field, f"Please fill in {label.lower()}.")
        return ""
    if len(text) > limit:
        raise _invalid(field, f"{label} may be at most {limit} characters long.")
    if _has_control(text, multiline):
        raise _invalid(field, f"{label} contains characters that cannot be sent.")
    return text


def _email(raw: object, required: bool) -> str:
    text = _text(raw, "email", "Email", MAX_EMAIL_CHARS, required)
    if not text:
        return ""
    try:
        # Syntax only: no DNS lookup, so no request waits on the network.
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        raise _invalid("email", "Please enter a valid email address, such as "
                                "name@example.com.") from None


def _phone(raw: object, required: bool) -> str:
    text = _text(raw, "phone", "Phone", 32, required)
    digits = sum(c.isdigit() for c in text)
    if text and (not _PHONE.match(text) or not MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS):
        raise _invalid("phone", f"Please enter a phone number of {MIN_PHONE_DIGITS} to "
                                f"{MAX_PHONE_DIGITS} digits, such as +1 613 555 0100.")
    return text


def validate(raw: object, fields: tuple[tuple[str, bool], ...],
             custom: tuple[tuple[str, bool], ...]) -> Guest:
    """The guest's fields of `raw` (the body's `guest` object) that the settings
    ask for (GUEST_FIELDS, GUEST_CUSTOM_FIELDS: (name, required) pairs), checked;
    ApiError (422 invalid_contact) names the first field at fault. Fields not
    asked for are not read."""
    given = raw if isinstance(raw, dict) else {}
    values: dict[str, str] = {}
    for name, required in fields:
        if name == "email":
            values[name] = _email(given.get(name), required)
        elif name == "phone":
            values[name] = _phone(given.get(name), required)
        elif name == "message":
            values[name] = _text(given.get(name), name, LABELS[name], MAX_MESSAGE_CHARS,
                                 required, multiline=True)
        else:
            values[name] = _text(given.get(name), name, LABELS[name], MAX_LINE_CHARS, required)
    raw_custom = given.get("custom")
    answers = raw_custom if isinstance(raw_custom, dict) else {}
    custom_values = tuple(
        (label, value) for label, required in custom
        if (value := _text(answers.get(label), f"custom.{label}", label, MAX_LINE_CHARS,
                           required)))
    return Guest(custom=custom_values, **values)


def read_guest(body: Mapping[str, Any], customer_id: int | None, settings: Mapping[str, Any],
               now: float) -> Guest | None:
    """A guest's submission checked against bots (honeypot, fill time) and its
    contact fields validated; None for a signed-in customer, who is never
    asked. Raises ApiError: 422 submission_refused (the same for every spam
    check), 422 invalid_contact naming the field. The CAPTCHA is `check_captcha`'s."""
    if customer_id is not None:
        return None
    form = _form(body)
    spam.check(form, settings["SECRET_KEY"], settings["GUEST_MIN_FILL_SECONDS"], now)
    return validate(form, settings["GUEST_FIELDS"], settings["GUEST_CUSTOM_FIELDS"])


def check_captcha(body: Mapping[str, Any], settings: Mapping[str, Any],
                  remote_ip: str | None) -> None:
    """A guest's CAPTCHA token asked of the provider, when one is set: the
    last check before the cart is stored, since the token is single-use (a
    shopper fixing a field or the cart must not solve it twice) and the call
    is the only one that leaves the process. Raises ApiError: 422
    submission_refused, or 503 captcha_unavailable when the provider cannot say."""
    provider = settings["CAPTCHA_PROVIDER"]
    if not provider:
        return
    try:
        passed = captcha.verify(provider, settings["CAPTCHA_SECRET"],
                                _form(body).get("captcha_token"), remote_ip,
                                settings["CAPTCHA_VERIFY_URL"])
    except captcha.Unavailable as error:
        raise ApiError(503, "captcha_unavailable",
                       "The store's spam check cannot be reached right now; please try "
                       "again in a minute.", headers={"Retry-After": "30"},
                       log=str(error), retry_after=30) from None
    if not passed:
        raise spam.refused(f"the {provider} token was not accepted")


def _form(body: Mapping[str, Any]) -> Mapping[str, Any]:
    raw = body.get("guest")
    return raw if isinstance(raw, dict) else {}


def rate_key(guest: Guest | None, secret_key: str) -> str | None:
    """What a guest's submissions per email are counted by (the events'
    guest_key): a keyed hash of the address, so that the column holds no email."""
    if guest is None or not guest.email:
        return None
    message = f"guest-email:{guest.email.casefold()}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]


def _split_name(name: str) -> tuple[str, str]:
    """(first, last): the last word is the last name; one word is a first name."""
    first, _, last = name.rpartition(" ")
    return (first.strip(), last) if first.strip() else (name, "")


def apply(draft: dict[str, Any], guest: Guest) -> None:
    """Put the guest's contact on a REST draft_order body (`draft`, changed in place)."""
    if guest.email:
        draft["email"] = guest.email
    address = {}
    if guest.name:
        address["first_name"], address["last_name"] = _split_name(guest.name)
    if guest.phone:
        address["phone"] = guest.phone
    if guest.company:
        address["company"] = guest.company
    if address:
        draft["billing_address"] = {key: value for key, value in address.items() if value}
    if guest.message:
        note = draft.get("note", "")
        draft["note"] = f"{note}\n\n{MESSAGE_LABEL}\n{guest.message}" if note.strip() \
            else f"{MESSAGE_LABEL}\n{guest.message}"
    if guest.custom:
        draft["note_attributes"] = [*draft.get("note_attributes", ()),
                                    *({"name": label, "value": value}
                                      for label, value in guest.custom)]


def form_description(settings: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The fields the storefront script draws for a guest, in order."""
    described = [{"name": name, "label": LABELS[name], "required": required,
                  "field": f"guest.{name}"} for name, required in settings["GUEST_FIELDS"]]
    described += [{"name": label, "label": label, "required": required, "custom": True,
                   "field": f"guest.custom.{label}"}
                  for label, required in settings["GUEST_CUSTOM_FIELDS"]]
    return described
