"""The GraphQL Admin API backend, and what its answers mean.

Every call is one named document posted to `graphql.json`, with all values as
variables. Reading an answer is a pure function (`classify_create`,
`classify_lookup`, `classify_preparation`), as for REST: an HTTP 200 may still
carry top-level `errors` (THROTTLED: wait until the cost is restored;
ACCESS_DENIED: a missing scope; anything else fails), and the mutation's
`userErrors` name the draft's lines by their posted index, which is mapped back
to the cart's. Statuses other than 200 read as for REST.

Every draft carries the event id twice: as the `_cart_event_id` custom
attribute, as REST has it, and as the tag `cart-event-<uuid hex>`, which
`draftOrders(query:)` can search for.
"""

import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, NoReturn, overload

import requests

from ..config import BY_NAME, stock_check
from ..ids import EVENT_MARKER, MAX_BIGINT, positive_id
from ..states import OutcomeKind
from .addresses import admin_api_url
from .answers import (
    DRAFT_DELETED,
    Answer,
    Line,
    Outcome,
    Prepared,
    bounded_seconds,
    created_draft,
    draft_seen,
    scope_handles,
    shop_found,
    subscription,
    timestamp,
)
from .http import Transport
from .pacing import CostPacer, cost_points, throttle_status
from .rest import classify as classify_status
from .scopes import OPERATION_SCOPES, lacking, prepare_scopes, topic_scopes
from .tokens import Tokens, as_tokens

# The stored cart (`payload`, `prepared`) and Shopify's answers (Answer.json,
# and the data and nodes read from it) are JSON from outside: Any. So are
# `features`, the app's settings as Flask's config holds them.

MARKER_TAG_PREFIX = "cart-event-"
MAX_DETAIL_CHARS = 500  # of a text from Shopify kept in an event's error
MAX_LINE_DETAIL_CHARS = 300  # of a line object's detail
THROTTLED_DEFAULT_SECONDS = 1.0  # when a THROTTLED answer's cost is unreadable

# Seconds a new draft may take to appear in draftOrders(query:), which reads
# Shopify's search index: the lookup after a lost answer waits at least this long.
LOOKUP_LAG = 15.0

# What each operation is expected to cost before Shopify has said.
CREATE_COST = 10
LOOKUP_COST = 7
INVOICE_COST = 10
READ_DRAFT_COST = 2
# Points the pacer keeps for one request of another process of ours in flight.
PACER_HEADROOM = CREATE_COST

GID = "gid://shopify/{}/{}"

CREATE = """
mutation DraftOrderCreate($input: DraftOrderInput!) {
  draftOrderCreate(input: $input) {
    draftOrder { legacyResourceId name invoiceUrl updatedAt }
    userErrors { field message }
  }
}"""

LOOKUP = """
query DraftOrderByMarker($query: String!) {
  draftOrders(first: 5, query: $query) {
    nodes { legacyResourceId name invoiceUrl updatedAt customAttributes { key value } }
  }
}"""

# The payload's draftOrder is "the draft order an invoice email is sent for"; its
# updatedAt dates the send, so an older draft_orders/update is known stale
# (https://shopify.dev/docs/api/admin-graphql/2025-10/payloads/draftorderinvoicesendpayload).
INVOICE = """
mutation DraftOrderInvoiceSend($id: ID!, $email: EmailInput) {
  draftOrderInvoiceSend(id: $id, email: $email) {
    draftOrder { id invoiceSentAt updatedAt }
    userErrors { field message }
  }
}"""

READ_DRAFT = """
query DraftOrderState($id: ID!) {
  draftOrder(id: $id) {
    status updatedAt invoiceSentAt
    order { legacyResourceId name displayFinancialStatus }
  }
}"""

SHOP_AND_SCOPES = """
query ShopAndScopes {
  shop { name myshopifyDomain currencyCode }
  currentAppInstallation { accessScopes { handle } }
}"""

# Webhook subscriptions name their address `uri` from API version 2025-10 on
# (`endpoint { callbackUrl }` and the input's `callbackUrl` are deprecated there).
URI_SINCE = "2025-10"

WEBHOOKS = """
query WebhookSubscriptions {
  webhookSubscriptions(first: 100) { nodes { topic %s } }
}"""
WEBHOOK_ADDRESS = {
    "uri": "uri",
    "callbackUrl": "endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } }",
}

CREATE_WEBHOOK = """
mutation WebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!,
                                   $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id }
    userErrors { field message }
  }
}"""
WEBHOOK_COST = 10

_VARIANTS = """
  nodes(ids: $variantIds) {
    ... on ProductVariant {
      id legacyResourceId availableForSale inventoryPolicy inventoryQuantity
      inventoryItem { tracked }
      product { status }
    }
  }"""

_COMPANY = """
  customer(id: $customerId) { companyContactProfiles { id company { id } } }
  companyLocation(id: $locationId) { id company { id } }"""


def gid(kind: str, number: int | str) -> str:
    return GID.format(kind, number)


def marker_tag(event_id: str) -> str:
    """The tag that marks the event's draft: 43 characters, searchable."""
    return MARKER_TAG_PREFIX + uuid.UUID(event_id).hex


def _event_id(draft: Mapping[str, Any]) -> str | None:
    for pair in draft.get("note_attributes", ()):
        if pair["name"] == EVENT_MARKER:
            event_id: str = pair["value"]  # the receiver's marker: a UUID's text
            return event_id
    return None


def _dropped_lines(prepared: Mapping[str, Any] | None) -> set[int]:
    return {line["line"] for line in (prepared or {}).get("dropped", ())}


def _attributes(pairs: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"key": pair["name"], "value": pair["value"]} for pair in pairs]


# REST's address fields that a guest's contact fills, as MailingAddressInput's:
# https://shopify.dev/docs/api/admin-graphql/latest/input-objects/MailingAddressInput
_ADDRESS_FIELDS = {"first_name": "firstName", "last_name": "lastName", "phone": "phone",
                   "company": "company"}


def _mailing_address(address: Mapping[str, Any]) -> dict[str, Any]:
    return {_ADDRESS_FIELDS[key]: value for key, value in address.items()
            if key in _ADDRESS_FIELDS}


def draft_order_input(payload: Mapping[str, Any], prepared: Mapping[str, Any] | None,
                      features: Mapping[str, Any], now: float) -> dict[str, object]:
    """The stored payload (REST's draft_order, and the cart's context) as a
    DraftOrderInput, without the lines the preparation dropped. `now`: epoch
    seconds, for an inventory hold."""
    draft = payload["draft_order"]
    context = payload.get("cart_context") or {}
    prepared = prepared or {}
    dropped = _dropped_lines(prepared)
    draft_input: dict[str, object] = {"lineItems": [
        {"variantId": gid("ProductVariant", item["variant_id"]), "quantity": item["quantity"],
         "customAttributes": _attributes(item.get("properties", ()))}
        for index, item in enumerate(draft["line_items"]) if index not in dropped]}
    company = prepared.get("purchasing_company")
    if company:  # the company location's addresses, catalog prices and terms
        draft_input["purchasingEntity"] = {"purchasingCompany": company}
    elif "customer" in draft:
        draft_input["purchasingEntity"] = {"customerId": gid("Customer", draft["customer"]["id"])}
        if "use_customer_default_address" in draft:
            draft_input["useCustomerDefaultAddress"] = draft["use_customer_default_address"]
    if "note" in draft:
        draft_input["note"] = draft["note"]
    if draft.get("email"):  # a guest's (app/intake/contact.py)
        draft_input["email"] = draft["email"]
    if draft.get("billing_address"):
        draft_input["billingAddress"] = _mailing_address(draft["billing_address"])
    if draft.get("note_attributes"):
        draft_input["customAttributes"] = _attributes(draft["note_attributes"])
    tags = [tag.strip() for tag in draft.get("tags", "").split(",") if tag.strip()]
    event_id = _event_id(draft)
    if event_id is not None:
        tags.append(marker_tag(event_id))
    if tags:
        draft_input["tags"] = tags
    if context.get("currency"):
        draft_input["presentmentCurrencyCode"] = context["currency"]
    if context.get("discount_codes"):
        draft_input["discountCodes"] = list(context["discount_codes"])
    draft_input["acceptAutomaticDiscounts"] = bool(
        features.get("ACCEPT_AUTOMATIC_DISCOUNTS", True))
    minutes = features.get("RESERVE_INVENTORY_MINUTES", 0)
    if minutes > 0:
        until = datetime.fromtimestamp(now + minutes * 60, timezone.utc)
        draft_input["reserveInventoryUntil"] = until.isoformat(timespec="seconds").replace(
            "+00:00", "Z")
    return draft_input


# --- Reading answers: pure functions of the answer (and what was sent). ---

def _text(raw: Any, limit: int, default: str = "") -> str:
    """A text from Shopify as an event may keep it: a string, cut at `limit`."""
    return raw[:limit] if isinstance(raw, str) and raw.strip() else default


def _errors(parsed: dict[str, Any]) -> list[dict[str, Any]]:
    """The top-level `errors` list of a GraphQL answer ([] when none)."""
    errors = parsed.get("errors")
    if not errors:
        return []
    return [error if isinstance(error, dict) else {"message": error}
            for error in (errors if isinstance(errors, list) else [errors])]


def _code(error: dict[str, Any]) -> object:
    extensions = error.get("extensions")
    return extensions.get("code") if isinstance(extensions, dict) else None


def throttled_seconds(parsed: dict[str, Any]) -> float | None:
    """How long until a THROTTLED answer's request cost is restored, from its
    extensions.cost; None when the answer is not THROTTLED."""
    if not any(_code(error) == "THROTTLED" for error in _errors(parsed)):
        return None
    extensions = parsed.get("extensions")
    cost = extensions.get("cost") if isinstance(extensions, dict) else None
    bucket = throttle_status(cost)
    requested = cost_points(cost.get("requestedQueryCost")) if isinstance(cost, dict) else None
    if bucket is None or requested is None:
        return THROTTLED_DEFAULT_SECONDS
    available, _, rate = bucket
    shortfall = requested - available  # none left to wait for: Shopify's word, not ours
    return bounded_seconds(shortfall / rate if shortfall > 0 else None,
                           THROTTLED_DEFAULT_SECONDS)


def _read(answer: Answer,
          needed: tuple[str, ...]) -> tuple[dict[str, Any] | None, Outcome | None]:
    """(data, None) for a readable GraphQL answer without errors, else
    (None, the Outcome it means); (None, None) when a 200 is no GraphQL answer.
    `needed`: the scopes of the operation asked (app/shopify/scopes.py), which a
    refusal names."""
    if answer.status != 200:
        if answer.status is None or answer.status >= 400:
            return None, classify_status(answer, needed)
        return None, Outcome(OutcomeKind.REJECTED, code="shopify_unexpected_answer",
                             detail=f"Shopify answered {answer.status} to a GraphQL request.")
    parsed = answer.json
    if not isinstance(parsed, dict):
        return None, None
    errors = _errors(parsed)
    data = parsed.get("data")
    if errors:
        return None, _error_outcome(parsed, errors, data, needed)
    return (data, None) if isinstance(data, dict) else (None, None)


def _denial_said(error: dict[str, Any]) -> str:
    """What Shopify said of an ACCESS_DENIED, at most 200 characters: its
    message, and its requiredAccess when the message does not hold it ("" when
    neither)."""
    message = _text(error.get("message"), 200).strip()
    required = _text(error["extensions"].get("requiredAccess"), 200).strip()
    if required and required not in message:
        message = f"{message} Required access: {required}".strip()
    return message[:200]


def _error_outcome(parsed: dict[str, Any], errors: list[dict[str, Any]], data: Any,
                   needed: tuple[str, ...]) -> Outcome:
    seconds = throttled_seconds(parsed)
    if seconds is not None:
        return Outcome(OutcomeKind.THROTTLED, retry_after=seconds, nothing_created=True)
    denied = [error for error in errors if _code(error) == "ACCESS_DENIED"]
    if denied:  # named by us: Shopify's message may name no scope
        return Outcome(OutcomeKind.REJECTED, code="shopify_access_denied", nothing_created=True,
                       detail=lacking(needed, _denial_said(denied[0])))
    messages = "; ".join(_text(error.get("message"), MAX_DETAIL_CHARS, "(no message)")
                         for error in errors)
    # Without data the document never ran (a syntax or validation error).
    return Outcome(OutcomeKind.REJECTED, code="shopify_graphql_error", nothing_created=data is None,
                   detail=f"Shopify refused the request: {messages[:MAX_DETAIL_CHARS]}")


def _unreadable(what: str) -> Outcome:
    return Outcome(OutcomeKind.UNAVAILABLE, detail=f"Shopify's answer held no readable {what}.")


def _created(draft: dict[str, Any]) -> Outcome:
    return created_draft(draft.get("legacyResourceId"), draft.get("name"),
                         draft.get("invoiceUrl"), quoted=True, updated_at=draft.get("updatedAt"))


def _posted_lines(payload: Mapping[str, Any], prepared: Mapping[str, Any] | None) -> list[int]:
    """The cart index of each line posted, in the order posted."""
    dropped = _dropped_lines(prepared)
    return [index for index in range(len(payload["draft_order"]["line_items"]))
            if index not in dropped]


def _line_of(field: Any, posted: list[int]) -> int | None:
    """The cart index a userError's `field` path names (["lineItems", "2", ...]), or None."""
    if not (isinstance(field, list) and len(field) >= 2 and field[0] == "lineItems"):
        return None
    raw = field[1]
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 3:
        position = int(raw)
    elif isinstance(raw, int) and not isinstance(raw, bool):
        position = raw
    else:
        return None
    return posted[position] if 0 <= position < len(posted) else None


def user_errors_outcome(errors: list[Any], payload: Mapping[str, Any],
                        prepared: Mapping[str, Any] | None) -> Outcome:
    """Shopify's userErrors as a failure naming the cart lines they are about."""
    posted = _posted_lines(payload, prepared)
    items = payload["draft_order"]["line_items"]
    lines: dict[int, Line] = {}  # a cart line is named once, by its first error
    others: list[str] = []
    for error in errors:
        error = error if isinstance(error, dict) else {}
        message = _text(error.get("message"), MAX_LINE_DETAIL_CHARS,
                        "Shopify rejected this item.")
        line = _line_of(error.get("field"), posted)
        if line is None:
            others.append(message)
        elif line not in lines:
            lines[line] = {"line": line, "variant_id": items[line]["variant_id"],
                           "code": "rejected_by_shopify", "detail": message}
    detail = "Shopify rejected the draft order"
    detail += f": {'; '.join(others)}" if others else "; the lines say why."
    return Outcome(OutcomeKind.REJECTED, code="shopify_rejected", detail=detail[:MAX_DETAIL_CHARS],
                   lines=tuple(lines.values()), nothing_created=True)


def _mutation_result(answer: Answer, mutation: str,
                     needed: tuple[str, ...]) -> dict[str, Any] | Outcome:
    """The mutation's result object, or the Outcome that ends the reading: a
    top-level error, a failed call, or an answer without it."""
    data, outcome = _read(answer, needed)
    if outcome is not None:
        return outcome
    result = data.get(mutation) if data is not None else None
    if not isinstance(result, dict):
        return _unreadable(f"{mutation} result")
    return result


def classify_create(answer: Answer, payload: Mapping[str, Any],
                    prepared: Mapping[str, Any] | None) -> Outcome:
    """Read draftOrderCreate's answer. One that is no GraphQL answer leaves the
    event flagged as maybe posted: the draft may exist, so it is looked up."""
    result = _mutation_result(answer, "draftOrderCreate", OPERATION_SCOPES["DraftOrderCreate"])
    if isinstance(result, Outcome):
        return result
    errors = result.get("userErrors")
    if isinstance(errors, list) and errors:
        return user_errors_outcome(errors, payload, prepared)
    draft = result.get("draftOrder")
    return _created(draft) if isinstance(draft, dict) else _unreadable("draft order")


def _carries(node: Any, event_id: str) -> bool | None:
    """Whether a listed draft carries the event id; None when its attributes are unreadable."""
    attributes = node.get("customAttributes") if isinstance(node, dict) else None
    if not isinstance(attributes, list):
        return None
    return {"key": EVENT_MARKER, "value": event_id} in attributes


def classify_lookup(answer: Answer, event_id: str) -> Outcome:
    """Read a lookup: the draft carrying the event id, surely none (a readable
    list without it), or a failure (never "none" from a garbled answer)."""
    data, outcome = _read(answer, OPERATION_SCOPES["DraftOrderByMarker"])
    if outcome is not None:
        return outcome
    listed = data.get("draftOrders") if data is not None else None
    nodes = listed.get("nodes") if isinstance(listed, dict) else None
    if not isinstance(nodes, list):
        return _unreadable("list of draft orders")
    carried = [_carries(node, event_id) for node in nodes]
    for node, carries in zip(nodes, carried, strict=True):
        if carries:
            return _created(node)
    # Only the event's drafts carry its tag: one unread may be the event's.
    return _unreadable("custom attributes of a tagged draft") if None in carried \
        else Outcome(OutcomeKind.ABSENT)


def classify_invoice(answer: Answer) -> Outcome:
    """Read draftOrderInvoiceSend's answer: sent, refused (userErrors, e.g. the
    customer has no email), or a failure."""
    result = _mutation_result(answer, "draftOrderInvoiceSend",
                              OPERATION_SCOPES["DraftOrderInvoiceSend"])
    if isinstance(result, Outcome):
        return result
    errors = result.get("userErrors")
    if isinstance(errors, list) and errors:
        messages = "; ".join(_text(error.get("message") if isinstance(error, dict) else None,
                                   MAX_DETAIL_CHARS, "(no message)") for error in errors)
        return Outcome(OutcomeKind.REJECTED, code="invoice_rejected", nothing_created=True,
                       detail=f"Shopify did not send the invoice: {messages}"[:MAX_DETAIL_CHARS])
    draft = result.get("draftOrder")
    return Outcome(OutcomeKind.SENT, updated_at=timestamp(draft.get("updatedAt"))
                   if isinstance(draft, dict) else None)


def classify_draft(answer: Answer) -> Outcome:
    """Read DraftOrderState's answer: the draft as it is (a null draft: deleted)."""
    data, outcome = _read(answer, OPERATION_SCOPES["DraftOrderState"])
    if outcome is not None:
        return outcome
    if data is None or "draftOrder" not in data:
        return _unreadable("draft order")
    draft = data["draftOrder"]
    if draft is None:
        return Outcome(OutcomeKind.SEEN, seen=DRAFT_DELETED)
    if not isinstance(draft, dict):
        return _unreadable("draft order")
    order = draft.get("order")
    if order is not None and not isinstance(order, dict):
        return _unreadable("order")
    seen = draft_seen(draft.get("status"), draft.get("updatedAt"), draft.get("invoiceSentAt"),
                      None if order is None else (order.get("legacyResourceId"),
                                                  order.get("name"),
                                                  order.get("displayFinancialStatus")))
    return _unreadable("draft order") if seen is None else Outcome(OutcomeKind.SEEN, seen=seen)


# --- Preparing: the stock and availability policy, and the B2B company contact. ---

def _line(index: int, item: Mapping[str, Any], code: str, detail: str) -> Line:
    return {"line": index, "variant_id": item["variant_id"], "code": code, "detail": detail}


def _inner(node: dict[str, Any], name: str, field: str) -> Any:
    """node[name][field], or None when the answer has no such object."""
    inner = node.get(name)
    return inner.get(field) if isinstance(inner, dict) else None


def _judge(node: dict[str, Any] | None, requested: int) -> tuple[str, str] | None:
    """(code, detail) of what keeps a variant from being ordered, or None. Only
    what the answer clearly says counts: a field it garbles blocks nothing."""
    if node is None:
        return "variant_not_found", "This item no longer exists in the shop."
    quantity = node.get("inventoryQuantity")
    if (_inner(node, "inventoryItem", "tracked") is True
            and node.get("inventoryPolicy") == "DENY" and isinstance(quantity, int)
            and not isinstance(quantity, bool) and quantity < requested):
        return "out_of_stock", f"This item is out of stock: {requested} requested."
    status = _inner(node, "product", "status")
    if node.get("availableForSale") is False or (isinstance(status, str)
                                                 and status != "ACTIVE"):
        return "not_available", "This item is not available for sale."
    return None


def _policy(code: str, features: Mapping[str, Any]) -> str:
    name = "OUT_OF_STOCK_POLICY" if code == "out_of_stock" else "INVALID_ITEM_POLICY"
    policy: str = features.get(name, BY_NAME[name].default)
    return policy


def judge_lines(payload: Mapping[str, Any], variants: Mapping[int, dict[str, Any] | None],
                features: Mapping[str, Any]) -> tuple[list[Line], list[Line]]:
    """(blocking, dropped) line objects under the stock and availability policy.
    `variants`: variant id -> its node, or None when Shopify has no such variant."""
    items = payload["draft_order"]["line_items"]
    totals: dict[int, int] = {}
    for item in items:
        totals[item["variant_id"]] = totals.get(item["variant_id"], 0) + item["quantity"]
    blocking: list[Line] = []
    dropped: list[Line] = []
    for index, item in enumerate(items):
        verdict = _judge(variants[item["variant_id"]], totals[item["variant_id"]])
        if verdict is None:
            continue
        policy = _policy(verdict[0], features)
        if policy in ("block", "drop"):
            (blocking if policy == "block" else dropped).append(_line(index, item, *verdict))
    return blocking, dropped


def _variant_nodes(data: dict[str, Any],
                   ids: list[int]) -> dict[int, dict[str, Any] | None] | None:
    """Variant id -> node (None: no such variant), or None when unreadable."""
    nodes = data.get("nodes")
    if not (isinstance(nodes, list) and len(nodes) == len(ids)):
        return None
    variants: dict[int, dict[str, Any] | None] = {}
    for number, node in zip(ids, nodes, strict=True):
        if node is not None and not (isinstance(node, dict)
                                     and node.get("id") == gid("ProductVariant", number)):
            return None
        variants[number] = node
    return variants


def _gid_of(node: Any) -> Any:
    return node.get("id") if isinstance(node, dict) else None


def _is_gid_of(kind: str, raw: object) -> bool:
    """Whether `raw` is the gid of a `kind` with a positive 64-bit id."""
    prefix = GID.format(kind, "")
    return (isinstance(raw, str) and raw.startswith(prefix)
            and positive_id(raw[len(prefix):], MAX_BIGINT) is not None)


def purchasing_company(data: dict[str, Any],
                       company: Mapping[str, Any]) -> dict[str, str] | None:
    """The signed company location with the customer's contact in its company,
    or None when the customer is no contact of that company."""
    company_gid = gid("Company", company["company_id"])
    location_gid = gid("CompanyLocation", company["location_id"])
    location: Any = data.get("companyLocation")
    if not (_gid_of(location) == location_gid
            and _gid_of(location.get("company")) == company_gid):
        return None
    customer = data.get("customer")
    profiles = customer.get("companyContactProfiles") if isinstance(customer, dict) else None
    for profile in profiles if isinstance(profiles, list) else ():
        contact = _gid_of(profile)
        if (_gid_of(profile.get("company") if isinstance(profile, dict) else None) == company_gid
                and _is_gid_of("CompanyContact", contact)):
            return {"companyId": company_gid, "companyContactId": contact,
                    "companyLocationId": location_gid}
    return None


def _blocked(lines: list[Line], detail: str) -> Outcome:
    return Outcome(OutcomeKind.REJECTED, code="items_unavailable", detail=detail,
                   lines=tuple(lines), nothing_created=True)


def classify_preparation(answer: Answer, payload: Mapping[str, Any],
                         features: Mapping[str, Any], variant_ids: list[int],
                         company: Mapping[str, Any] | None) -> Outcome:
    """Read PrepareDraft's answer: what to draft (lines dropped, the purchasing
    company), or a failure naming the lines that block it."""
    data, outcome = _read(answer, prepare_scopes(bool(variant_ids), company is not None))
    if outcome is not None:
        return outcome
    if data is None:
        return _unreadable("variants or company")
    prepared: Prepared = {"dropped": []}
    if variant_ids:
        variants = _variant_nodes(data, variant_ids)
        if variants is None:
            return _unreadable("list of variants")
        blocking, dropped = judge_lines(payload, variants, features)
        if blocking:
            return _blocked(blocking, f"{len(blocking)} of the cart's lines cannot be ordered; "
                                      f"the shopper may remove them and send the cart again.")
        if len(dropped) == len(payload["draft_order"]["line_items"]):
            return _blocked(dropped, "None of the cart's lines can be ordered.")
        prepared["dropped"] = dropped
    if company is not None:
        found = purchasing_company(data, company)
        if found is None:
            return Outcome(OutcomeKind.REJECTED, code="b2b_contact_not_found", nothing_created=True,
                           detail="The customer is no contact of the signed company location's "
                                  "company in Shopify.")
        prepared["purchasing_company"] = found
    return Outcome(OutcomeKind.PREPARED, prepared=prepared)


class GraphQLClient:
    lookup_lag = LOOKUP_LAG

    def __init__(self, base_url: str, token: str | Tokens, api_version: str, timeout: float,
                 session: requests.Session | None = None, pacer: CostPacer | None = None,
                 features: Mapping[str, Any] | None = None,
                 clock: Callable[[], float] = time.time):
        self.base_url = base_url
        self.api_version = api_version
        self.timeout = timeout
        self.pacer = pacer or CostPacer(headroom=PACER_HEADROOM)
        self.features = features or {}
        self.clock = clock
        self.endpoint = admin_api_url(base_url, api_version, "graphql.json")
        self._transport = Transport(base_url, as_tokens(token), timeout, session)
        self.tokens = self._transport.tokens
        self.trusted_url = self._transport.trusted_url

    def needs_preparation(self, payload: Mapping[str, Any]) -> bool:
        """A read comes first when the stock policy is on, or the cart is a company's."""
        return stock_check(self.features) or _company(payload) is not None

    def prepare(self, payload: Mapping[str, Any]) -> tuple[Answer, Outcome]:
        """One PrepareDraft query: the cart's variants (stock policy), and the
        customer's contact profiles and the signed company location (B2B)."""
        variant_ids: list[int] = []
        if stock_check(self.features):
            variant_ids = list(dict.fromkeys(
                item["variant_id"] for item in payload["draft_order"]["line_items"]))
        company = _company(payload)
        declared: list[str]
        fields: list[str]
        variables: dict[str, object]
        declared, fields, variables, operation = [], [], {}, ["PrepareDraft"]
        if variant_ids:
            declared.append("$variantIds: [ID!]!")
            fields.append(_VARIANTS)
            variables["variantIds"] = [gid("ProductVariant", n) for n in variant_ids]
            operation.append(f"{len(variant_ids)} variants")
        if company is not None:
            declared += ["$customerId: ID!", "$locationId: ID!"]
            fields.append(_COMPANY)
            # The receiver takes a company only with a verified customer.
            variables["customerId"] = gid("Customer", payload["draft_order"]["customer"]["id"])
            variables["locationId"] = gid("CompanyLocation", company["location_id"])
            operation.append("company")
        document = f"query PrepareDraft({', '.join(declared)}) {{{''.join(fields)}\n}}"
        default_cost = (1 + len(variant_ids) if variant_ids else 0) + (2 if company else 0)
        answer = self._post(":".join(operation), document, variables, default_cost)
        return answer, classify_preparation(answer, payload, self.features, variant_ids,
                                            company)

    def create(self, payload: Mapping[str, Any], prepared: Mapping[str, Any] | None,
               ready: Callable[[], bool]) -> tuple[Answer | None, Outcome | None]:
        """draftOrderCreate, or (None, None) if `ready()`, asked after pacing
        (which may wait), says the call may no longer leave."""
        variables = {"input": draft_order_input(payload, prepared, self.features, self.clock())}
        answer = self._post("DraftOrderCreate", CREATE, variables, CREATE_COST, ready)
        return answer, None if answer is None else classify_create(answer, payload, prepared)

    def poll(self, url: str) -> NoReturn:
        raise NotImplementedError("GraphQL answers at once: there is nothing to poll")

    def lookup(self, event_id: str, since: float) -> tuple[Answer, Outcome]:
        """The draft tagged with the event, checked by its custom attribute.

        The tag is unique to the event, so `since` is not needed. Shopify's
        search index may lag a fresh draft by a few seconds: after a lost answer,
        the worker looks no sooner than LOOKUP_LAG after the POST (Policy.lookup_lag),
        and after a takeover only once the POST's answer was due (worker._transition).
        """
        answer = self._post("DraftOrderByMarker", LOOKUP,
                            {"query": f"tag:'{marker_tag(event_id)}'"}, LOOKUP_COST)
        return answer, classify_lookup(answer, event_id)

    def send_invoice(self, draft_id: int, subject: str | None, message: str | None,
                     ready: Callable[[], bool]) -> tuple[Answer | None, Outcome | None]:
        """draftOrderInvoiceSend to the customer's email, or (None, None) if
        `ready()`, asked after pacing, says the call may no longer leave."""
        email = {name: value for name, value in (("subject", subject),
                                                 ("customMessage", message)) if value}
        answer = self._post("DraftOrderInvoiceSend", INVOICE,
                            {"id": gid("DraftOrder", draft_id), "email": email or None},
                            INVOICE_COST, ready)
        return answer, None if answer is None else classify_invoice(answer)

    def read_draft(self, draft_id: int, with_order: bool = True) -> tuple[Answer, Outcome]:
        """The draft's state, and its order's name and financial status, in one
        query (`with_order` is REST's business: there it costs a call)."""
        answer = self._post("DraftOrderState", READ_DRAFT, {"id": gid("DraftOrder", draft_id)},
                            READ_DRAFT_COST)
        return answer, classify_draft(answer)

    def read_shop_and_scopes(self) -> tuple[Answer, dict[str, str | None] | None,
                                            Answer, list[str] | None]:
        """For doctor, in one query: (answer, the shop's name, domain and currency
        or None, answer, the granted scopes' handles or None); the answer twice."""
        answer = self._post("ShopAndScopes", SHOP_AND_SCOPES, {}, 2)
        data, outcome = _read(answer, OPERATION_SCOPES["ShopAndScopes"])
        data = data if outcome is None and data is not None else {}
        shop = data.get("shop")
        found = shop_found(shop.get("name"), shop.get("myshopifyDomain"),
                           shop.get("currencyCode")) if isinstance(shop, dict) else None
        installation = data.get("currentAppInstallation")
        scopes = installation.get("accessScopes") if isinstance(installation, dict) else None
        return answer, found, answer, scope_handles(scopes)

    def read_shop_domain(self) -> str | None:
        """The shop's myshopify domain (`shop { myshopifyDomain }`), or None when
        the answer names none."""
        return (self.read_shop_and_scopes()[1] or {}).get("domain")

    def list_webhooks(self) -> tuple[Answer, list[dict[str, str | None]] | None]:
        """For `webhooks register` and doctor: the shop's webhook subscriptions
        ({topic, address}, the topic spelled ORDERS_CREATE), or None when the
        answer lists none readably."""
        field = address_field(self.api_version)
        answer = self._post("WebhookSubscriptions", WEBHOOKS % WEBHOOK_ADDRESS[field], {},
                            WEBHOOK_COST)
        return answer, classify_webhooks(answer, field)

    def create_webhook(self, topic: str, address: str) -> tuple[Answer, str | None]:
        """Subscribe the shop's `topic` ("orders/create") at `address`: (answer,
        None) when made, else (answer, why not, in a sentence)."""
        variables = {"topic": topic_enum(topic),
                     "webhookSubscription": {address_field(self.api_version): address,
                                             "format": "JSON"}}
        answer = self._post("WebhookSubscriptionCreate", CREATE_WEBHOOK, variables,
                            WEBHOOK_COST)
        return answer, classify_webhook_created(answer, topic)

    @overload
    def _post(self, operation: str, document: str, variables: Mapping[str, object],
              default_cost: float, ready: None = None) -> Answer: ...

    @overload
    def _post(self, operation: str, document: str, variables: Mapping[str, object],
              default_cost: float, ready: Callable[[], bool] | None) -> Answer | None: ...

    def _post(self, operation: str, document: str, variables: Mapping[str, object],
              default_cost: float, ready: Callable[[], bool] | None = None) -> Answer | None:
        """Send one document once the bucket can hold its cost; None if not `ready()`."""
        self.pacer.wait(self.pacer.cost_of(operation, default_cost))
        answer = self._transport.send("POST", self.endpoint,
                                      {"query": document, "variables": variables}, ready)
        if answer is None:
            return None
        if answer.status == 200 and isinstance(answer.json, dict):
            extensions = answer.json.get("extensions")
            self.pacer.observe(extensions.get("cost") if isinstance(extensions, dict) else None,
                               operation, throttled_seconds(answer.json))
        elif answer.status == 429:
            self.pacer.observe(None, retry_after=classify_status(answer).retry_after)
        return answer


def address_field(api_version: str) -> str:
    """What a webhook subscription's address is called in `api_version`."""
    return "uri" if api_version == "unstable" or api_version >= URI_SINCE else "callbackUrl"


def topic_enum(topic: str) -> str:
    """REST's topic name as GraphQL's enum: "draft_orders/update" -> DRAFT_ORDERS_UPDATE."""
    return topic.replace("/", "_").upper()


def _subscription(node: dict[str, Any], field: str) -> dict[str, str | None]:
    """A subscription node as {topic, address}: the topic as GraphQL spells it."""
    if field == "uri":
        address = node.get("uri")
    else:
        endpoint = node.get("endpoint")
        address = endpoint.get("callbackUrl") if isinstance(endpoint, dict) else None
    return subscription(node.get("topic"), address)


def classify_webhooks(answer: Answer, field: str) -> list[dict[str, str | None]] | None:
    """The subscriptions a WebhookSubscriptions answer lists, or None when it
    lists none readably. `field`: address_field of the version asked."""
    data, outcome = _read(answer, OPERATION_SCOPES["WebhookSubscriptions"])
    listed = data.get("webhookSubscriptions") if outcome is None and data is not None else None
    nodes = listed.get("nodes") if isinstance(listed, dict) else None
    if not isinstance(nodes, list):
        return None
    return [_subscription(node, field) for node in nodes if isinstance(node, dict)]


def classify_webhook_created(answer: Answer, topic: str = "") -> str | None:
    """None when webhookSubscriptionCreate made the subscription, else why not.
    `topic` (REST's spelling): its scope is what a refusal names."""
    result = _mutation_result(answer, "webhookSubscriptionCreate",
                              OPERATION_SCOPES["WebhookSubscriptionCreate"] + topic_scopes(topic))
    if isinstance(result, Outcome):
        return result.detail or f"Shopify answered {answer.status}."
    errors = result.get("userErrors")
    if isinstance(errors, list) and errors:
        return "Shopify refused it: " + "; ".join(
            _text(error.get("message") if isinstance(error, dict) else None,
                  MAX_LINE_DETAIL_CHARS, "(no message)") for error in errors)[:MAX_DETAIL_CHARS]
    return None


def _company(payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The signed company location of the cart, if any: {company_id, location_id}."""
    context = payload.get("cart_context") or {}
    company: Mapping[str, Any] | None = context.get("company")
    return company

