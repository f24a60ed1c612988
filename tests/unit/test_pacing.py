"""Pacing calls by Shopify's X-Shopify-Shop-Api-Call-Limit header."""

import pytest
from helpers import Clock

from app.shopify.pacing import CallPacer


@pytest.fixture
def clock():
    """Standing still between advances, so delays come out exact."""
    return Clock(at=100.0)


def pacer(clock, **kwargs):
    return CallPacer(leak_rate=2.0, headroom=1, clock=clock, **kwargs)


def test_calls_go_at_once_until_shopify_reports_a_level(clock):
    unpaced = pacer(clock)
    assert [unpaced.delay() for _ in range(100)] == [0.0] * 100


def test_a_nearly_full_bucket_makes_the_next_call_wait_for_the_leak(clock):
    paced = pacer(clock)
    paced.observe("38/40")
    assert paced.delay() == 0.0          # 39 of 40, one slot kept free
    assert paced.delay() == pytest.approx(0.5)  # waits for one call to leak at 2/s
    assert paced.delay() == pytest.approx(1.0)


def test_reserved_calls_leak_away_with_time(clock):
    paced = pacer(clock)
    paced.observe("39/40")
    clock.advance(10)
    assert paced.delay() == 0.0


def test_a_429_holds_every_call_back_for_retry_after(clock):
    paced = pacer(clock)
    paced.observe("40/40", retry_after=2.0)
    assert paced.delay() >= 2.0


def test_a_429_before_any_header_still_honours_retry_after(clock):
    paced = pacer(clock)
    paced.observe(None, retry_after=3.0)
    assert paced.delay() == pytest.approx(3.0)


def test_a_malformed_header_is_ignored(clock):
    paced = pacer(clock)
    paced.observe("lots")
    assert paced.delay() == 0.0


@pytest.mark.parametrize("header", ["1000000/40", "41/40", "-5/40", "5/0", "+5/40",
                                    "5/40/40", "5 /40x", "99999999999/99999999999"])
def test_a_level_outside_the_bucket_is_ignored(clock, header):
    paced = pacer(clock)
    paced.observe(header)
    assert paced.delay() == 0.0


def test_a_level_outside_the_bucket_keeps_the_last_good_one(clock):
    paced = pacer(clock)
    paced.observe("39/40")
    paced.observe("1000000/40")
    assert paced.delay() == pytest.approx(0.5)


def test_wait_sleeps_for_the_delay(clock):
    slept = []
    paced = pacer(clock, sleep=slept.append)
    paced.observe("39/40")
    paced.wait()
    assert slept == [pytest.approx(0.5)]


def test_a_backlog_drains_at_the_leak_rate_without_overflowing(clock):
    """Simulate Shopify's bucket: the pacer must never push it past its size."""
    paced = pacer(clock, sleep=clock.advance)
    level, last, start = 0.0, clock(), clock()
    for _ in range(200):
        paced.wait()
        level = max(0.0, level - (clock() - last) * 2.0) + 1
        last = clock()
        assert level <= 40
        paced.observe(f"{round(level)}/40")
    calls_per_second = 200 / (clock() - start)
    assert 1.9 <= calls_per_second <= 2.5


def test_a_bucket_at_most_half_full_has_room_for_calls_that_can_wait(clock):
    paced = pacer(clock)
    assert paced.has_room()  # nothing reported yet
    paced.observe("20/40")
    assert paced.has_room()
    paced.observe("21/40")
    assert not paced.has_room()
    clock.advance(0.5)  # one call leaked away
    assert paced.has_room()


def test_a_429_leaves_no_room_until_retry_after(clock):
    paced = pacer(clock)
    paced.observe(retry_after=2.0)
    assert not paced.has_room()
    clock.advance(2.0)
    assert paced.has_room()
