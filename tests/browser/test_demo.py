"""The README's quick start: `flask --app app demo` with no configuration at all,
then one click on the demo storefront gives a draft order."""

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from servers import running_demo


@pytest.fixture
def demo(tmp_path):
    with running_demo(tmp_path) as (_, port):
        yield {"storefront": f"http://127.0.0.1:{port + 2}",
               "simulator": f"http://127.0.0.1:{port + 1}"}


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
