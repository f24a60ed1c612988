"""A guest's quote on the demo's guest cart page (/guest/cart), in Chromium:
the contact form the script draws, what reaches Shopify, and what a bot is told."""

import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 15
REFUSED = ("Your cart couldn't be sent. We couldn't accept this form. Please wait a moment "
           "and send it again; if that does not help, contact the store.")


def status(driver):
    return driver.find_element(By.CSS_SELECTOR, "[data-cart-draft-order-status]")


def click_and_wait(driver):
    driver.find_element(By.ID, "mechanic_cart_submit").click()
    WebDriverWait(driver, WAIT).until(
        lambda d: status(d).get_attribute("data-state") in ("success", "error"))
    return status(driver)


def field(driver, name):
    return driver.find_element(By.CSS_SELECTOR, f'[data-guest-field="guest.{name}"]')


def error_beside(driver, name):
    return field(driver, name).find_element(By.XPATH, "following-sibling::*[@data-guest-error]")


def test_a_guests_quote_becomes_a_draft_with_the_email_and_the_message(
        open_guest_cart, fill_guest_form, simulator):
    driver = open_guest_cart()
    fill_guest_form(driver, email="ann@example.com", name="Ann Lee",
                    message="Can you ship by Friday?", **{"custom.PO number": "PO-7"})

    shown = click_and_wait(driver)

    assert shown.get_attribute("data-state") == "success", shown.text
    [draft] = simulator.state.draft_orders
    assert (draft["customer"], draft["email"]) == (None, "ann@example.com")
    assert draft["note"].endswith("Message from the guest:\nCan you ship by Friday?")
    assert draft["billing_address"] == {"first_name": "Ann", "last_name": "Lee"}
    assert {"name": "PO number", "value": "PO-7"} in draft["note_attributes"]


def test_a_missing_required_field_is_shown_beside_the_field(open_guest_cart, fill_guest_form,
                                                           simulator):
    driver = open_guest_cart()
    fill_guest_form(driver, name="Ann Lee")

    shown = click_and_wait(driver)

    assert shown.get_attribute("data-state") == "error"
    assert error_beside(driver, "email").text == "Please fill in email."
    assert field(driver, "email").get_attribute("aria-invalid") == "true"
    assert error_beside(driver, "name").text == ""
    assert simulator.state.draft_orders == []


def test_a_filled_honeypot_is_refused(open_guest_cart, fill_guest_form, simulator):
    driver = open_guest_cart()
    driver.execute_script("document.querySelector('[data-guest-honeypot]').value = "
                          "'http://spam.example'")
    fill_guest_form(driver, email="bot@example.com")

    shown = click_and_wait(driver)

    assert shown.text == REFUSED
    assert simulator.state.draft_orders == []


def test_a_post_faster_than_the_minimum_time_is_refused(open_guest_cart, fill_guest_form,
                                                        simulator):
    driver = open_guest_cart()
    fill_guest_form(driver, wait=False, email="bot@example.com")

    shown = click_and_wait(driver)

    assert shown.text == REFUSED
    assert simulator.state.draft_orders == []


def test_a_signed_in_customer_is_never_shown_the_form(open_cart):
    driver = open_cart()
    time.sleep(0.3)  # the form would be drawn once its description arrived

    assert driver.find_elements(By.CSS_SELECTOR, "[data-cart-draft-order-guest]") == []
