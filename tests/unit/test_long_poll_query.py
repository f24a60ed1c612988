"""The long poll's query (app/intake/waiting.py), checked and bounded."""

import pytest

from app.intake.errors import ApiError
from app.intake.waiting import MOST_WAIT_SECONDS, version, wait_asked


def test_no_wait_asked_is_a_plain_poll():
    assert wait_asked({}) == (0.0, None)


def test_a_wait_longer_than_the_bound_is_cut_to_it():
    assert wait_asked({"wait": "600", "since": "0123456789abcdef"}) == (
        MOST_WAIT_SECONDS, "0123456789abcdef")


@pytest.mark.parametrize("wait", ["-1", "nan", "inf", "soon", "1" * 11])
def test_a_wait_that_is_not_a_bounded_number_is_400(wait):
    with pytest.raises(ApiError) as refused:
        wait_asked({"wait": wait})
    assert (refused.value.status, refused.value.extra) == (400, {"field": "wait"})


@pytest.mark.parametrize("since", ["", "XYZ", "0123456789ABCDEF", "0" * 17])
def test_a_since_that_is_not_a_version_is_400(since):
    with pytest.raises(ApiError) as refused:
        wait_asked({"wait": "5", "since": since})
    assert (refused.value.status, refused.value.extra) == (400, {"field": "since"})


def test_equal_documents_have_equal_versions_and_any_change_moves_it():
    document = {"id": "e1", "status": "queued", "draft_order": None}
    assert version(dict(document)) == version(document)
    assert version({**document, "status": "processing"}) != version(document)
