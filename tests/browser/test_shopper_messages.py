"""What the storefront button tells a shopper when something is wrong on the
store's side: a sentence for the shopper, never a setting or an internal detail."""

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from app.dev.demo import sample_cart

WAIT = 15
INTERNALS = ("SHOPIFY", "SHARED_SECRET", "ALLOWED_ORIGINS", "Shopify", "customerId", "secret",
             "receiver")


def click_and_wait(driver):
    driver.find_element(By.ID, "mechanic_cart_submit").click()
    WebDriverWait(driver, WAIT).until(lambda d: d.find_element(
        By.CSS_SELECTOR, "[data-cart-draft-order-status]").get_attribute("data-state") == "error")
    return driver.find_element(By.CSS_SELECTOR, "[data-cart-draft-order-status]").text


def test_a_cart_the_store_refuses_is_explained_without_internals(open_guest_cart, fill_guest_form,
                                                                 simulator):
    # A guest: the customer's submissions per minute stay for others.
    simulator.state.configure(
        unknown_variants=[item["variant_id"] for item in sample_cart()["items"]])
    driver = open_guest_cart()
    fill_guest_form(driver, email="guest@example.com")

    shown = click_and_wait(driver)

    assert shown == ("Your cart was received, but the draft order couldn't be created. The "
                     "store could not accept this cart as it is; please check the items in "
                     "your cart or contact the store.")


def test_a_button_without_a_usable_address_says_so_plainly(open_cart):
    driver = open_cart()
    driver.execute_script("document.getElementById('mechanic_cart_submit')"
                          ".setAttribute('data-receiver-url', 'javascript:alert(1)')")

    shown = click_and_wait(driver)

    assert shown == "This button isn't working yet. Please contact the store."
    assert not any(word in shown for word in INTERNALS)
    assert any("data-receiver-url" in entry["message"] for entry in driver.get_log("browser"))
