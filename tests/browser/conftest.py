"""Three loopback origins for real-browser tests, as in production: the Shopify
simulator (a thread), the receiver (the Procfile's web command, in-process worker) and a fake
storefront (a thread) that renders templates/snippet.liquid with a real Liquid
engine and serves /cart.js. Headless Debian Chromium drives the storefront page.

Servers and the browser start once per session; each test gets a reset
simulator and storefront, and a fresh page.
"""

import os
import time
from pathlib import Path

import pytest
from servers import procfile_receiver, serve, shopify_simulator

from app.dev.demo import SECRET, Storefront

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")  # tests set a missing one
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run")
TOKEN = "shpat_browser_test_token"
GUEST_MIN_FILL_SECONDS = 2  # the receiver's, shorter than the default 3 to keep tests quick

# Records what the page's own scripts throw, independently of Chrome's log format.
ERROR_HOOK = """<script>
  window.__pageErrors = [];
  addEventListener("error", function (e) { __pageErrors.push(String(e.message)); });
  addEventListener("unhandledrejection", function (e) { __pageErrors.push(String(e.reason)); });
</script>"""


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(items):
    """Every test here is `slow`: each drives Chromium against a receiver process,
    a second or more, and the first pays seconds of starting both."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def simulator_server():
    with shopify_simulator(TOKEN) as shop:
        yield shop


@pytest.fixture(scope="session")
def storefront_server():
    storefront = Storefront(head=ERROR_HOOK)
    with serve(storefront.app()) as server:
        storefront.url = server.url
        yield storefront


@pytest.fixture(scope="session")
def receiver(simulator_server, storefront_server, tmp_path_factory):
    with procfile_receiver(tmp_path_factory.mktemp("receiver"), simulator_server.url, TOKEN,
                           SECRET, allowed_origins=storefront_server.url,
                           GUEST_MIN_FILL_SECONDS=str(GUEST_MIN_FILL_SECONDS),
                           GUEST_CUSTOM_FIELDS="PO number") as running:
        yield running


def chromium_options(profile_dir):
    """Headless Debian Chromium's options, its profile in `profile_dir` (also
    bench/click_to_name.py's)."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile_dir}")
    return options


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    options = chromium_options(tmp_path_factory.mktemp("chromium-profile"))
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    except (WebDriverException, OSError) as error:
        said = (getattr(error, "msg", None) or str(error)).strip().partition("\n")[0]
        pytest.skip("the browser tests need Debian's Chromium and its driver: apt-get install "
                    f"chromium chromium-driver (Chromium did not start: {said})")
    yield driver
    driver.quit()


@pytest.fixture
def simulator(simulator_server):
    simulator_server.state.reset()
    return simulator_server


@pytest.fixture
def storefront(storefront_server, receiver, simulator):
    storefront_server.reset()
    storefront_server.receiver_url = receiver.url
    return storefront_server


@pytest.fixture
def open_cart(browser, storefront):
    """Load the cart page and wait for our script; the console log starts empty."""

    def open_page():
        browser.get(f"{storefront.url}/cart")
        WebDriverWait(browser, 10).until(
            lambda driver: driver.execute_script("return !!window.CartDraftOrder"))
        browser.get_log("browser")  # drain what earlier pages logged
        return browser

    return open_page



@pytest.fixture
def open_guest_cart(browser, storefront):
    """Load the demo's guest cart page and wait for the script's contact form."""
    def open_page():
        browser.get(f"{storefront.url}/guest/cart")
        WebDriverWait(browser, 10).until(
            lambda driver: driver.find_elements(By.CSS_SELECTOR, "[data-guest-field]"))
        browser.get_log("browser")
        return browser

    return open_page


@pytest.fixture
def fill_guest_form():
    """fill(driver, wait=True, **values): type `values` (field name -> text) into
    the guest form, then let the receiver's minimum fill time pass."""

    def fill(driver, wait=True, **values):
        for name, text in values.items():
            field = driver.find_element(By.CSS_SELECTOR, f'[data-guest-field="guest.{name}"]')
            field.clear()
            field.send_keys(text)
        if wait:
            time.sleep(GUEST_MIN_FILL_SECONDS + 0.2)

    return fill
