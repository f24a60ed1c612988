"""The simulator's outgoing webhooks: Shopify's signed POSTs to the subscribed addresses.

Deliveries leave from one background thread per shop, never under the shop's
lock, so a slow or dead receiver holds up no API call. Each is recorded once
tried (`webhooks_sent`). Switches for tests, read when a change is announced:
`webhooks_paused` records a delivery without sending it (the webhooks that never
arrive), `webhook_duplicates` sends each twice with the same webhook id, and
`webhook_reorder` holds one back and sends it after the next.
It depends on no Flask and on nothing else in `app`.
"""

import base64
import hashlib
import hmac
import json
import queue
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import requests

TIMEOUT_SECONDS = 5.0
TOPICS = ("draft_orders/update", "draft_orders/delete", "orders/create")


def signature(body, secret):
    """X-Shopify-Hmac-Sha256: the base64 HMAC-SHA256 of the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def graphql_topic(topic):
    """`draft_orders/update` as GraphQL's WebhookSubscriptionTopic, DRAFT_ORDERS_UPDATE."""
    return topic.upper().replace("/", "_")


def rest_topic(enum):
    """The REST topic of a GraphQL topic enum value, or None if it is not one of TOPICS."""
    return next((topic for topic in TOPICS if graphql_topic(topic) == enum), None)


@dataclass(frozen=True)
class Delivery:
    address: str
    body: bytes
    headers: dict
    record: dict  # what webhooks_sent keeps of it, before the answer is known


def deliveries(subscriptions, topic, payload, config, secret):
    """One delivery per subscription to `topic`, signed with `secret`; they share
    the event's id."""
    body = json.dumps(payload).encode()
    event_id = str(uuid.uuid4())
    triggered = datetime.now(timezone.utc).isoformat(timespec="microseconds")
    made = []
    for subscription in subscriptions:
        if subscription["topic"] != topic:
            continue
        webhook_id = str(uuid.uuid4())
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": signature(body, secret),
            "X-Shopify-Shop-Domain": config["shop_domain"],
            "X-Shopify-Webhook-Id": webhook_id,
            "X-Shopify-Event-Id": event_id,
            "X-Shopify-API-Version": subscription["api_version"],
            "X-Shopify-Triggered-At": triggered,
        }
        made.append(Delivery(subscription["address"], body, headers, {
            "webhook_id": webhook_id, "event_id": event_id, "topic": topic,
            "address": subscription["address"], "subscription_id": subscription["id"],
            "body": payload, "paused": False, "status": None, "error": None}))
    return made


class Outbox:
    """The queue between the shop (which announces changes under its lock) and the
    sending thread; `record(entry)` stores each delivery's outcome."""

    def __init__(self, record):
        self._record = record
        self._queue = queue.Queue()
        self._held = None
        self._unfinished = 0
        self._idle = threading.Condition()
        self._thread = None

    def post(self, made, config):
        """Hand deliveries to the sender; never blocks, so it may run under the shop's lock."""
        for delivery in made:
            for _ in range(2 if config["webhook_duplicates"] else 1):
                if config["webhooks_paused"]:
                    self._record({**delivery.record, "paused": True})
                elif config["webhook_reorder"] and self._held is None:
                    self._held = delivery
                else:
                    self._put(delivery)
                    if self._held is not None:
                        self._put(self._held)
                        self._held = None

    def forget_held(self):
        self._held = None

    def wait_idle(self, timeout):
        """True once every delivery handed over has been tried (a held one is not handed over)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._unfinished == 0, timeout)

    def _put(self, delivery):
        with self._idle:
            self._unfinished += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="simulator-webhooks",
                                                daemon=True)
                self._thread.start()
        self._queue.put(delivery)

    def _run(self):
        session = requests.Session()
        session.trust_env = False  # Shopify posts straight to the address, through no local proxy
        while True:
            delivery = self._queue.get()
            outcome = {}
            try:
                answer = session.post(delivery.address, data=delivery.body,
                                      headers=delivery.headers, timeout=TIMEOUT_SECONDS,
                                      allow_redirects=False)
                outcome["status"] = answer.status_code
            except requests.RequestException as error:
                outcome["error"] = f"{type(error).__name__}: {error}"
            self._record({**delivery.record, **outcome})
            with self._idle:
                self._unfinished -= 1
                self._idle.notify_all()
