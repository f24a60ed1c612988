"""The storefront button's GraphQL-era fields in a real browser: what it sends (the cart's
currency and discount codes, a company contact's signed location) and how it shows lines
the store left out or named in a failure, by the titles of the cart it sent."""

import json
import sqlite3

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from app.dev.demo import CUSTOMER, SECRET
from app.intake.signature import sign_location

WAIT = 15
# Shoppers of their own, so that these tests leave the demo customer's submissions
# per minute (RATE_LIMIT_PER_CUSTOMER) to the other browser tests.
B2B_CUSTOMER = {"id": CUSTOMER["id"] + 1, "b2b?": True, "current_company": {"id": 98369},
                "current_location": {"id": 5501}}
LINES_CUSTOMER = {"id": CUSTOMER["id"] + 2}
# The sample cart's second line, its "Mug".
OUT_OF_STOCK = {"line": 1, "variant_id": 457924702, "code": "out_of_stock",
                "detail": "Only 0 are in stock."}

# Answers the status URL with `document` instead of asking the receiver: the lines
# a GraphQL backend drops or blocks, shown by the page's own script.
ANSWER_STATUS_WITH = """
  var document_ = arguments[0], fetch_ = window.fetch;
  window.fetch = function (url, init) {
    if (String(url).indexOf("/events/") === -1) { return fetch_(url, init); }
    return Promise.resolve(new Response(JSON.stringify(document_),
      {status: 200, headers: {"Content-Type": "application/json"}}));
  };"""


def click_and_wait(driver):
    driver.find_element(By.ID, "mechanic_cart_submit").click()
    status = driver.find_element(By.CSS_SELECTOR, "[data-cart-draft-order-status]")
    WebDriverWait(driver, WAIT).until(
        lambda d: status.get_attribute("data-state") in ("success", "error"))
    return status.text


def received_body(receiver):
    """The body of the latest submission (the receiver serves the whole session)."""
    with sqlite3.connect(receiver.database_path) as db:
        [(received,)] = db.execute(
            "SELECT received FROM events ORDER BY created_at DESC LIMIT 1").fetchall()
    return json.loads(received)


def status_document(status, **fields):
    return {"id": "e1", "status": status, "draft_order": None, "error": None,
            "dropped_lines": [], **fields}


def test_the_cart_s_currency_and_discount_codes_are_sent(open_cart, storefront, receiver):
    storefront.customer = LINES_CUSTOMER
    storefront.cart = {**storefront.cart, "currency": "EUR",
                       "discount_codes": [{"code": "SPRING10", "applicable": True}]}
    driver = open_cart()

    click_and_wait(driver)

    cart = received_body(receiver)["cart"]
    assert (cart["currency"], cart["discount_codes"]) \
        == ("EUR", [{"code": "SPRING10", "applicable": True}])


def test_a_company_contact_s_button_sends_the_signed_location(open_cart, storefront, receiver):
    storefront.customer = B2B_CUSTOMER
    driver = open_cart()

    click_and_wait(driver)

    body = received_body(receiver)
    assert (body["companyId"], body["companyLocationId"], body["companyLocationSignature"]) \
        == (98369, 5501, sign_location(B2B_CUSTOMER["id"], 98369, 5501, SECRET))


def test_a_customer_who_is_no_company_contact_sends_no_company(open_cart, storefront,
                                                               receiver):
    storefront.customer = {"id": CUSTOMER["id"] + 2}
    click_and_wait(open_cart())

    assert not {"companyId", "companyLocationId"} & set(received_body(receiver))


def test_lines_left_out_of_the_draft_order_are_named_by_their_cart_title(open_cart, storefront):
    storefront.customer = LINES_CUSTOMER
    driver = open_cart()
    driver.execute_script(ANSWER_STATUS_WITH, status_document(
        "completed", draft_order={"id": 1, "name": "#D7", "invoice_url": None},
        dropped_lines=[OUT_OF_STOCK]))

    shown = click_and_wait(driver)

    assert shown == "Your cart was sent: draft order #D7. Not included: Mug, out of stock."


def test_a_failure_naming_lines_shows_each_with_its_cart_title(open_cart, storefront):
    storefront.customer = LINES_CUSTOMER
    driver = open_cart()
    driver.execute_script(ANSWER_STATUS_WITH, status_document("failed", error={
        "code": "items_unavailable", "detail": "Some items are unavailable.",
        "lines": [OUT_OF_STOCK]}))

    shown = click_and_wait(driver)

    assert shown == ("Your cart was received, but the draft order couldn't be created. "
                     "Some items are unavailable. Mug: Only 0 are in stock.")
