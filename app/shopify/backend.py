"""What the worker, doctor and the CLI may call on a Shopify client, whichever
API it speaks: `ShopifyBackend`, which rest.py's RestClient and graphql.py's
GraphQLClient both are (make_client's return type holds mypy to it)."""

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from .answers import Answer, Outcome
from .pacing import Pacer
from .tokens import Tokens

# The stored cart (`payload`, `prepared`) is JSON: Any.


@runtime_checkable
class ShopifyBackend(Protocol):
    """One shop's Admin API, as the worker, doctor and the CLI use it.

    Calls return `(Answer, Outcome)`: the exchange as the event log keeps it, and
    what it means (answers.py). Any call may raise tokens.CredentialsUnavailable
    (the merchant's setup gives no token: wait) or tokens.TokenUnavailable (the
    token endpoint failed: try again later), before anything is sent.
    """

    @property
    def timeout(self) -> float:
        """Seconds one call may take in all."""

    @property
    def tokens(self) -> Tokens:
        """Where its access token comes from (tokens.py)."""

    @property
    def pacer(self) -> Pacer:
        """Its pacer, whose `has_room()` says the bucket is at most half used:
        calls that can wait (re-reading drafts) go only then."""

    @property
    def lookup_lag(self) -> float:
        """Seconds a new draft may take to show in `lookup`: the worker's lookup
        after a lost answer waits at least this long (worker.Policy.lookup_lag)."""

    def trusted_url(self, location: str) -> str:
        """`location` resolved against the shop; raises UntrustedLocation."""

    def needs_preparation(self, payload: Mapping[str, Any]) -> bool:
        """Whether the event needs a read before its draft (the stock policy, a
        B2B company contact)."""

    def prepare(self, payload: Mapping[str, Any]) -> tuple[Answer, Outcome]:
        """That read: Outcome kind "prepared", with what it found, or why not."""

    def create(self, payload: Mapping[str, Any], prepared: Mapping[str, Any] | None,
               ready: Callable[[], bool]) -> tuple[Answer | None, Outcome | None]:
        """The one call that may make a draft. It asks `ready()` after pacing,
        and returns (None, None) when that says no."""

    def poll(self, url: str) -> tuple[Answer, Outcome]:
        """A REST 202's Location."""

    def lookup(self, event_id: str, since: float) -> tuple[Answer, Outcome]:
        """The draft marked with the event, if any."""

    def send_invoice(self, draft_id: int, subject: str | None, message: str | None,
                     ready: Callable[[], bool]) -> tuple[Answer | None, Outcome | None]:
        """The draft's invoice to its customer's email (an empty subject or
        message: Shopify's); `ready()` as for `create`. Outcome kinds: sent |
        rejected | throttled | unavailable."""

    def read_draft(self, draft_id: int, with_order: bool = True) -> tuple[Answer, Outcome]:
        """The draft as it is now, Outcome kind "seen" with a lifecycle.DraftSeen
        (a draft Shopify no longer has: deleted), and the name of the order it
        became, unless `with_order` is false (REST reads the order in a second
        call, which needs read_orders)."""

    def read_shop_and_scopes(self) -> tuple[Answer, dict[str, str | None] | None,
                                            Answer, list[str] | None]:
        """For doctor (one call under GraphQL): (answer, the shop's name, domain
        and currency or None, answer, the token's scopes' handles or None)."""

    def read_shop_domain(self) -> str | None:
        """The shop's myshopify domain as the Admin API names it, or None when
        the answer names none: the shop an app proxy request must be signed
        for when SHOPIFY_SHOP is a base URL (a simulator, a test server)."""

    def list_webhooks(self) -> tuple[Answer, list[dict[str, str | None]] | None]:
        """(Answer, [{"topic", "address"}] or None), the shop's webhook
        subscriptions, each topic as the API spells it (REST `orders/create`,
        GraphQL `ORDERS_CREATE`), for doctor and `webhooks list`."""

    def create_webhook(self, topic: str, address: str) -> tuple[Answer, str | None]:
        """(Answer, None when subscribed, else why not in a sentence), `topic` in
        REST's spelling (`webhooks register`)."""
