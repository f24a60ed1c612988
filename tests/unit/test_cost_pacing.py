"""Pacing GraphQL requests by the cost points Shopify reports in extensions.cost."""

import heapq
import math
import threading

import pytest
from helpers import Clock

from app.shopify.pacing import CostPacer


@pytest.fixture
def clock():
    """Standing still between advances, so delays come out exact."""
    return Clock(at=100.0)


def cost(available, maximum=1000.0, rate=100.0, requested=10):
    return {"requestedQueryCost": requested, "actualQueryCost": requested,
            "throttleStatus": {"maximumAvailable": maximum, "currentlyAvailable": available,
                               "restoreRate": rate}}


def test_requests_go_at_once_until_shopify_reports_a_bucket(clock):
    pacer = CostPacer(clock=clock)
    assert [pacer.delay(10) for _ in range(500)] == [0.0] * 500


def test_a_request_the_bucket_cannot_hold_waits_for_the_restore(clock):
    pacer = CostPacer(clock=clock)
    pacer.observe(cost(available=25))
    assert pacer.delay(10) == 0.0
    assert pacer.delay(10) == 0.0
    assert pacer.delay(10) == pytest.approx(0.05)  # 5 points short at 100 a second


def test_reserved_points_are_never_sent_twice(clock):
    pacer = CostPacer(clock=clock)
    pacer.observe(cost(available=0, rate=100.0))
    delays = [pacer.delay(10) for _ in range(10)]
    assert delays == pytest.approx([0.1 * n for n in range(1, 11)])


def test_points_restored_with_time_are_spent_at_once(clock):
    pacer = CostPacer(clock=clock)
    pacer.observe(cost(available=0))
    clock.advance(5)
    assert pacer.delay(400) == 0.0


def test_the_bucket_never_fills_beyond_its_maximum(clock):
    pacer = CostPacer(clock=clock)
    pacer.observe(cost(available=0, maximum=100.0, rate=10.0))
    clock.advance(3600)
    assert pacer.delay(100) == 0.0
    assert pacer.delay(10) == pytest.approx(1.0)


def test_a_throttled_answer_holds_every_request_back_until_restored(clock):
    pacer = CostPacer(clock=clock)
    pacer.observe(cost(available=4, requested=10), "DraftOrderCreate", retry_after=0.06)
    assert pacer.delay(1) == pytest.approx(0.06)


def test_a_throttled_answer_before_any_report_still_waits(clock):
    pacer = CostPacer(clock=clock)
    pacer.observe(None, retry_after=2.0)
    assert pacer.delay(10) == pytest.approx(2.0)


def test_the_cost_last_requested_for_an_operation_is_reserved(clock):
    pacer = CostPacer(clock=clock)
    assert pacer.cost_of("DraftOrderCreate", 10) == 10
    pacer.observe(cost(available=900, requested=13), "DraftOrderCreate")
    assert pacer.cost_of("DraftOrderCreate", 10) == 13
    assert pacer.cost_of("DraftOrderByMarker", 7) == 7


@pytest.mark.parametrize("status", [
    {"maximumAvailable": 1000.0, "currentlyAvailable": 5000.0, "restoreRate": 100.0},
    {"maximumAvailable": 1000.0, "currentlyAvailable": -5, "restoreRate": 100.0},
    {"maximumAvailable": 1000.0, "currentlyAvailable": 0, "restoreRate": 0},
    {"maximumAvailable": 1000.0, "currentlyAvailable": 0, "restoreRate": float("nan")},
    {"maximumAvailable": float("inf"), "currentlyAvailable": 0, "restoreRate": 100.0},
    {"maximumAvailable": 1000.0, "currentlyAvailable": True, "restoreRate": 100.0},
    {"maximumAvailable": "1000", "currentlyAvailable": "0", "restoreRate": "100"},
    {"currentlyAvailable": 0, "restoreRate": 100.0},
    "full",
])
def test_a_throttle_status_that_makes_no_sense_is_ignored(clock, status):
    pacer = CostPacer(clock=clock)
    pacer.observe({"requestedQueryCost": 10, "throttleStatus": status})
    assert pacer.delay(10) == 0.0


@pytest.mark.parametrize("requested", [float("nan"), -3, True, "10", None])
def test_a_requested_cost_that_makes_no_sense_is_not_kept(clock, requested):
    pacer = CostPacer(clock=clock)
    pacer.observe(cost(available=900, requested=requested), "DraftOrderCreate")
    assert pacer.cost_of("DraftOrderCreate", 10) == 10


def test_a_cost_above_the_bucket_waits_for_a_full_bucket_not_for_ever(clock):
    pacer = CostPacer(clock=clock)
    pacer.observe(cost(available=0, maximum=100.0, rate=10.0))
    assert pacer.delay(5000) == pytest.approx(10.0)


def test_threads_sharing_a_pacer_never_reserve_more_than_the_bucket_holds(clock):
    pacer = CostPacer(clock=clock)
    pacer.observe(cost(available=100, rate=10.0))
    delays, lock = [], threading.Lock()

    def request():
        seconds = pacer.delay(10)
        with lock:
            delays.append(seconds)

    threads = [threading.Thread(target=request) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(delays) == pytest.approx([0.0] * 10 + [float(n) for n in range(1, 21)])


def test_headroom_points_are_kept_for_our_other_processes(clock):
    pacer = CostPacer(headroom=10, clock=clock)
    pacer.observe(cost(available=25))
    assert pacer.delay(10) == 0.0                    # 25 hold it and 10 more
    assert pacer.delay(10) == pytest.approx(0.05)    # 15 do not: 5 short at 100 a second


def test_headroom_never_holds_back_a_request_the_full_bucket_holds(clock):
    pacer = CostPacer(headroom=10, clock=clock)
    pacer.observe(cost(available=0, maximum=100.0, rate=10.0))
    assert pacer.delay(100) == pytest.approx(10.0)  # a full bucket, not 110 points


def _throttled_in_two_processes(headroom, requests=400, latency=0.004, work=0.002):
    """Two processes, each with its own pacer, send 10-point requests one at a time
    into one bucket (1000 points, full at the start, 100 a second), as the
    Procfile's two web processes deliver; each learns the level only from its own
    answers. Returns how many requests the bucket could not hold."""
    clock = Clock(at=0.0)
    pacers = [CostPacer(headroom=headroom, clock=clock) for _ in range(2)]
    bucket = {"available": 1000.0, "at": 0.0}
    queue = [(0.0, n, n, "reserve", None) for n in range(2)]
    sent = throttled = 0
    while queue:
        at, order, process, action, status = heapq.heappop(queue)
        clock.advance(at - clock())
        if action == "reserve" and sent < requests:
            sent += 1
            heapq.heappush(queue, (at + pacers[process].delay(10), order, process, "send", None))
        elif action == "send":
            available = min(1000.0, bucket["available"] + (at - bucket["at"]) * 100.0)
            held = available >= 10
            throttled += not held
            bucket.update(available=available - 10 if held else available, at=at)
            report = cost(available=math.floor(bucket["available"]))
            heapq.heappush(queue, (at + latency, order, process, "answer", (report, held)))
        elif action == "answer":
            report, held = status
            pacers[process].observe(report, retry_after=None if held else 0.1)
            heapq.heappush(queue, (at + work, order + 2, process, "reserve", None))
    return throttled


def test_two_processes_pacing_one_bucket_are_never_throttled_with_one_request_of_headroom():
    assert _throttled_in_two_processes(headroom=10) == 0


def test_wait_sleeps_for_the_delay(clock):
    slept = []
    pacer = CostPacer(clock=clock, sleep=slept.append)
    pacer.observe(cost(available=0, rate=100.0))
    pacer.wait(50)
    assert slept == [pytest.approx(0.5)]


@pytest.mark.parametrize("maximum, rate", [(1000.0, 1e-9), (1e300, 1.0)])
def test_a_bucket_that_would_take_days_to_restore_is_ignored(clock, maximum, rate):
    """Shopify's buckets refill in seconds; a throttleStatus saying otherwise
    would hold every worker thread (and the events they lease) for years."""
    pacer = CostPacer(clock=clock)
    pacer.observe(cost(available=0, maximum=maximum, rate=rate, requested=maximum))
    assert pacer.delay(pacer.cost_of("DraftOrderCreate", 10)) == 0.0


def test_half_the_points_available_is_room_for_requests_that_can_wait(clock):
    pacer = CostPacer(clock=clock)
    assert pacer.has_room()  # nothing reported yet
    pacer.observe(cost(available=500))
    assert pacer.has_room()
    pacer.observe(cost(available=499))
    assert not pacer.has_room()
    clock.advance(0.01)  # one point restored
    assert pacer.has_room()


def test_a_throttled_answer_leaves_no_room_until_restored(clock):
    pacer = CostPacer(clock=clock)
    pacer.observe(cost(available=1000), retry_after=1.0)
    assert not pacer.has_room()
    clock.advance(1.0)
    assert pacer.has_room()
