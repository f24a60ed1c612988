"""Subscribing the receiver to Shopify's webhooks: which topics of
webhooks.TOPICS lack a subscription, subscribing to them through a client
(`flask --app app webhooks register`, the demo), and the address Shopify
should send them to, from PUBLIC_URL.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from .backend import ShopifyBackend
from .graphql import topic_enum
from .webhooks import PATH, TOPICS


def missing_topics(subscriptions: Iterable[Mapping[str, str | None]],
                   address: str | None) -> list[str]:
    """The topics of TOPICS with no subscription at `address` (None: at any
    address ending in PATH, when PUBLIC_URL is unset). Topics compare as
    GraphQL spells them, which both APIs' lists can be read as."""
    def ours(subscription: Mapping[str, str | None]) -> bool:
        where = subscription["address"] or ""
        return where == address if address else where.endswith(PATH)
    covered = {topic_enum(subscription["topic"] or "") for subscription in subscriptions
               if ours(subscription)}
    return [topic for topic in TOPICS if topic_enum(topic) not in covered]


def subscribe(client: ShopifyBackend, topics: Iterable[str],
              address: str) -> list[tuple[str, str | None]]:
    """Subscribe `address` to each of `topics` through `client`: [(topic, why
    not, or None when subscribed)]."""
    return [(topic, client.create_webhook(topic, address)[1]) for topic in topics]


def public_address(config: Mapping[str, Any]) -> str | None:
    """Where Shopify should send its webhooks, from PUBLIC_URL; None when unset."""
    return config["PUBLIC_URL"] + PATH if config.get("PUBLIC_URL") else None
