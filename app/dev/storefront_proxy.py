"""The demo storefront playing Shopify's app proxy (development only).

Shopify forwards the shop's `/apps/<subpath>/<rest>` to the app's proxy URL
(`<receiver>/proxy/<rest>`) with the method, body and query as sent, plus its
signed query: `shop`, `logged_in_customer_id` (the session's customer, empty
for a guest), `path_prefix`, `timestamp` and `signature` (the client secret's
HMAC, app/shopify/app_proxy.py), and the shopper's address in X-Forwarded-For
(https://shopify.dev/docs/apps/build/online-store/app-proxies/
authenticate-app-proxies). Cookies are not forwarded. This does the same for
the demo's storefront origin, so that the proxy snippet runs as on a shop.
"""

import time
from dataclasses import dataclass

import requests
from flask import Response, request

from ..shopify.app_proxy import PATH, PREFIX, signed_query

# Of the answer, what Shopify passes back (it strips Set-Cookie, among others).
_PASSED_HEADERS = ("Content-Type", "Cache-Control", "Retry-After")


@dataclass
class AppProxy:
    """The app proxy's configuration, as `shopify app deploy` gives it to Shopify."""

    receiver_url: str
    client_secret: str
    shop: str
    subpath: str = "send-cart"


def forward(proxy: AppProxy, rest: str, customer_id: int | None) -> Response:
    """The current request to `/apps/<subpath>/<rest>`, forwarded as Shopify
    would, for the session's `customer_id` (None: a guest); its answer."""
    pairs = [*request.args.items(multi=True),
             ("shop", proxy.shop),
             ("logged_in_customer_id", "" if customer_id is None else str(customer_id)),
             ("path_prefix", f"/{PREFIX}/{proxy.subpath}"),
             ("timestamp", str(int(time.time())))]
    headers = {"X-Forwarded-For": request.remote_addr or "",
               "X-Forwarded-Host": request.host}
    if request.content_type:
        headers["Content-Type"] = request.content_type
    answer = requests.request(request.method, f"{proxy.receiver_url}{PATH}/{rest}",
                              params=signed_query(pairs, proxy.client_secret),
                              data=request.get_data(), headers=headers, timeout=30,
                              allow_redirects=False)
    response = Response(answer.content, status=answer.status_code)
    for name in _PASSED_HEADERS:
        if name in answer.headers:
            response.headers[name] = answer.headers[name]
    return response
