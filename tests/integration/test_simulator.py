import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from servers import shopify_simulator
from simulator_fixtures import *  # noqa: F403 (clock, make_sim, sim, client, state)

from app.dev.simulator import ConnectionDropped

TOKEN = "shpat_simulator_token"
HEADERS = {"X-Shopify-Access-Token": TOKEN}
API = "/admin/api/2025-10"
DRAFTS = f"{API}/draft_orders.json"


def draft(*items, **fields):
    items = items or ({"variant_id": 39072856, "quantity": 2},)
    return {"draft_order": {"line_items": list(items), **fields}}


def post_draft(client, body=None, headers=HEADERS):
    return client.post(DRAFTS, json=body or draft(), headers=headers)


def test_created_draft_orders_are_named_in_creation_order(client):
    first, second = post_draft(client), post_draft(client)

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json["draft_order"]["name"] == "#D1"
    assert second.json["draft_order"]["name"] == "#D2"
    assert second.json["draft_order"]["id"] == first.json["draft_order"]["id"] + 1


def test_created_draft_order_stores_what_was_asked(client, state):
    properties = [{"name": "Engraving", "value": "Für dich"}]
    body = draft(
        {"variant_id": 7, "quantity": 3, "properties": properties},
        customer={"id": 207119551},
        note="hi",
        tags="web,cart",
        note_attributes=[{"name": "cart_token", "value": "c1"}],
    )

    returned = post_draft(client, body).json["draft_order"]

    assert state.draft_orders == [returned]
    assert returned["line_items"][0]["variant_id"] == 7
    assert returned["line_items"][0]["quantity"] == 3
    assert returned["line_items"][0]["properties"] == properties
    assert returned["customer"] == {"id": 207119551}
    assert returned["note_attributes"] == [{"name": "cart_token", "value": "c1"}]
    assert (returned["note"], returned["tags"], returned["status"]) == ("hi", "web,cart", "open")
    assert returned["invoice_url"].startswith("http://localhost/548380009/invoices/")


def test_line_item_price_and_title_come_from_the_catalogue_not_the_request(make_sim):
    client = make_sim(catalogue={"7": {"title": "Shirt", "price": "19.5"}}).test_client()

    body = draft({"variant_id": 7, "quantity": 2, "price": "0.01", "title": "Free!"})
    line = post_draft(client, body).json["draft_order"]["line_items"][0]

    assert (line["price"], line["title"]) == ("19.50", "Shirt")


def test_accepted_mode_answers_202_with_location_and_retry_after(make_sim):
    client = make_sim(mode="accepted", retry_after=3).test_client()

    response = post_draft(client)

    assert response.status_code == 202
    assert response.data == b""
    assert response.headers["Retry-After"] == "3.0"
    assert response.headers["Location"].startswith(f"http://localhost{API}/draft_orders/poll/")


def test_polls_answer_202_until_ready_then_200_and_the_draft_is_counted_once(make_sim):
    sim = make_sim(mode="accepted", accepted_polls=2)
    client, state = sim.test_client(), sim.extensions["shopify_simulator"]
    location = urlsplit(post_draft(client).headers["Location"]).path

    statuses = [client.get(location, headers=HEADERS).status_code for _ in range(4)]

    assert statuses == [202, 202, 200, 200]
    assert [d["name"] for d in state.draft_orders] == ["#D1"]
    assert client.get(location, headers=HEADERS).json["draft_order"]["name"] == "#D1"


def test_accepted_draft_becomes_ready_after_accepted_seconds(make_sim, clock):
    client = make_sim(mode="accepted", accepted_polls=100, accepted_seconds=5).test_client()
    location = urlsplit(post_draft(client).headers["Location"]).path

    assert client.get(location, headers=HEADERS).status_code == 202
    clock.advance(5)
    assert client.get(location, headers=HEADERS).status_code == 200


def test_poll_before_retry_after_is_logged_as_early(make_sim, clock):
    sim = make_sim(mode="accepted", retry_after=2)
    client, state = sim.test_client(), sim.extensions["shopify_simulator"]
    location = urlsplit(post_draft(client).headers["Location"]).path

    clock.advance(1.9)
    client.get(location, headers=HEADERS)
    clock.advance(2.0)
    client.get(location, headers=HEADERS)

    polls = [r for r in state.requests if r["path"] == location]
    assert [r["early"] for r in polls] == [True, False]


def test_unknown_variant_is_rejected_with_422(make_sim):
    client = make_sim(unknown_variants=[123]).test_client()

    response = post_draft(client, draft({"variant_id": 123, "quantity": 1}))

    assert response.status_code == 422
    assert response.json == {"errors": {"line_items": ["Variant 123 does not exist"]}}


def test_variant_missing_from_a_configured_catalogue_is_rejected_with_422(make_sim):
    client = make_sim(catalogue={7: {"title": "Shirt", "price": 10}}).test_client()

    response = post_draft(client, draft({"variant_id": 8, "quantity": 1}))

    assert response.status_code == 422


def test_missing_line_items_are_rejected_with_422(client, state):
    response = post_draft(client, {"draft_order": {"note": "nothing"}})

    assert response.status_code == 422
    assert response.json == {"errors": {"line_items": ["can't be blank"]}}
    assert state.draft_orders == []


@pytest.mark.parametrize("headers", [{"X-Shopify-Access-Token": "wrong"}, {}])
def test_wrong_or_missing_token_is_rejected_with_401(client, headers):
    response = post_draft(client, headers=headers)

    assert response.status_code == 401
    assert response.json == {
        "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
    }


def test_full_bucket_answers_429_with_retry_after(make_sim):
    client = make_sim(bucket_size=3).test_client()
    for _ in range(3):
        assert client.get(f"{API}/shop.json", headers=HEADERS).status_code == 200

    response = client.get(f"{API}/shop.json", headers=HEADERS)

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "0.5"
    assert response.headers["X-Shopify-Shop-Api-Call-Limit"] == "3/3"
    assert response.json["errors"].startswith("Exceeded 2 calls per second for api client.")


def test_bucket_recovers_after_leaking_for_retry_after(make_sim, clock):
    client = make_sim(bucket_size=3).test_client()
    for _ in range(4):
        response = client.get(f"{API}/shop.json", headers=HEADERS)

    clock.advance(float(response.headers["Retry-After"]))

    assert client.get(f"{API}/shop.json", headers=HEADERS).status_code == 200


def test_throttled_requests_do_not_fill_the_bucket(make_sim, clock):
    client = make_sim(bucket_size=2, leak_rate=1).test_client()
    for _ in range(10):
        client.get(f"{API}/shop.json", headers=HEADERS)

    clock.advance(1)

    assert client.get(f"{API}/shop.json", headers=HEADERS).status_code == 200


@pytest.mark.parametrize(
    "method, path, headers",
    [
        ("GET", f"{API}/shop.json", HEADERS),
        ("GET", DRAFTS, HEADERS),
        ("POST", DRAFTS, HEADERS),
        ("POST", DRAFTS, {}),
        ("GET", f"{API}/draft_orders/1.json", HEADERS),
        ("GET", f"{API}/nothing_here.json", HEADERS),
    ],
)
def test_every_admin_answer_carries_the_call_limit_header(client, method, path, headers):
    response = client.open(path, method=method, json=draft(), headers=headers)

    assert response.headers["X-Shopify-Shop-Api-Call-Limit"].endswith("/40")


def test_call_limit_header_counts_calls_in_the_bucket(client):
    for _ in range(2):
        client.get(f"{API}/shop.json", headers=HEADERS)

    assert (
        client.get(f"{API}/shop.json", headers=HEADERS).headers["X-Shopify-Shop-Api-Call-Limit"]
        == "3/40"
    )


def test_access_scopes_lists_the_granted_scopes(client):
    response = client.get("/admin/oauth/access_scopes.json", headers=HEADERS)

    handles = [scope["handle"] for scope in response.json["access_scopes"]]
    assert {"read_draft_orders", "write_draft_orders"} <= set(handles)


def test_removed_write_scope_is_not_listed_and_creation_is_forbidden(client, state):
    state.configure(scopes=["read_draft_orders"])

    scopes = client.get("/admin/oauth/access_scopes.json", headers=HEADERS).json["access_scopes"]

    assert scopes == [{"handle": "read_draft_orders"}]
    assert post_draft(client).status_code == 403


def test_fail_next_fails_that_many_posts_then_recovers(client, state):
    state.configure(fail_next=2, fail_status=500)

    statuses = [post_draft(client).status_code for _ in range(3)]

    assert statuses == [500, 500, 201]
    assert len(state.draft_orders) == 1


def test_dropped_answer_still_creates_the_draft_in_process(client, state):
    state.configure(drop_after_create=1)

    with pytest.raises(ConnectionDropped):
        post_draft(client)

    assert [d["name"] for d in state.draft_orders] == ["#D1"]
    assert state.requests[-1]["dropped"] is True
    assert post_draft(client).status_code == 201


def test_delay_seconds_holds_the_answer_back(client, state):
    state.configure(delay_seconds=0.2)

    started = time.monotonic()
    response = post_draft(client)

    assert response.status_code == 201
    assert time.monotonic() - started >= 0.2


def test_unaccepted_api_version_answers_404(make_sim):
    client = make_sim(api_versions=["2025-10"]).test_client()

    response = client.get("/admin/api/2019-01/shop.json", headers=HEADERS)

    assert (response.status_code, response.json) == (404, {"errors": "Not Found"})


def test_unknown_path_answers_404(client):
    response = client.get(f"{API}/products/nope.json", headers=HEADERS)

    assert (response.status_code, response.json) == (404, {"errors": "Not Found"})


def test_single_draft_order_is_returned_by_id(client):
    created = post_draft(client).json["draft_order"]

    response = client.get(f"{API}/draft_orders/{created['id']}.json", headers=HEADERS)

    assert response.json == {"draft_order": created}


def test_listing_with_since_id_returns_only_later_drafts(client):
    ids = [post_draft(client).json["draft_order"]["id"] for _ in range(3)]

    listed = client.get(DRAFTS, query_string={"since_id": ids[0]}, headers=HEADERS).json

    assert [d["id"] for d in listed["draft_orders"]] == ids[1:]


def next_link(response):
    """The path and query of a Link rel="next", or None on the last page."""
    link = response.headers.get("Link")
    if not link:
        return None
    url = urlsplit(link.split(";")[0].strip("<>"))
    assert "page_info" in parse_qs(url.query)
    return f"{url.path}?{url.query}"


def test_listing_pages_through_link_next(client):
    ids = [post_draft(client).json["draft_order"]["id"] for _ in range(5)]

    pages, url = [], f"{DRAFTS}?limit=2"
    while url:
        response = client.get(url, headers=HEADERS)
        pages.append([d["id"] for d in response.json["draft_orders"]])
        url = next_link(response)

    assert pages == [ids[0:2], ids[2:4], ids[4:]]


def test_listing_with_updated_at_min_in_the_future_is_empty(client):
    post_draft(client)

    listed = client.get(
        DRAFTS, query_string={"updated_at_min": "2999-01-01T00:00:00Z"}, headers=HEADERS
    )

    assert listed.json == {"draft_orders": []}


def test_control_api_configures_the_simulator(client):
    assert client.post("/_sim/config", json={"unknown_variants": [5]}).status_code == 200

    assert post_draft(client, draft({"variant_id": 5, "quantity": 1})).status_code == 422


def test_control_api_rejects_unknown_settings(client):
    assert client.post("/_sim/config", json={"moed": "accepted"}).status_code == 400


def test_control_api_reads_back_draft_orders_and_requests(client):
    created = post_draft(client).json["draft_order"]

    assert client.get("/_sim/draft_orders").json == {"draft_orders": [created]}
    logged = client.get("/_sim/requests").json["requests"]
    assert [(r["method"], r["path"], r["status"]) for r in logged] == [("POST", DRAFTS, 201)]


def test_control_api_reset_restores_factory_config_and_forgets_everything(make_sim):
    client = make_sim(bucket_size=10).test_client()
    post_draft(client)
    client.post("/_sim/config", json={"mode": "accepted", "bucket_size": 99})

    client.post("/_sim/reset")

    config = client.get("/_sim/config").json
    assert (config["mode"], config["bucket_size"]) == ("created", 10)
    assert client.get("/_sim/draft_orders").json == {"draft_orders": []}
    assert post_draft(client).json["draft_order"]["name"] == "#D1"


@pytest.fixture
def served():
    with shopify_simulator(TOKEN) as shop:
        yield shop.server


def test_served_simulator_points_its_urls_back_at_itself(served):
    requests.post(
        f"{served.url}/_sim/config", json={"mode": "accepted", "accepted_polls": 0}, timeout=5
    )

    accepted = requests.post(served.url + DRAFTS, json=draft(), headers=HEADERS, timeout=5)
    ready = requests.get(accepted.headers["Location"], headers=HEADERS, timeout=5)

    assert accepted.headers["Location"].startswith(served.url + "/")
    assert ready.json()["draft_order"]["invoice_url"].startswith(served.url + "/")


def test_served_simulator_drops_the_connection_after_creating(served):
    requests.post(f"{served.url}/_sim/config", json={"drop_after_create": 1}, timeout=5)

    with pytest.raises(requests.ConnectionError):
        requests.post(served.url + DRAFTS, json=draft(), headers=HEADERS, timeout=5)

    stored = requests.get(f"{served.url}/_sim/draft_orders", timeout=5).json()["draft_orders"]
    assert [d["name"] for d in stored] == ["#D1"]


def test_delay_before_seconds_holds_the_request_back_before_doing_anything(served):
    requests.post(f"{served.url}/_sim/config", json={"delay_before_seconds": 0.5}, timeout=5)

    with pytest.raises(requests.Timeout):
        requests.post(served.url + DRAFTS, json=draft(), headers=HEADERS, timeout=0.1)

    stored = requests.get(f"{served.url}/_sim/draft_orders", timeout=5).json()["draft_orders"]
    assert stored == []


def test_a_request_held_by_delay_before_seconds_is_handled_after_its_client_gave_up(served):
    requests.post(f"{served.url}/_sim/config", json={"delay_before_seconds": 0.2}, timeout=5)
    with pytest.raises(requests.Timeout):
        requests.post(served.url + DRAFTS, json=draft(), headers=HEADERS, timeout=0.05)

    deadline = time.monotonic() + 5
    while not requests.get(f"{served.url}/_sim/draft_orders", timeout=5).json()["draft_orders"]:
        assert time.monotonic() < deadline, "the held request was never handled"
        time.sleep(0.02)


def test_arrivals_list_a_request_before_delay_before_seconds_has_passed(served):
    requests.post(f"{served.url}/_sim/config", json={"delay_before_seconds": 0.5}, timeout=5)
    with pytest.raises(requests.Timeout):
        requests.post(served.url + DRAFTS, json=draft(), headers=HEADERS, timeout=0.1)

    arrivals = requests.get(f"{served.url}/_sim/arrivals", timeout=5).json()["arrivals"]
    answered = requests.get(f"{served.url}/_sim/requests", timeout=5).json()["requests"]
    assert [(a["method"], a["path"]) for a in arrivals] == [("POST", DRAFTS)]
    assert answered == []


def test_control_api_rejects_a_negative_delay_before_seconds(client):
    assert client.post("/_sim/config", json={"delay_before_seconds": -1}).status_code == 400


@pytest.mark.parametrize(
    "method, path",
    [("POST", DRAFTS), ("GET", DRAFTS), ("GET", f"{API}/shop.json"),
     ("GET", "/admin/oauth/access_scopes.json")],
)
def test_down_answers_every_admin_request_with_503(client, state, method, path):
    state.configure(down=True)

    response = client.open(path, method=method, json=draft(), headers=HEADERS)

    assert (response.status_code, response.json) == (503, {"errors": "Service Unavailable"})


def test_down_creates_nothing_and_spends_no_call_limit(client, state):
    state.configure(down=True)
    for _ in range(3):
        post_draft(client)
    state.configure(down=False)

    response = post_draft(client)

    assert state.draft_orders == [response.json["draft_order"]]
    assert response.headers["X-Shopify-Shop-Api-Call-Limit"] == "1/40"


def test_down_status_chooses_the_outage_answer(client, state):
    state.configure(down=True, down_status=502)

    assert post_draft(client).status_code == 502


def test_down_is_logged_like_any_other_answer(client, state):
    state.configure(down=True)

    post_draft(client)

    assert [(r["method"], r["status"]) for r in state.requests] == [("POST", 503)]


def test_control_api_switches_down_on_and_off(client):
    assert client.post("/_sim/config", json={"down": True}).status_code == 200
    assert post_draft(client).status_code == 503
    assert client.post("/_sim/config", json={"down": False}).status_code == 200
    assert post_draft(client).status_code == 201


def test_control_api_rejects_a_down_that_is_not_a_boolean(client):
    assert client.post("/_sim/config", json={"down": "yes"}).status_code == 400


def test_served_simulator_refuses_connections_until_it_accepts_them_again(served):
    requests.post(served.url + DRAFTS, json=draft(), headers=HEADERS, timeout=5)
    served.refuse_connections()
    try:
        with pytest.raises(requests.ConnectionError):
            requests.post(served.url + DRAFTS, json=draft(), headers=HEADERS, timeout=5)
    finally:
        served.accept_connections()

    again = requests.post(served.url + DRAFTS, json=draft(), headers=HEADERS, timeout=5)

    assert again.json()["draft_order"]["name"] == "#D2"


def test_accepted_listed_lists_the_draft_as_soon_as_it_answers_202(make_sim):
    client = make_sim(mode="accepted", accepted_listed=True).test_client()

    assert post_draft(client).status_code == 202

    listed = client.get(DRAFTS, headers=HEADERS).json["draft_orders"]
    assert [d["name"] for d in listed] == ["#D1"]


def test_accepted_listed_polls_answer_202_until_ready_then_the_listed_draft(make_sim):
    sim = make_sim(mode="accepted", accepted_polls=2, accepted_listed=True)
    client, state = sim.test_client(), sim.extensions["shopify_simulator"]
    location = urlsplit(post_draft(client).headers["Location"]).path

    answers = [client.get(location, headers=HEADERS) for _ in range(3)]

    assert [a.status_code for a in answers] == [202, 202, 200]
    assert answers[-1].json["draft_order"] == state.draft_orders[0]
    assert len(state.draft_orders) == 1


def test_control_api_rejects_an_accepted_listed_that_is_not_a_boolean(client):
    assert client.post("/_sim/config", json={"accepted_listed": 1}).status_code == 400


def test_shop_admin_page_of_a_draft_order_opens_without_an_access_token(client, state):
    created = post_draft(client, draft(note="<b>gift</b>")).get_json()["draft_order"]

    page = client.get(f"/admin/draft_orders/{created['id']}")

    assert page.status_code == 200
    assert "Draft order #D1" in page.text
    assert "&lt;b&gt;gift&lt;/b&gt;" in page.text
    assert [r["path"] for r in state.snapshot("requests")] == [DRAFTS]  # not an API call


def test_shop_admin_page_of_an_unknown_draft_order_is_404(client):
    assert client.get("/admin/draft_orders/1").status_code == 404


def test_invoice_url_of_a_draft_order_serves_its_invoice(client):
    created = post_draft(client).get_json()["draft_order"]

    page = client.get(urlsplit(created["invoice_url"]).path)

    assert page.status_code == 200
    assert "Invoice #D1" in page.text


def test_invoice_url_with_an_unknown_token_is_404(client):
    post_draft(client)

    assert client.get("/548380009/invoices/0123456789abcdef").status_code == 404
