"""The simulator's GraphQL Admin API: the root fields the receiver uses, over the
same shop state (SimulatorState) as the REST side, with Shopify's cost bucket.

This is not a GraphQL implementation. A small scanner reads the operation's root
fields and their arguments (variables resolved); selection sets are skipped and
every field is answered with its full object, more than was selected. Fragments at
the root are not supported. It depends on no Flask and on nothing in `app` but
the simulator's webhooks: the simulator's view hands it the request body and the state.
"""

import base64
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from .simulator_webhooks import graphql_topic, rest_topic

RATE_LIMITS_DOC = "https://shopify.dev/api/usage/rate-limits"
SCOPES_DOC = "https://shopify.dev/api/usage/access-scopes"
MUTATION_FIELDS = ("draftOrderCreate", "draftOrderInvoiceSend", "webhookSubscriptionCreate")
QUERY_FIELDS = ("draftOrders", "draftOrder", "order", "nodes", "customer", "companyLocation",
                "shop", "currentAppInstallation", "webhookSubscriptions")
MAX_PAGE = 250

_TOKEN = re.compile(
    r"""(?P<skip>[\s,]+|\#[^\n]*)
      | (?P<string>"(?:[^"\\\n]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
      | (?P<name>[_A-Za-z]\w*)
      | (?P<punct>\.\.\.|[!$():=@\[\]{}|&])""",
    re.VERBOSE,
)
_GID = re.compile(r"gid://shopify/(\w+)/(\d+)")
_TERM = re.compile(r"""(?:(\w+):(>=|<=|>|<)?)?('[^']*'|"[^"]*"|\S+)""")


class BadRequest(Exception):
    """The body is no GraphQL request at all: Shopify answers 400."""


class GraphQLError(Exception):
    """The document is refused before anything runs: HTTP 200 with `errors`."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


class Refused(Exception):
    """A change the shop refuses, on one field: REST answers 422
    {"errors": {field: [message]}}, GraphQL a userError."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field
        self.message = message


class FieldError(Exception):
    """One root field fails (it answers null) while the others are answered."""

    def __init__(self, message, extensions):
        super().__init__(message)
        self.extensions = extensions


@dataclass
class Operation:
    name: str | None
    kind: str  # "query" | "mutation"
    fields: list  # (response key, field name, arguments)

    @property
    def creates(self):
        return any(name == "draftOrderCreate" for _, name, _ in self.fields)

    @property
    def invoices(self):
        return any(name == "draftOrderInvoiceSend" for _, name, _ in self.fields)

    @property
    def cost(self):
        return sum(_cost(name, args) for _, name, args in self.fields)


@dataclass
class Result:
    payload: dict
    log: dict  # the request log's "graphql" entry: operation, cost, throttled
    created: bool = False  # a draftOrderCreate made its draft
    invoiced: bool = False  # a draftOrderInvoiceSend sent its invoice


@dataclass(frozen=True)
class Call:
    """What a resolver may need of the request besides its arguments."""
    base_url: str
    version: str


def parse(body):
    """The operation a request body asks for. BadRequest if the body is no
    `{"query": str, "variables": object?}`; GraphQLError if the document is not
    one this simulator (and so the receiver's backend) may send."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise BadRequest("query")
    variables = body.get("variables") or {}
    operation_name = body.get("operationName")
    if not isinstance(variables, dict) or not isinstance(operation_name, str | None):
        raise BadRequest("variables")
    scanner = _Scanner(body["query"], variables)
    operations = scanner.operations()
    if operation_name is None and len(operations) > 1:
        raise GraphQLError("An operation name is required", "operationNotFound")
    chosen = [op for op in operations if operation_name in (None, op.name)]
    if not chosen:
        raise GraphQLError("No operation in the document" if operation_name is None
                           else f'No operation named "{operation_name}"', "operationNotFound")
    operation = chosen[0]
    allowed = MUTATION_FIELDS if operation.kind == "mutation" else QUERY_FIELDS
    root = "Mutation" if operation.kind == "mutation" else "QueryRoot"
    for _, name, _ in operation.fields:
        if name not in allowed:
            raise GraphQLError(f"Field '{name}' doesn't exist on type '{root}'", "undefinedField")
    return operation


def run(state, operation, call, now):
    """Charge the operation's cost to the bucket and, if it holds it, answer every root field."""
    cost = operation.cost
    log = {"operation": operation.name, "cost": cost}
    with state.lock:
        spent, status = state.spend_points(cost, now)
        if not spent:
            return Result(
                {"errors": [{"message": "Throttled", "extensions": {
                    "code": "THROTTLED", "documentation": RATE_LIMITS_DOC}}],
                 "extensions": _cost_extension(cost, None, status)},
                {**log, "throttled": True})
        data, errors, done = {}, [], set()
        for key, name, args in operation.fields:
            try:
                data[key] = RESOLVERS[name](state, args, call)
            except FieldError as error:
                data[key] = None
                errors.append({"message": str(error), "path": [key],
                               "extensions": error.extensions})
            if name in MUTATION_FIELDS and data[key] is not None and not data[key]["userErrors"]:
                done.add(name)
    payload = {"data": data, "extensions": _cost_extension(cost, cost, status)}
    if errors:
        payload = {"errors": errors, **payload}
    return Result(payload, {**log, "throttled": False}, created="draftOrderCreate" in done,
                  invoiced="draftOrderInvoiceSend" in done)


def refused(error):
    """The answer to a document refused before it ran."""
    return {"errors": [{"message": str(error), "extensions": {"code": error.code}}]}


def _cost(name, args):
    if name in MUTATION_FIELDS:
        return 10
    if name in ("draftOrders", "webhookSubscriptions"):
        return 1 + _first(args)
    if name == "nodes":
        return 1 + len(args.get("ids") or [])
    return 1


def _cost_extension(requested, actual, status):
    return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                     "throttleStatus": status}}


class _Scanner:
    """Just enough of GraphQL's grammar to find the root fields and their arguments."""

    def __init__(self, text, variables):
        self.tokens, self.variables, self.at = [], variables, 0
        position = 0
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None:
                raise GraphQLError(f"Parse error on {text[position]!r} at {position}",
                                   "parseError")
            if match.lastgroup != "skip":
                self.tokens.append((match.lastgroup, match.group()))
            position = match.end()

    def peek(self):
        return self.tokens[self.at][1] if self.at < len(self.tokens) else None

    def take(self, expected=None):
        if self.at >= len(self.tokens):
            raise GraphQLError("Parse error: unexpected end of document", "parseError")
        kind, text = self.tokens[self.at]
        if expected is not None and text != expected:
            raise GraphQLError(f"Parse error: expected {expected!r}, found {text!r}",
                               "parseError")
        self.at += 1
        return kind, text

    def operations(self):
        operations = []
        while self.peek() is not None:
            kind, name = "query", None
            if self.peek() != "{":
                kind = self.take()[1]
                if kind not in ("query", "mutation", "fragment"):
                    raise GraphQLError(f"Parse error on {kind!r}", "parseError")
                if self.peek() not in ("(", "{", "@"):
                    name = self.take()[1]
            while self.peek() not in ("{", None):  # variable definitions, `on Type`, directives
                self.skip_group() if self.peek() == "(" else self.take()
            if kind == "fragment":
                self.skip_group()
            else:
                operations.append(Operation(name, kind, self.selections()))
        return operations

    def selections(self):
        fields = []
        self.take("{")
        while self.peek() != "}":
            if self.peek() == "...":
                raise GraphQLError("Fragments at the root are not supported by the simulator",
                                   "parseError")
            key = name = self.take()[1]
            if self.peek() == ":":
                self.take()
                name = self.take()[1]
            args = self.arguments() if self.peek() == "(" else {}
            while self.peek() == "@":
                self.take()
                self.take()
                if self.peek() == "(":
                    self.skip_group()
            if self.peek() == "{":
                self.skip_group()
            fields.append((key, name, args))
        self.take("}")
        return fields

    def arguments(self):
        self.take("(")
        return self.pairs(")")

    def pairs(self, closing):
        """`name: value` pairs up to `closing`: a field's arguments, an input object."""
        found = {}
        while self.peek() != closing:
            name = self.take()[1]
            self.take(":")
            found[name] = self.value()
        self.take(closing)
        return found

    def value(self):
        kind, text = self.take()
        if text == "$":
            return self.variables.get(self.take()[1])
        if kind == "string":
            return json.loads(text)
        if kind == "number":
            return float(text) if re.search(r"[.eE]", text) else int(text)
        if text == "[":
            items = []
            while self.peek() != "]":
                items.append(self.value())
            self.take("]")
            return items
        if text == "{":
            return self.pairs("}")
        return {"true": True, "false": False, "null": None}.get(text, text)  # else an enum

    def skip_group(self):
        opening = self.take()[1]
        closing, depth = {"(": ")", "{": "}", "[": "]"}[opening], 1
        while depth:
            text = self.take()[1]
            depth += (text == opening) - (text == closing)


# --- resolvers: each takes (state, arguments, call), called under the state's lock


def _require(state, field_name, *scopes):
    """ACCESS_DENIED as Shopify words it, unless the token has one of `scopes`."""
    if not set(scopes) & set(state.config["scopes"]):
        access = f"`{scopes[0]}` access scope."
        raise FieldError(f"Access denied for {field_name} field. Required access: {access}",
                         {"code": "ACCESS_DENIED", "documentation": SCOPES_DOC,
                          "requiredAccess": access})


def gid(kind, number):
    return f"gid://shopify/{kind}/{number}"


def legacy_id(value, kind):
    """The number in a `gid://shopify/<kind>/<n>`, else None."""
    match = _GID.fullmatch(value) if isinstance(value, str) else None
    return int(match.group(2)) if match and match.group(1) == kind else None


def _zulu(stamp):
    return None if stamp is None else _parse_time(stamp).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text):
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _tag_list(tags):
    return [tag.strip() for tag in (tags or "").split(",") if tag.strip()]


def _draft_order_create(state, args, call):
    _require(state, "draftOrderCreate", "write_draft_orders")
    draft_input = args.get("input")
    if not _well_typed(draft_input):
        raise FieldError("Variable $input of type DraftOrderInput! was provided invalid value",
                         {"code": "INVALID_VARIABLE"})
    errors = _input_errors(state, draft_input)
    if errors:
        return {"draftOrder": None, "userErrors": errors}
    company = (draft_input.get("purchasingEntity") or {}).get("purchasingCompany")
    order = state.create(
        _rest_draft(state, draft_input), call.base_url,
        discount_codes=draft_input.get("discountCodes") or [],
        currency=draft_input.get("presentmentCurrencyCode") or state.shop_currency,
        reserve_inventory_until=draft_input.get("reserveInventoryUntil"),
        accept_automatic_discounts=bool(draft_input.get("acceptAutomaticDiscounts")),
        purchasing_company=None if company is None else {
            "company_id": legacy_id(company["companyId"], "Company"),
            "company_contact_id": legacy_id(company["companyContactId"], "CompanyContact"),
            "company_location_id": legacy_id(company["companyLocationId"], "CompanyLocation"),
        },
    )
    return {"draftOrder": draft_order_node(state, order), "userErrors": []}


def _well_typed(draft_input):
    """What GraphQL's type check would refuse before Shopify looks at the values."""
    def strings(value):
        return value is None or (isinstance(value, list)
                                 and all(isinstance(each, str) for each in value))

    def attributes(value):
        return value is None or (isinstance(value, list) and all(
            isinstance(each, dict) and isinstance(each.get("key"), str) for each in value))

    if not isinstance(draft_input, dict):
        return False
    items = draft_input.get("lineItems")
    return (strings(draft_input.get("tags")) and strings(draft_input.get("discountCodes"))
            and attributes(draft_input.get("customAttributes"))
            and (items is None or isinstance(items, list) and all(
                isinstance(item, dict) and attributes(item.get("customAttributes"))
                for item in items)))


def _input_errors(state, draft_input):
    """Shopify's userErrors for a DraftOrderInput, [] when it would be accepted.

    Unknown discount codes are no error: Shopify skips them during calculation."""
    errors = []
    items = draft_input.get("lineItems")
    if not items:
        errors.append({"field": ["lineItems"], "message": "Add at least 1 product"})
    for index, item in enumerate(items or []):
        variant_id = legacy_id(item.get("variantId"), "ProductVariant")
        if variant_id is None or state.variant(variant_id) is None:
            errors.append({"field": ["lineItems", str(index), "variantId"],
                           "message": f"Product variant {item.get('variantId')} does not exist"})
        quantity = item.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            errors.append({"field": ["lineItems", str(index), "quantity"],
                           "message": "Quantity must be greater than or equal to 1"})
    currency = draft_input.get("presentmentCurrencyCode")
    if currency is not None and currency not in state.accepted_currencies():
        errors.append({"field": ["presentmentCurrencyCode"],
                       "message": f"Presentment currency {currency} is not enabled for this shop"})
    until = draft_input.get("reserveInventoryUntil")
    if until is not None and _time_or_none(until) is None:
        errors.append({"field": ["reserveInventoryUntil"], "message": "Invalid date time"})
    return errors + _purchasing_errors(state, draft_input.get("purchasingEntity"))


def _purchasing_errors(state, entity):
    """A purchasing company must name a company, one of its locations and one of its contacts."""
    if entity is None:
        return []
    if not isinstance(entity, dict) or len(entity) != 1:
        return [{"field": ["purchasingEntity"],
                 "message": "Specify exactly one of customerId or purchasingCompany"}]
    if "customerId" in entity:
        if legacy_id(entity["customerId"], "Customer") is None:
            return [{"field": ["purchasingEntity", "customerId"],
                     "message": "Customer does not exist"}]
        return []
    buyer = entity.get("purchasingCompany")
    buyer = buyer if isinstance(buyer, dict) else {}
    path = ["purchasingEntity", "purchasingCompany"]
    company = state.config["companies"].get(legacy_id(buyer.get("companyId"), "Company"))
    if company is None:
        return [{"field": [*path, "companyId"], "message": "Company does not exist"}]
    errors = []
    if legacy_id(buyer.get("companyLocationId"), "CompanyLocation") not in company["locations"]:
        errors.append({"field": [*path, "companyLocationId"],
                       "message": "Company location does not belong to the company"})
    contact = legacy_id(buyer.get("companyContactId"), "CompanyContact")
    if contact not in company["contacts"].values():
        errors.append({"field": [*path, "companyContactId"],
                       "message": "Company contact does not belong to the company"})
    return errors


def _time_or_none(text):
    try:
        return _parse_time(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _rest_draft(state, draft_input):
    """The input as the REST side stores drafts, so REST readers see GraphQL-made drafts."""
    entity = draft_input.get("purchasingEntity") or {}
    customer_id = legacy_id(entity.get("customerId"), "Customer")
    company = entity.get("purchasingCompany")
    if company is not None:
        contact = legacy_id(company["companyContactId"], "CompanyContact")
        contacts = state.config["companies"][legacy_id(company["companyId"], "Company")]["contacts"]
        customer_id = next(c for c, each in contacts.items() if each == contact)
    return {
        "line_items": [
            {"variant_id": legacy_id(item["variantId"], "ProductVariant"),
             "quantity": item["quantity"],
             "properties": _attributes_as_properties(item.get("customAttributes"))}
            for item in draft_input["lineItems"]
        ],
        "customer": None if customer_id is None else {"id": customer_id},
        "note": draft_input.get("note"),
        "email": draft_input.get("email"),
        "billing_address": _address(draft_input.get("billingAddress")),
        "note_attributes": _attributes_as_properties(draft_input.get("customAttributes")),
        "tags": ", ".join(draft_input.get("tags") or []),
    }


def _address(address):
    """A MailingAddressInput as REST's address (the fields the receiver sends)."""
    if not address:
        return None
    return {rest: address[key] for key, rest in (("firstName", "first_name"),
            ("lastName", "last_name"), ("phone", "phone"), ("company", "company"))
            if key in address}


def _attributes_as_properties(attributes):
    return [{"name": a.get("key"), "value": a.get("value")} for a in attributes or []]


def draft_order_node(state, order):
    """A stored draft (made through either API) as GraphQL's DraftOrder."""
    currency = order["currency"]
    company = order.get("purchasing_company")
    return {
        "__typename": "DraftOrder",
        "id": gid("DraftOrder", order["id"]),
        "legacyResourceId": str(order["id"]),
        "name": order["name"],
        "invoiceUrl": order["invoice_url"],
        "status": order["status"].upper(),
        "tags": _tag_list(order["tags"]),
        "note2": order["note"],
        "customAttributes": [{"key": a["name"], "value": a["value"]}
                             for a in order["note_attributes"]],
        "createdAt": _zulu(order["created_at"]),
        "updatedAt": _zulu(order["updated_at"]),
        "invoiceSentAt": _zulu(order["invoice_sent_at"]),
        "completedAt": _zulu(order["completed_at"]),
        "order": (None if order["order_id"] is None
                  else order_node(state.find_order(order["order_id"]))),
        "currencyCode": state.shop_currency,
        "presentmentCurrencyCode": currency,
        "discountCodes": order.get("discount_codes", []),
        "acceptAutomaticDiscounts": order.get("accept_automatic_discounts", False),
        "reserveInventoryUntil": _zulu(order.get("reserve_inventory_until")),
        "customer": None if order["customer"] is None else {
            "id": gid("Customer", order["customer"]["id"])},
        "purchasingEntity": None if company is None else {
            "__typename": "PurchasingCompany",
            "company": {"id": gid("Company", company["company_id"])},
            "contact": {"id": gid("CompanyContact", company["company_contact_id"])},
            "location": {"id": gid("CompanyLocation", company["company_location_id"])},
        },
        "subtotalPriceSet": {"presentmentMoney": {"amount": order["subtotal_price"],
                                                  "currencyCode": currency}},
        "totalDiscountsSet": {"presentmentMoney": {"amount": order.get("total_discounts", "0.00"),
                                                   "currencyCode": currency}},
        "lineItems": {"nodes": [
            {"id": gid("DraftOrderLineItem", line["id"]), "title": line["title"],
             "quantity": line["quantity"], "variant": {"id": gid("ProductVariant",
                                                                 line["variant_id"])},
             "customAttributes": [{"key": p["name"], "value": p["value"]}
                                  for p in line["properties"]]}
            for line in order["line_items"]
        ]},
    }


def order_node(order):
    """A stored order (what a completed draft became) as GraphQL's Order."""
    return {
        "__typename": "Order",
        "id": gid("Order", order["id"]),
        "legacyResourceId": str(order["id"]),
        "name": order["name"],
        "displayFinancialStatus": order["financial_status"].upper(),
        "sourceName": order["source_name"],
        "email": order["email"],
        "customAttributes": [{"key": a["name"], "value": a["value"]}
                             for a in order["note_attributes"]],
        "tags": _tag_list(order["tags"]),
        "createdAt": _zulu(order["created_at"]),
        "updatedAt": _zulu(order["updated_at"]),
        "customer": None if order["customer"] is None else {
            "id": gid("Customer", order["customer"]["id"])},
    }


def _draft_order(state, args, call):
    """One draft by id; null when there is none (unknown, or deleted)."""
    _require(state, "draftOrder", "read_draft_orders", "write_draft_orders")
    found = state.find(legacy_id(args.get("id"), "DraftOrder"))
    return None if found is None else draft_order_node(state, found)


def _order(state, args, call):
    _require(state, "order", "read_orders")
    found = state.find_order(legacy_id(args.get("id"), "Order"))
    return None if found is None else order_node(found)


def _draft_order_invoice_send(state, args, call):
    """The invoice email (EmailInput: to, from, subject, customMessage, all optional)."""
    _require(state, "draftOrderInvoiceSend", "write_draft_orders")
    email = args.get("email") or {}
    if not isinstance(email, dict):
        raise FieldError("Variable $email of type EmailInput was provided invalid value",
                         {"code": "INVALID_VARIABLE"})
    draft_id = legacy_id(args.get("id"), "DraftOrder")
    try:
        state.send_invoice(draft_id, {"to": email.get("to"), "from": email.get("from"),
                                      "subject": email.get("subject"),
                                      "custom_message": email.get("customMessage")},
                           api="graphql")
    except KeyError:
        return {"draftOrder": None,
                "userErrors": [{"field": ["id"], "message": "Draft order not found"}]}
    except Refused as refusal:
        return {"draftOrder": None, "userErrors": [_user_error(refusal, "email")]}
    return {"draftOrder": draft_order_node(state, state.find(draft_id)), "userErrors": []}


def _user_error(refusal, argument):
    """A REST-style refusal on `field` as a userError under the mutation's input argument."""
    field = [] if refusal.field == "base" else [argument, refusal.field]
    text = refusal.message if refusal.field == "base" else (
        f"{refusal.field.capitalize()} {refusal.message}")
    return {"field": field or None, "message": text}


def subscription_node(subscription):
    """A stored (REST-shaped) subscription as GraphQL's WebhookSubscription, with both
    2025-10's `uri` and the deprecated `callbackUrl` and `endpoint`."""
    return {
        "__typename": "WebhookSubscription",
        "id": gid("WebhookSubscription", subscription["id"]),
        "legacyResourceId": str(subscription["id"]),
        "topic": graphql_topic(subscription["topic"]),
        "format": subscription["format"].upper(),
        "uri": subscription["address"],
        "callbackUrl": subscription["address"],
        "endpoint": {"__typename": "WebhookHttpEndpoint",
                     "callbackUrl": subscription["address"]},
        "apiVersion": {"handle": subscription["api_version"]},
        "includeFields": [],
        "createdAt": _zulu(subscription["created_at"]),
        "updatedAt": _zulu(subscription["updated_at"]),
    }


def _webhook_subscriptions(state, args, call):
    """The subscriptions, filtered by `topics` and `uri`/`callbackUrl` when given; one page."""
    first = _first(args)
    if not 1 <= first <= MAX_PAGE:
        raise FieldError(f"The first argument must be between 1 and {MAX_PAGE}",
                         {"code": "BAD_REQUEST"})
    topics = args.get("topics")
    address = args.get("uri") or args.get("callbackUrl")
    matching = [subscription_node(w) for w in state.webhooks
                if (not topics or graphql_topic(w["topic"]) in topics)
                and address in (None, w["address"])]
    return {"nodes": matching[:first], "edges": [{"node": n} for n in matching[:first]],
            "pageInfo": {"hasNextPage": len(matching) > first, "hasPreviousPage": False}}


def _webhook_subscription_create(state, args, call):
    """Subscribe (`uri`, or the older `callbackUrl`); a taken address is a userError."""
    given = args.get("webhookSubscription")
    if not isinstance(given, dict) or rest_topic(args.get("topic")) is None:
        raise FieldError("Variable of type WebhookSubscriptionTopic! or "
                         "WebhookSubscriptionInput! was provided invalid value",
                         {"code": "INVALID_VARIABLE"})
    key = "uri" if given.get("uri") is not None else "callbackUrl"
    if given.get("format", "JSON") != "JSON":
        return {"webhookSubscription": None, "userErrors": [
            {"field": ["webhookSubscription", "format"], "message": "Format is not supported"}]}
    try:
        made = state.subscribe(rest_topic(args["topic"]), given.get(key), call.version)
    except Refused as refusal:
        return {"webhookSubscription": None, "userErrors": [
            {"field": ["webhookSubscription", key],
             "message": f"Address {refusal.message}"}]}
    return {"webhookSubscription": subscription_node(made), "userErrors": []}


def _first(args):
    first = args.get("first")
    return first if isinstance(first, int) and not isinstance(first, bool) else 0


def _draft_orders(state, args, call):
    _require(state, "draftOrders", "read_draft_orders", "write_draft_orders")
    first = _first(args)
    if not 1 <= first <= MAX_PAGE:
        raise FieldError(f"The first argument must be between 1 and {MAX_PAGE}",
                         {"code": "BAD_REQUEST"})
    after = _cursor_id(args.get("after"))
    matching = [order for order in state.draft_orders
                if order["id"] > after and _matches(order, args.get("query"))]
    page = matching[:first]
    edges = [{"cursor": _cursor(order["id"]), "node": draft_order_node(state, order)}
             for order in page]
    return {"edges": edges, "nodes": [edge["node"] for edge in edges],
            "pageInfo": {"hasNextPage": len(matching) > first, "hasPreviousPage": after > 0,
                         "startCursor": edges[0]["cursor"] if edges else None,
                         "endCursor": edges[-1]["cursor"] if edges else None}}


def _cursor(draft_id):
    return base64.urlsafe_b64encode(json.dumps({"last_id": draft_id}).encode()).decode()


def _cursor_id(cursor):
    try:
        return int(json.loads(base64.urlsafe_b64decode(cursor))["last_id"]) if cursor else 0
    except (ValueError, KeyError, TypeError) as error:
        raise FieldError("Invalid cursor for current pagination sort.",
                         {"code": "BAD_REQUEST"}) from error


def _matches(order, query):
    """Shopify's search syntax, the terms the receiver relies on: `tag:x` (or quoted),
    `status:open`, `updated_at:`/`created_at:` with >, >=, < or <=. Terms separated
    by spaces must all hold; free text and unknown filters are ignored, as Shopify
    ignores filters it does not know."""
    for name, operator, raw in _TERM.findall(query or ""):
        value = raw[1:-1] if raw[:1] in "'\"" and raw[-1:] == raw[:1] and len(raw) > 1 else raw
        if name == "tag":
            if value.lower() not in {tag.lower() for tag in _tag_list(order["tags"])}:
                return False
        elif name == "status":
            if value.lower() != order["status"]:
                return False
        elif name in ("updated_at", "created_at"):
            limit = _time_or_none(value)
            if limit is not None and not _compare(_parse_time(order[name]), operator, limit):
                return False
    return True


def _compare(stamp, operator, limit):
    return {">": stamp > limit, ">=": stamp >= limit, "<": stamp < limit,
            "<=": stamp <= limit, "": stamp == limit}[operator]


def _nodes(state, args, call):
    ids = args.get("ids")
    if not isinstance(ids, list):
        raise FieldError("Variable $ids of type [ID!]! was provided invalid value",
                         {"code": "INVALID_VARIABLE"})
    if any(legacy_id(each, "ProductVariant") is not None for each in ids):
        _require(state, "nodes", "read_products")
    if any(legacy_id(each, "DraftOrder") is not None for each in ids):
        _require(state, "nodes", "read_draft_orders", "write_draft_orders")
    return [_node(state, each) for each in ids]


def _node(state, node_id):
    variant_id = legacy_id(node_id, "ProductVariant")
    if variant_id is not None:
        variant = state.variant(variant_id)
        return None if variant is None else variant_node(variant_id, variant)
    draft_id = legacy_id(node_id, "DraftOrder")
    order = next((d for d in state.draft_orders if d["id"] == draft_id), None)
    return None if order is None else draft_order_node(state, order)


def variant_node(variant_id, variant):
    """A catalogue entry as GraphQL's ProductVariant; its product shares its number."""
    return {
        "__typename": "ProductVariant",
        "id": gid("ProductVariant", variant_id),
        "legacyResourceId": str(variant_id),
        "title": "Default Title",
        "displayName": f"{variant['title']} - Default Title",
        "price": variant["price"],
        "availableForSale": variant["available"],
        "inventoryPolicy": variant["inventory_policy"].upper(),
        "inventoryQuantity": variant["inventory_quantity"],
        "inventoryItem": {"id": gid("InventoryItem", variant_id), "tracked": variant["tracked"]},
        "product": {"id": gid("Product", variant_id), "title": variant["title"],
                    "status": variant["product_status"].upper()},
    }


def _customer(state, args, call):
    _require(state, "customer", "read_customers")
    customer_id = legacy_id(args.get("id"), "Customer")
    if customer_id is None:
        return None
    profiles = [
        {"id": gid("CompanyContact", company["contacts"][customer_id]),
         "company": {"id": gid("Company", company_id)}}
        for company_id, company in state.config["companies"].items()
        if customer_id in company["contacts"]
    ]
    return {"__typename": "Customer", "id": gid("Customer", customer_id),
            "legacyResourceId": str(customer_id), "companyContactProfiles": profiles}


def _company_location(state, args, call):
    _require(state, "companyLocation", "read_companies")
    location_id = legacy_id(args.get("id"), "CompanyLocation")
    company_id = next((company_id for company_id, company in state.config["companies"].items()
                       if location_id in company["locations"]), None)
    return None if company_id is None else {
        "__typename": "CompanyLocation", "id": gid("CompanyLocation", location_id),
        "company": {"id": gid("Company", company_id)}}


def _shop(state, args, call):
    return {"__typename": "Shop", "id": gid("Shop", state.config["shop_id"]),
            "name": state.shop_name, "myshopifyDomain": state.config["shop_domain"],
            "currencyCode": state.shop_currency,
            "enabledPresentmentCurrencies": state.accepted_currencies()}


def _current_app_installation(state, args, call):
    return {"accessScopes": [{"handle": handle} for handle in state.config["scopes"]]}


RESOLVERS = {
    "draftOrderCreate": _draft_order_create,
    "draftOrderInvoiceSend": _draft_order_invoice_send,
    "webhookSubscriptionCreate": _webhook_subscription_create,
    "draftOrders": _draft_orders,
    "draftOrder": _draft_order,
    "order": _order,
    "webhookSubscriptions": _webhook_subscriptions,
    "nodes": _nodes,
    "customer": _customer,
    "companyLocation": _company_location,
    "shop": _shop,
    "currentAppInstallation": _current_app_installation,
}
