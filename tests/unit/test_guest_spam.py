"""The guest form's bot checks (app/intake/spam.py): one refusal for all of them."""

import pytest

from app.intake import spam
from app.intake.errors import ApiError

KEY = "secret-key"
NOW = 1_800_000_000.0


def form(age=10.0, key=KEY, **fields):
    return {"form_token": spam.issue_token(key, NOW - age), **fields}


def refusal(guest, min_seconds=3):
    with pytest.raises(ApiError) as caught:
        spam.check(guest, KEY, min_seconds, NOW)
    return caught.value


def test_a_form_filled_in_time_with_an_empty_honeypot_passes():
    spam.check(form(website=""), KEY, 3, NOW)


def test_a_filled_honeypot_is_refused():
    assert refusal(form(website="http://spam.example")).code == "submission_refused"


def test_a_post_faster_than_the_minimum_fill_time_is_refused():
    assert refusal(form(age=1.0)).code == "submission_refused"


def test_a_form_token_we_did_not_sign_is_refused():
    assert refusal(form(key="another-key")).code == "submission_refused"


def test_a_missing_form_token_is_refused():
    assert refusal({}).code == "submission_refused"


def test_a_form_token_older_than_a_day_is_refused():
    assert refusal(form(age=spam.MAX_FORM_AGE + 1)).code == "submission_refused"


def test_every_check_gives_the_same_answer_and_logs_its_reason_only():
    refusals = [refusal(form(website="x")), refusal(form(age=1.0)), refusal({})]
    assert {(error.status, error.code, error.detail, tuple(error.extra))
            for error in refusals} == {(422, "submission_refused", spam.REFUSED_DETAIL, ())}
    assert len({error.log for error in refusals}) == 3


def test_no_minimum_fill_time_needs_no_token_but_keeps_the_honeypot():
    spam.check({}, KEY, 0, NOW)
    assert refusal({"website": "x"}, min_seconds=0).code == "submission_refused"
