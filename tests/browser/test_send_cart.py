"""The storefront button in a real browser, against the receiver under the Procfile's web command
and the Shopify simulator: what the shopper sees and what Shopify receives."""

import sqlite3
import time

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from servers import free_port

from app.dev.demo import CUSTOMER, sample_cart

WAIT = 15


def button(driver):
    return driver.find_element(By.ID, "mechanic_cart_submit")


def status(driver):
    return driver.find_element(By.CSS_SELECTOR, "[data-cart-draft-order-status]")


def click_and_wait(driver, final_states=("success", "error")):
    button(driver).click()
    WebDriverWait(driver, WAIT).until(
        lambda d: status(d).get_attribute("data-state") in final_states)
    return status(driver)


def line_items(cart):
    """The cart's lines as the draft order should carry them."""
    return [(item["variant_id"], item["quantity"],
             [{"name": k, "value": v} for k, v in item["properties"].items()])
            for item in cart["items"]]


def draft_lines(draft):
    return [(li["variant_id"], li["quantity"], li["properties"]) for li in draft["line_items"]]


def set_attribute(driver, name, value):
    driver.execute_script("arguments[0].setAttribute(arguments[1], arguments[2])",
                          button(driver), name, value)


def event_count(receiver):
    with sqlite3.connect(receiver.database_path) as db:
        return db.execute("SELECT count(*) FROM events").fetchone()[0]


def test_click_creates_a_draft_order_with_the_cart_and_the_customer(open_cart, simulator):
    driver = open_cart()

    shown = click_and_wait(driver)

    assert shown.text == "Your cart was sent: draft order #D1"
    [draft] = simulator.state.draft_orders
    assert draft_lines(draft) == line_items(sample_cart())
    assert draft["customer"] == {"id": CUSTOMER["id"]}
    assert draft["note"] == "Gift wrap, please"


def test_the_cart_as_changed_after_page_load_is_the_one_sent(open_cart, storefront, simulator):
    driver = open_cart()
    changed = sample_cart()
    changed["items"][0]["quantity"] = 5
    changed["items"].append({"id": 808950810, "variant_id": 808950810, "quantity": 3,
                             "properties": {"Size": "XL"}})
    storefront.cart = changed

    click_and_wait(driver)

    [draft] = simulator.state.draft_orders
    assert draft_lines(draft) == line_items(changed)


def test_the_rendered_cart_is_sent_when_cart_js_fails(open_cart, storefront, simulator):
    driver = open_cart()
    storefront.cart = {**sample_cart(), "items": sample_cart()["items"][:1]}
    storefront.cart_js_fails = True

    click_and_wait(driver)

    [draft] = simulator.state.draft_orders
    assert draft_lines(draft) == line_items(sample_cart())


def test_a_double_click_creates_one_draft_order(open_cart, receiver, simulator):
    driver = open_cart()
    events_before = event_count(receiver)

    ActionChains(driver).double_click(button(driver)).perform()
    WebDriverWait(driver, WAIT).until(
        lambda d: status(d).get_attribute("data-state") == "success")
    time.sleep(0.5)  # room for a second submission to show up, were there one

    assert event_count(receiver) - events_before == 1
    assert len(simulator.state.draft_orders) == 1


def test_the_button_is_disabled_while_sending(open_cart, simulator):
    # Shopify answers after a second: with the long poll the page would
    # otherwise hear of the draft before the check below reads the button.
    simulator.state.configure(delay_seconds=1.0)
    driver = open_cart()

    button(driver).click()

    assert button(driver).get_attribute("disabled") is not None
    WebDriverWait(driver, WAIT).until(lambda d: status(d).get_attribute("data-state") == "success")
    assert button(driver).get_attribute("disabled") is None


def test_receiver_down_shows_a_readable_message_without_script_errors(open_cart, simulator):
    driver = open_cart()
    closed = f"http://127.0.0.1:{free_port()}"
    set_attribute(driver, "data-receiver-url", closed)

    shown = click_and_wait(driver)

    assert shown.get_attribute("data-state") == "error"
    assert shown.text.startswith("We couldn't reach the store's draft order service.")
    assert driver.execute_script("return window.__pageErrors") == []
    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    # Chrome logs the refused connection itself (source "network"); an uncaught
    # exception or unhandled rejection from a script would have source "javascript".
    assert [e for e in severe if e["source"] != "network"] == []
    assert all(e["message"].startswith(f"{closed}/webhooks/cart ") for e in severe)
    assert button(driver).is_enabled()
    assert simulator.state.draft_orders == []


def test_a_wrong_secret_shows_why_the_customer_was_not_confirmed(open_cart, storefront, simulator):
    storefront.secret = "not-the-shared-secret"
    driver = open_cart()

    shown = click_and_wait(driver)

    assert shown.get_attribute("data-state") == "error"
    assert shown.text == ("We couldn't confirm your customer account. Please reload the page "
                          "and try again; if that does not help, contact the store.")
    assert simulator.state.draft_orders == []


def test_a_guest_cart_becomes_a_draft_order_without_a_customer(open_guest_cart, fill_guest_form,
                                                               simulator):
    driver = open_guest_cart()
    fill_guest_form(driver, email="guest@example.com")

    click_and_wait(driver)

    [draft] = simulator.state.draft_orders
    assert draft["customer"] is None


def test_a_custom_success_message_names_the_draft_order(open_cart):
    driver = open_cart()
    set_attribute(driver, "data-message-success", "Quote {name} is on its way.")

    shown = click_and_wait(driver)

    assert shown.text == "Quote #D1 is on its way."


def test_the_full_webhook_url_works_as_the_receiver_url(open_cart, receiver, simulator):
    driver = open_cart()
    set_attribute(driver, "data-receiver-url", f"{receiver.url}/webhooks/cart/")

    shown = click_and_wait(driver)

    assert shown.get_attribute("data-state") == "success"
    assert len(simulator.state.draft_orders) == 1


def test_a_status_element_is_created_when_the_page_has_none(open_cart):
    driver = open_cart()
    driver.execute_script("document.querySelector('[data-cart-draft-order-status]').remove()")

    shown = click_and_wait(driver)

    assert shown.text == "Your cart was sent: draft order #D1"
    assert shown.get_attribute("aria-live") == "polite"
    assert driver.execute_script(
        "return arguments[0].previousElementSibling.id", shown) == "mechanic_cart_submit"


def test_a_second_button_added_later_sends_the_cart_too(open_cart, simulator):
    driver = open_cart()
    second = driver.execute_script("""
        var copy = document.getElementById("mechanic_cart_submit").cloneNode(true);
        copy.removeAttribute("id");
        document.body.appendChild(copy);
        return copy;""")

    second.click()
    WebDriverWait(driver, WAIT).until(lambda d: driver.execute_script(
        "return arguments[0].nextElementSibling.dataset.state", second) == "success")

    assert len(simulator.state.draft_orders) == 1
    assert status(driver).get_attribute("data-state") is None


def test_redirect_to_invoice_lands_on_the_invoice_url(open_cart, simulator):
    driver = open_cart()
    set_attribute(driver, "data-redirect-to-invoice", "true")

    button(driver).click()
    WebDriverWait(driver, WAIT).until(lambda d: "/invoices/" in d.current_url)

    [draft] = simulator.state.draft_orders
    assert driver.current_url == draft["invoice_url"]


def test_the_page_waits_for_the_draft_with_a_long_poll(open_cart, storefront, simulator):
    """After the first status answer, the page asks the status URL to wait for
    a change (app/intake/waiting.py) rather than polling every second."""
    simulator.state.configure(delay_seconds=0.3)
    # A customer of its own: the others' submissions per minute stay theirs.
    storefront.customer = {"id": CUSTOMER["id"] + 4}
    driver = open_cart()

    assert click_and_wait(driver).text == "Your cart was sent: draft order #D1"
    asked = driver.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; })")
    status_asks = [url for url in asked if "/events/" in url]
    assert any("wait=10&since=" in url for url in status_asks), status_asks
