"""After "Your cart was sent", the storefront button keeps reading the status
URL slowly while the draft is open, and tells the shopper of its invoice and
its payment. The status URL is stubbed in the page: its answers come in turn."""

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from app.dev.demo import CUSTOMER

WAIT = 15
# A shopper of their own, so that these tests leave the demo customer's submissions
# per minute (RATE_LIMIT_PER_CUSTOMER) to the other browser tests.
FOLLOWING_CUSTOMER = {"id": CUSTOMER["id"] + 3}
FOLLOW_WAIT = 20  # the script reads again every 5 seconds

# Answers the status URL with the given documents in turn, the last one from then
# on, counting the reads in window.__statusReads.
ANSWER_STATUS_IN_TURN = """
  var documents = arguments[0], fetch_ = window.fetch;
  window.__statusReads = 0;
  window.fetch = function (url, init) {
    if (String(url).indexOf("/events/") === -1) { return fetch_(url, init); }
    var answer = documents[Math.min(window.__statusReads, documents.length - 1)];
    window.__statusReads += 1;
    return Promise.resolve(new Response(JSON.stringify(answer),
      {status: 200, headers: {"Content-Type": "application/json"}}));
  };"""


def document(state="open", invoice=None, order=None):
    return {"id": "e1", "status": "completed", "error": None, "dropped_lines": [],
            "draft_order": {"id": 7, "name": "#D7", "invoice_url": None, "state": state,
                            "invoice": invoice},
            "order": order}


def status(driver):
    return driver.find_element(By.CSS_SELECTOR, "[data-cart-draft-order-status]")


def send(open_cart, storefront, *documents):
    storefront.customer = FOLLOWING_CUSTOMER
    driver = open_cart()
    driver.execute_script(ANSWER_STATUS_IN_TURN, list(documents))
    driver.find_element(By.ID, "mechanic_cart_submit").click()
    WebDriverWait(driver, WAIT).until(lambda d: status(d).get_attribute("data-state")
                                      in ("success", "error"))
    return driver


def shown_once(driver, ending):
    WebDriverWait(driver, FOLLOW_WAIT).until(lambda d: status(d).text.endswith(ending))
    return status(driver).text


def test_an_invoice_already_sent_is_told_with_the_draft(open_cart, storefront):
    driver = send(open_cart, storefront, document("invoice_sent", "sent"))
    assert status(driver).text == "Your cart was sent: draft order #D7. Invoice sent to your email"


def test_the_invoice_sent_later_is_told_when_read(open_cart, storefront):
    driver = send(open_cart, storefront, document(), document("invoice_sent", "sent"))
    assert status(driver).text == "Your cart was sent: draft order #D7"
    assert shown_once(driver, "Invoice sent to your email") \
        == "Your cart was sent: draft order #D7. Invoice sent to your email"


def test_a_paid_draft_is_told_with_its_order(open_cart, storefront):
    driver = send(open_cart, storefront, document("invoice_sent", "sent"),
                  document("completed", "sent", {"name": "#1001", "paid": True}))
    assert shown_once(driver, "#1001") == "Your cart was sent: draft order #D7. Paid: order #1001"


def test_an_order_not_paid_is_told_as_placed(open_cart, storefront):
    driver = send(open_cart, storefront, document(),
                  document("completed", None, {"name": "#1001", "paid": False}))
    assert shown_once(driver, "placed") == "Your cart was sent: draft order #D7. Order #1001 placed"


def test_a_final_draft_is_not_read_again(open_cart, storefront):
    driver = send(open_cart, storefront,
                  document("completed", None, {"name": "#1001", "paid": True}))
    reads = driver.execute_script("return window.__statusReads")
    driver.execute_script("return new Promise(function (done) { setTimeout(done, 6000); })")
    assert driver.execute_script("return window.__statusReads") == reads
