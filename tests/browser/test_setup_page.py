"""The setup page in a real browser, under its Content-Security-Policy."""

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 15


def test_copy_button_works_under_the_pages_security_policy(browser, receiver):
    browser.get_log("browser")  # drop what earlier tests left
    browser.get(f"{receiver.url}/")

    browser.find_element(By.ID, "copy-snippet").click()

    WebDriverWait(browser, WAIT).until(
        lambda d: d.find_element(By.ID, "copy-result").text != "")
    refused = [e for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]
    assert refused == []
