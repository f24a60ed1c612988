"""The README's quick start: `flask --app app demo` with no configuration at all,
then one click on the demo storefront gives a draft order."""

import os
import socket
import subprocess
import sys
import time

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def three_free_ports():
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        try:
            for port in (base, base + 1, base + 2):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    pytest.skip("no three consecutive free ports on 127.0.0.1")


@pytest.fixture
def demo(tmp_path):
    port = three_free_ports()
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith(("SHOPIFY_", "SHARED_", "DATABASE_", "ALLOWED_"))}
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "demo",
                                "--port", str(port)], cwd=tmp_path, env=environ,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    storefront = f"http://127.0.0.1:{port + 2}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).raise_for_status()
            break
        except requests.RequestException:
            assert process.poll() is None, process.stdout.read()
            time.sleep(0.1)
    yield {"storefront": storefront, "simulator": f"http://127.0.0.1:{port + 1}"}
    process.terminate()
    process.wait(timeout=10)


def test_demo_turns_a_click_into_a_draft_order_without_any_configuration(demo, browser):
    browser.get(f"{demo['storefront']}/cart")
    browser.find_element(By.ID, "mechanic_cart_submit").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_element(
        By.CSS_SELECTOR, "[data-cart-draft-order-status]").get_attribute("data-state")
        in ("success", "error"))

    status = browser.find_element(By.CSS_SELECTOR, "[data-cart-draft-order-status]")
    assert status.text == "Your cart was sent: draft order #D1"
    [draft] = requests.get(f"{demo['simulator']}/_sim/draft_orders", timeout=5).json()[
        "draft_orders"]
    assert draft["customer"] == {"id": 207119551}
    assert [line["variant_id"] for line in draft["line_items"]] == [39072856, 457924702]
