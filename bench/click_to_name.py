"""Bench 5: from the shopper's click to the draft order's name on the page, in a
real browser (issue 19).

One receiver (the Procfile's web command, SQLite, its delivery worker) against
the simulator answering 201 after 300 ms (`delay_seconds` 0.3; a bucket no run
fills), the demo storefront (app/dev/demo.py's Storefront, templates/snippet.liquid
rendered by a real Liquid engine) and headless Chromium, as tests/browser does.
Each click is a new cart (no resubmission), limits off (one customer clicks
many times). For each script, `--clicks` clicks, one after the other:

- before: static/send-cart.js as it was at BEFORE_COMMIT (first poll at 500 ms,
  then every second), served from a local copy;
- after: this checkout's send-cart.js (a long poll: `?wait=10&since=V`).

Two figures per click: click to name (the page's own clock, from the click to
the status line saying "draft order #D…"), and creation to name: from the
moment the receiver stored the draft order (the event's `updated_at` when it
completed, the receiver's clock) to the name on the page (the browser's clock,
the same machine's).

    python bench/click_to_name.py [--clicks 20]
"""

import argparse
import logging
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the test tiers' servers: receiver, simulator

import common  # noqa: E402
from servers import procfile_receiver, serve, shopify_simulator  # noqa: E402

from app.dev.demo import SECRET, Storefront  # noqa: E402

BEFORE_COMMIT = "1ea5059"  # the last send-cart.js that polled at 500 ms, then every 1 s
TOKEN = "shpat_bench_click_token"
# Click, then wait for the status line's outcome; the page's clock throughout.
CLICK = """
var done = arguments[arguments.length - 1];
function outcome() {
  var status = document.querySelector("[data-cart-draft-order-status]");
  var state = status && status.getAttribute("data-state");
  if (state === "success" || state === "error") {
    observer.disconnect();
    done({clicked: clicked, shown: performance.timeOrigin + performance.now(),
          state: state, text: status.textContent});
  }
}
var observer = new MutationObserver(outcome);
observer.observe(document.body, {subtree: true, childList: true, characterData: true,
                                 attributes: true});
var clicked = performance.timeOrigin + performance.now();
document.querySelector("#mechanic_cart_submit").click();
"""


class _ScriptOf(Storefront):
    """The storefront, its page loading send-cart.js from `script_url` when set."""

    script_url = None

    def _page(self):
        page = super()._page()
        if self.script_url:
            page = page.replace(f"{self.receiver_url}/static/send-cart.js", self.script_url)
        return page


def _script_server(directory):
    """Serve the BEFORE_COMMIT send-cart.js; yield its URL."""
    from flask import Flask, Response

    text = subprocess.run(["git", "-C", str(ROOT), "show", f"{BEFORE_COMMIT}:static/send-cart.js"],
                          check=True, capture_output=True, text=True).stdout
    app = Flask("before_script")

    @app.get("/send-cart.js")
    def script():
        return Response(text, mimetype="text/javascript")

    return serve(app)


def _browser(directory):
    from browser.conftest import CHROMEDRIVER, chromium_options  # tests/browser's Chromium
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER),
                              options=chromium_options(directory / "chromium"))
    driver.set_script_timeout(60)
    return driver


def _completed_at(database_path):
    with sqlite3.connect(database_path) as conn:
        row = conn.execute("SELECT status, updated_at FROM events"
                           " ORDER BY created_at DESC LIMIT 1").fetchone()
    return row[1] if row and row[0] == "completed" else None


def clicks(driver, storefront, receiver, count):
    """`count` clicks on fresh carts; a list of (click to name ms, creation to name ms)."""
    measured = []
    for _ in range(count):
        storefront.reset()
        driver.get(f"{storefront.url}/cart")
        answer = driver.execute_async_script(CLICK)
        if answer["state"] != "success":
            raise RuntimeError(f"the click failed: {answer['text']}")
        created = _completed_at(receiver.database_path)
        measured.append((answer["shown"] - answer["clicked"],
                         answer["shown"] - created * 1000 if created else float("nan")))
        time.sleep(0.2)
    return measured


def run(count):
    """Both scripts, `count` clicks each; {script: [(click ms, creation ms)]}."""
    with tempfile.TemporaryDirectory(prefix="cart-bench-click-") as name:
        directory = Path(name)
        storefront = _ScriptOf()
        with shopify_simulator(TOKEN, delay_seconds=0.3) as shop, \
                serve(storefront.app()) as front, _script_server(directory) as before:
            storefront.url = front.url
            with procfile_receiver(directory, shop.url, TOKEN, SECRET,
                                   allowed_origins=front.url, RATE_LIMIT_PER_IP="0",
                                   RATE_LIMIT_PER_CUSTOMER="0") as receiver:
                storefront.receiver_url = receiver.url
                driver = _browser(directory)
                try:
                    clicks(driver, storefront, receiver, 2)  # warm-up: caches, connections
                    results = {}
                    for label, url in (("before (poll at 0.5 s, then every 1 s)",
                                        f"{before.url}/send-cart.js"),
                                       ("after (long poll)", None)):
                        storefront.script_url = url
                        results[label] = clicks(driver, storefront, receiver, count)
                finally:
                    driver.quit()
    return results


def p50(measured):
    """The median click to name, in ms."""
    return common.percentile([m[0] for m in measured], 50)


def rows(results):
    out = []
    for label, measured in results.items():
        click = [m[0] for m in measured]
        shown = [m[1] for m in measured]
        out.append((label, str(len(measured)),
                    f"{common.percentile(click, 50):.0f}", f"{common.percentile(click, 95):.0f}",
                    f"{common.percentile(shown, 50):.0f}", f"{common.percentile(shown, 95):.0f}"))
    return out


COLUMNS = ["send-cart.js", "clicks", "click to name p50 ms", "p95 ms",
           "draft stored to name p50 ms", "p95 ms"]


def main():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the threads' request lines
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clicks", type=int, default=20)
    options = parser.parse_args()
    common.header("Bench 5: click to draft order name, in Chromium (simulator: 201 after 300 ms)")
    results = run(options.clicks)
    print(common.table(COLUMNS, rows(results)))


if __name__ == "__main__":
    main()
