"""The README's quick start: `flask --app app demo` with no configuration at all,
then one click on the demo storefront gives a draft order."""

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import Select, WebDriverWait
from servers import running_demo


def addresses(port):
    return {"storefront": f"http://127.0.0.1:{port + 2}",
            "simulator": f"http://127.0.0.1:{port + 1}"}


@pytest.fixture
def demo(tmp_path):
    with running_demo(tmp_path) as (_, port):
        yield addresses(port)


@pytest.fixture
def graphql_demo(tmp_path):
    with running_demo(tmp_path, "--api", "graphql") as (_, port):
        yield addresses(port)


def reload_after(browser, action):
    """Do `action`, which loads the cart page again, and wait until it has."""
    page = browser.find_element(By.TAG_NAME, "html")
    action()
    WebDriverWait(browser, 10).until(staleness_of(page))


def send_cart(browser):
    """Press the button; the status line once the shopper's page has an outcome."""
    browser.find_element(By.ID, "mechanic_cart_submit").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_element(
        By.CSS_SELECTOR, "[data-cart-draft-order-status]").get_attribute("data-state")
        in ("success", "error"))
    return browser.find_element(By.CSS_SELECTOR, "[data-cart-draft-order-status]").text


def test_demo_turns_a_click_into_a_draft_order_without_any_configuration(demo, browser):
    browser.get(f"{demo['storefront']}/cart")
    assert send_cart(browser) == ("Your cart was sent: draft order #D1. "
                                  "Invoice sent to your email")
    [draft] = requests.get(f"{demo['simulator']}/_sim/draft_orders", timeout=5).json()[
        "draft_orders"]
    assert draft["customer"] == {"id": 207119551}
    assert [line["variant_id"] for line in draft["line_items"]] == [39072856, 457924702]


def test_graphql_demo_drafts_in_the_chosen_currency_with_the_code_and_without_the_sold_out_item(
        graphql_demo, browser):
    browser.get(f"{graphql_demo['storefront']}/cart")
    Select(browser.find_element(By.NAME, "code")).select_by_visible_text("EUR")
    reload_after(browser, lambda: browser.find_element(
        By.CSS_SELECTOR, "form[action='/cart/currency'] button").click())
    browser.find_element(By.CSS_SELECTOR, "input[name=code]").send_keys("SPRING10")
    reload_after(browser, lambda: browser.find_element(
        By.CSS_SELECTOR, "form[action='/cart/discount'] button").click())
    reload_after(browser, lambda: browser.find_element(
        By.LINK_TEXT, "Add a sold-out poster").click())

    assert send_cart(browser) == ("Your cart was sent: draft order #D1. Invoice sent to your "
                                  "email. Not included: Poster (sold out), out of stock.")
    [draft] = requests.get(f"{graphql_demo['simulator']}/_sim/draft_orders", timeout=5).json()[
        "draft_orders"]
    assert (draft["currency"], draft["discount_codes"]) == ("EUR", ["SPRING10"])
    assert [line["variant_id"] for line in draft["line_items"]] == [39072856, 457924702]


@pytest.mark.parametrize("api", ["rest", "graphql"])
def test_demo_round_trip_the_invoice_is_sent_paid_and_the_shopper_s_page_says_so(
        tmp_path, browser, api):
    with running_demo(tmp_path, "--api", api) as (_, port):
        demo = addresses(port)
        browser.get(f"{demo['storefront']}/cart")
        send_cart(browser)
        status = browser.find_element(By.CSS_SELECTOR, "[data-cart-draft-order-status]")
        WebDriverWait(browser, 30).until(lambda d: "Invoice sent to your email" in status.text)
        [invoice] = requests.get(f"{demo['simulator']}/_sim/invoices", timeout=5).json()[
            "invoices"]
        assert invoice["to"] == "customer207119551@example.com"

        storefront = browser.current_window_handle
        browser.find_element(By.ID, "demo-invoice-link").click()
        browser.switch_to.window([h for h in browser.window_handles if h != storefront][0])
        browser.find_element(By.XPATH, "//button[normalize-space()='Pay now']").click()
        WebDriverWait(browser, 10).until(lambda d: "Paid: order #1001" in d.page_source)
        browser.close()
        browser.switch_to.window(storefront)

        WebDriverWait(browser, 30).until(lambda d: "Paid: order #1001" in status.text)
        assert status.text.startswith("Your cart was sent: draft order #D1. Paid: order #1001")


def test_demo_oauth_install_then_a_cart_becomes_a_draft_order(tmp_path, browser):
    """`flask --app app demo --oauth`: a cart sent before the install waits
    (the shop does not permit client credentials); the merchant opens the
    install link, approves the app, and the waiting cart becomes a draft."""
    with running_demo(tmp_path, "--oauth") as (_, port):
        demo = addresses(port)
        browser.get(f"{demo['storefront']}/cart")
        browser.find_element(By.ID, "mechanic_cart_submit").click()
        status = browser.find_element(By.CSS_SELECTOR, "[data-cart-draft-order-status]")
        WebDriverWait(browser, 10).until(lambda d: status.get_attribute("data-state")
                                         == "waiting")
        storefront = browser.current_window_handle

        browser.switch_to.new_window("tab")
        browser.get(f"{demo['simulator']}/_sim/launch")  # Shopify opens the app URL
        WebDriverWait(browser, 10).until(lambda d: "Install app" in d.page_source)
        browser.find_element(By.XPATH, "//button[normalize-space()='Install app']").click()
        WebDriverWait(browser, 10).until(lambda d: "Connected" in d.page_source)
        assert "shpat_" not in browser.page_source and "shprt_" not in browser.page_source
        browser.close()
        browser.switch_to.window(storefront)

        WebDriverWait(browser, 40).until(lambda d: status.get_attribute("data-state")
                                         == "success")
        assert status.text.startswith("Your cart was sent: draft order #D1.")
        grants = [request["grant_type"] for request in requests.get(
            f"{demo['simulator']}/_sim/token_requests", timeout=5).json()["token_requests"]]
        assert grants[-1] == "authorization_code"
