"""`flask --app app demo` from the outside: what a newcomer meets before and
after the click that tests/browser/test_demo.py makes."""

import html
import os
import re
import socket
import subprocess
import sys
import time
import tomllib

import pytest
import requests
from click.testing import CliRunner
from helpers import cart_body, settings
from servers import PROJECT_ROOT, demo_command, free_ports_in_a_row, running_demo

from app.dev.cli import demo_command as demo_cli
from app.dev.demo import (
    ADMIN_PASSWORD,
    CLIENT_ID,
    CLIENT_SECRET,
    CUSTOMER,
    banner,
    demo_shop,
    receiver_settings,
    sample_cart,
    start,
    stop,
    token_lives,
)
from app.dev.demo import SECRET as DEMO_SECRET
from app.dev.simulator import create_simulator
from app.intake.signature import sign

RECEIVER = "http://127.0.0.1:8080"
URLS = {"receiver": RECEIVER, "simulator": "http://127.0.0.1:8081",
        "storefront": "http://127.0.0.1:8082"}


def modules_after(code, **env):
    """The `app` modules a fresh interpreter holds after running `code`."""
    shown = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\n"
                               "print(' '.join(m for m in sys.modules if m.startswith('app')))"],
        cwd=PROJECT_ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    return shown.stdout.split()


def test_flask_plugin_commands_import_neither_the_simulator_nor_the_demo():
    # Flask imports every plugin command's module on each `flask` run.
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    targets = pyproject["project"]["entry-points"]["flask.commands"].values()
    loads = "\n".join(f"from {target.replace(':', ' import ')}" for target in targets)

    loaded = modules_after(loads)

    assert not [name for name in loaded if name.endswith((".simulator", ".demo"))]


def test_the_request_path_imports_no_dev_tool(tmp_path):
    loaded = modules_after("import app.wsgi", **settings(tmp_path))

    assert "app.wsgi" in loaded
    assert not [name for name in loaded if name.startswith("app.dev")]


def test_demo_port_leaving_no_room_for_the_next_two_is_a_usage_error():
    result = CliRunner().invoke(demo_cli, ["--port", "65534"])

    assert result.exit_code == 2
    assert "65534" in result.output


def test_demo_on_a_busy_port_names_that_port_and_the_port_option(tmp_path):
    port = free_ports_in_a_row(3)
    command, environ = demo_command(port)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port + 1))
        squatter.listen()
        finished = subprocess.run(command, cwd=tmp_path, env=environ, capture_output=True,
                                  text=True, timeout=60)

    assert finished.returncode == 1
    assert f"port {port + 1} (the simulator)" in finished.stderr
    assert "--port" in finished.stderr
    assert "is in use by another program" not in finished.stderr  # Werkzeug's own message


@pytest.mark.slow
def test_demo_stopped_by_sigterm_removes_its_temporary_folder(tmp_path):
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    with running_demo(tmp_path, TMPDIR=str(temporary)) as (process, _):
        [folder] = temporary.glob("cart-draft-demo-*")
        process.terminate()
        process.wait(timeout=10)

    assert not folder.exists()


def send_to_completion(running, body):
    """Post a cart to the demo's receiver as its storefront does; the accepted
    document once the draft order is made."""
    accepted = requests.post(f"{running['receiver'].url}/webhooks/cart", json=body,
                             headers={"Origin": running["storefront"].url}, timeout=5)
    assert accepted.status_code == 202, accepted.text
    deadline = time.monotonic() + 20
    while requests.get(accepted.json()["status_url"], timeout=5).json()[
            "status"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return accepted.json()


@pytest.mark.slow
def test_demo_output_to_a_file_or_pipe_carries_no_colour_codes(tmp_path):
    # Werkzeug colours a request's line by its status; colorama, where installed,
    # would strip the codes off a stream that is no terminal, so it is hidden here.
    hidden = tmp_path / "no-colorama" / "colorama"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text('raise ImportError("hidden by the test")\n')
    path = os.pathsep.join(filter(None, [str(hidden.parent), os.environ.get("PYTHONPATH")]))
    with running_demo(tmp_path, PYTHONPATH=path) as (process, port):
        storefront = f"http://127.0.0.1:{port + 2}"
        assert requests.get(f"{storefront}/", allow_redirects=False, timeout=5).status_code == 302
        assert requests.get(f"{storefront}/nowhere", timeout=5).status_code == 404
        process.terminate()
        process.wait(timeout=10)
        output = process.stdout.read()

    assert '"GET / HTTP/1.1" 302' in output and '"GET /nowhere HTTP/1.1" 404' in output
    assert "\x1b[" not in output


def test_demo_event_page_links_to_pages_that_open(tmp_path):
    running = start(tmp_path)
    try:
        receiver = running["receiver"].url
        accepted = send_to_completion(running, cart_body(signature=sign(207119551, DEMO_SECRET)))

        page = requests.get(f"{receiver}/admin/events/{accepted['id']}",
                            auth=("merchant", ADMIN_PASSWORD), timeout=5)
        draft_link, invoice_link = re.findall(r'<a href="(http[^"]+)" rel="noreferrer">',
                                              page.text)

        assert requests.get(html.unescape(draft_link), timeout=5).status_code == 200
        assert requests.get(html.unescape(invoice_link), timeout=5).status_code == 200
    finally:
        stop(running)


@pytest.mark.parametrize("api", ["rest", "graphql"])
def test_demo_invoice_shows_the_sample_carts_titles_prices_and_total_with_either_api(
        tmp_path, api):
    cart = sample_cart()
    running = start(tmp_path, api=api)
    try:
        send_to_completion(running, {"cart": cart, "customerId": CUSTOMER["id"],
                                     "customerIdSignature": sign(CUSTOMER["id"], DEMO_SECRET)})
        [draft] = running["shop"].snapshot("draft_orders")
        invoice = html.unescape(requests.get(draft["invoice_url"], timeout=5).text)
    finally:
        stop(running)

    assert [(li["title"], li["price"], li["quantity"]) for li in draft["line_items"]] == [
        (item["title"], f"{item['price'] / 100:.2f}", item["quantity"]) for item in cart["items"]]
    assert draft["subtotal_price"] == f"{cart['total_price'] / 100:.2f}" == "59.00"
    assert "Shirt - M" in invoice and "Subtotal 59.00 USD" in invoice
    assert "Simulated product" not in invoice


def test_demo_receiver_runs_on_the_apps_client_id_and_secret_alone(tmp_path):
    settings = receiver_settings("http://127.0.0.1:8081", RECEIVER, URLS["storefront"], tmp_path)

    assert (settings["SHOPIFY_CLIENT_ID"], settings["SHOPIFY_CLIENT_SECRET"]) == (
        CLIENT_ID, CLIENT_SECRET)
    assert not {"SHOPIFY_ACCESS_TOKEN", "SHOPIFY_WEBHOOK_SECRET", "PUBLIC_URL"} & set(settings)


def test_demo_receiver_installed_by_oauth_knows_its_own_address(tmp_path):
    settings = receiver_settings("http://127.0.0.1:8081", RECEIVER, URLS["storefront"], tmp_path,
                                 oauth=True)

    assert settings["PUBLIC_URL"] == RECEIVER
    assert "SHOPIFY_ACCESS_TOKEN" not in settings


def test_demo_shop_gives_client_credentials_and_signs_webhooks_with_the_client_secret():
    sim = create_simulator(demo_shop())
    state = sim.extensions["shopify_simulator"]

    answer = sim.test_client().post("/admin/oauth/access_token", data={
        "grant_type": "client_credentials", "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET})

    assert answer.status_code == 200
    assert state.config["webhook_secret"] is None  # signed with the client secret


def test_demo_shop_for_oauth_refuses_client_credentials_until_installed():
    client = create_simulator(demo_shop(oauth=True, receiver_url=RECEIVER)).test_client()

    answer = client.post("/admin/oauth/access_token", data={
        "grant_type": "client_credentials", "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET})

    assert answer.json["error"] == "shop_not_permitted"


def test_demo_shop_for_oauth_launches_the_receivers_install_and_allows_its_callback():
    sim = create_simulator(demo_shop(oauth=True, receiver_url=RECEIVER))
    client, config = sim.test_client(), sim.extensions["shopify_simulator"].config

    launch = client.get("/_sim/launch")

    assert launch.headers["Location"].startswith(f"{RECEIVER}/auth/shopify?")
    assert config["redirect_urls"] == [f"{RECEIVER}/auth/shopify/callback"]
    assert (config["organization"], config["installed"]) == (False, False)


def test_demo_token_seconds_shortens_both_token_lives():
    assert token_lives(30) == {"token_seconds": 30, "expiring_seconds": 30}


def test_demo_banner_shows_the_client_id_and_secret():
    text = banner(URLS)

    assert f"client id '{CLIENT_ID}'" in text and f"client secret '{CLIENT_SECRET}'" in text
    assert "Install the app" not in text


def test_demo_banner_with_oauth_starts_with_the_install_link():
    text = banner(URLS, oauth=True)

    first_step = text.splitlines()[1]
    assert first_step.strip() == "1. Install the app: open http://127.0.0.1:8081/_sim/launch"


def test_demo_command_passes_oauth_and_token_seconds_on(monkeypatch):
    calls = []
    monkeypatch.setattr("app.dev.demo.run", lambda *args: calls.append(args))

    result = CliRunner().invoke(demo_cli, ["--oauth", "--token-seconds", "30", "--api",
                                           "graphql"])

    assert result.exit_code == 0, result.output
    assert calls == [(8080, True, "graphql", True, 30, "hmac")]  # installed later: no proxy yet


def test_demo_command_renders_the_app_proxy_snippet_by_default(monkeypatch):
    calls = []
    monkeypatch.setattr("app.dev.demo.run", lambda *args: calls.append(args))

    assert CliRunner().invoke(demo_cli, []).exit_code == 0
    assert CliRunner().invoke(demo_cli, ["--snippet", "hmac"]).exit_code == 0
    assert [call[-1] for call in calls] == ["proxy", "hmac"]


@pytest.mark.slow
def test_demo_storefront_forwards_its_app_proxy_with_the_customer_signed(tmp_path):
    running = start(tmp_path)
    try:
        storefront = running["storefront"].url
        accepted = requests.post(f"{storefront}/apps/send-cart/cart",
                                 json={"cart": sample_cart()}, timeout=10)
        assert accepted.status_code == 202, accepted.text
        status_url = accepted.json()["status_url"]
        deadline = time.monotonic() + 20
        while requests.get(storefront + status_url, timeout=5).json()["status"] != "completed":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        [draft] = running["shop"].snapshot("draft_orders")
    finally:
        stop(running)

    assert status_url.startswith("/apps/send-cart/events/")
    assert draft["customer"]["id"] == CUSTOMER["id"]
