"""The CAPTCHA's server-side check against a local stand-in of a provider's
verify endpoint on loopback (app/intake/captcha.py): the secret goes there and
nowhere else, the answer is read strictly, and the call has a deadline."""

import time
from contextlib import ExitStack

import pytest
from flask import Flask, Response, jsonify, request
from helpers import cart_body
from servers import free_port, serve

from app.intake import captcha

SECRET = "0x-verify-secret"


def stand_in(answer=None, delay=0.0, status=200):
    """A verify endpoint: records each form posted, answers `answer` (default:
    success for the token "good")."""
    app = Flask(__name__)
    app.posted = []

    @app.post("/siteverify")
    def siteverify():
        app.posted.append(request.form.to_dict())
        time.sleep(delay)
        if answer is not None:
            return answer, status
        return jsonify(success=request.form.get("response") == "good"), status

    return app


@pytest.fixture
def endpoint():
    def start(**kwargs):
        app = stand_in(**kwargs)
        server = running.enter_context(serve(app))
        return f"{server.url}/siteverify", app.posted

    with ExitStack() as running:
        yield start


def test_an_accepted_token_passes_and_the_secret_and_address_are_sent(endpoint):
    url, posted = endpoint()
    assert captcha.verify("turnstile", SECRET, "good", "203.0.113.9", url) is True
    assert posted == [{"secret": SECRET, "response": "good", "remoteip": "203.0.113.9"}]


def test_a_refused_token_fails(endpoint):
    url, _ = endpoint()
    assert captcha.verify("hcaptcha", SECRET, "bad", None, url) is False


def test_a_missing_token_fails_without_asking_the_provider(endpoint):
    url, posted = endpoint()
    assert captcha.verify("recaptcha", SECRET, "", None, url) is False
    assert posted == []


def test_an_unreachable_provider_is_unavailable():
    with pytest.raises(captcha.Unavailable):
        captcha.verify("turnstile", SECRET, "good", None,
                       f"http://127.0.0.1:{free_port()}/siteverify")


@pytest.mark.slow
def test_a_provider_slower_than_the_deadline_is_unavailable(endpoint):
    url, _ = endpoint(delay=1.5)
    started = time.monotonic()
    with pytest.raises(captcha.Unavailable):
        captcha.verify("turnstile", SECRET, "good", None, url, timeout=0.5)
    assert time.monotonic() - started < 1.4


def test_an_answer_without_a_success_flag_is_unavailable_not_a_pass(endpoint):
    url, _ = endpoint(answer="<html>challenge</html>", status=200)
    with pytest.raises(captcha.Unavailable) as caught:
        captcha.verify("turnstile", SECRET, "good", None, url)
    assert SECRET not in str(caught.value)


def test_a_deeply_nested_answer_is_unavailable_not_a_crash(endpoint):
    url, _ = endpoint(answer="[" * 100_000, status=200)
    with pytest.raises(captcha.Unavailable):
        captcha.verify("turnstile", SECRET, "good", None, url)


def test_an_oversized_answer_is_unavailable_unread(endpoint):
    padding = " " * (captcha.MAX_ANSWER_BYTES + 1)
    url, _ = endpoint(answer=f'{{"success": true}}{padding}', status=200)
    with pytest.raises(captcha.Unavailable):
        captcha.verify("turnstile", SECRET, "good", None, url)


def test_a_trickled_answer_is_unavailable_after_the_deadline(endpoint):
    def trickle():
        yield '{"success": true'
        for _ in range(8):
            time.sleep(0.2)
            yield " "
        yield "}"

    url, _ = endpoint(answer=Response(trickle(), mimetype="application/json"))
    started = time.monotonic()
    with pytest.raises(captcha.Unavailable):
        captcha.verify("turnstile", SECRET, "good", None, url, timeout=0.5)
    assert time.monotonic() - started < 1.4


def test_a_guest_is_answered_503_when_the_provider_answers_garbage(endpoint, make_app):
    url, _ = endpoint(answer="[" * 100_000, status=200)
    app = make_app(GUEST_FIELDS="email", GUEST_MIN_FILL_SECONDS="0", CAPTCHA_PROVIDER="turnstile",
                   CAPTCHA_SITE_KEY="site", CAPTCHA_SECRET=SECRET, CAPTCHA_VERIFY_URL=url)
    answer = app.test_client().post(
        "/webhooks/cart", json=cart_body(customer_id=None, guest={"captcha_token": "good"}))
    assert answer.status_code == 503
    assert answer.get_json()["error"]["code"] == "captcha_unavailable"
    assert app.extensions["store"].count_events() == 0


def test_a_server_error_is_unavailable(endpoint):
    url, _ = endpoint(answer={"success": True}, status=502)
    with pytest.raises(captcha.Unavailable):
        captcha.verify("turnstile", SECRET, "good", None, url)


def test_the_receiver_accepts_a_guest_whose_token_the_stand_in_accepts(endpoint, make_app):
    url, posted = endpoint()
    app = make_app(GUEST_FIELDS="email", GUEST_MIN_FILL_SECONDS="0", CAPTCHA_PROVIDER="turnstile",
                   CAPTCHA_SITE_KEY="site", CAPTCHA_SECRET=SECRET, CAPTCHA_VERIFY_URL=url)
    client = app.test_client()
    good, bad = (cart_body(customer_id=None, guest={"captcha_token": token})
                 for token in ("good", "bad"))
    assert client.post("/webhooks/cart", json=good).status_code == 202
    assert client.post("/webhooks/cart", json=bad).get_json()["error"]["code"] == \
        "submission_refused"
    assert [form["response"] for form in posted] == ["good", "bad"]
