"""The admin's login throttle on its own: counting, memory bound, threads."""

import threading

from app.lockout import LoginThrottle


def test_the_tenth_attempt_still_gets_its_answer_and_the_eleventh_waits():
    throttle = LoginThrottle(clock=lambda: 0.0)

    waits = [throttle.attempt("a") for _ in range(11)]

    assert waits == [0] * 10 + [300]


def test_the_table_forgets_the_least_recently_seen_address_beyond_its_cap():
    throttle = LoginThrottle(max_addresses=100, clock=lambda: 0.0)
    for _ in range(10):
        throttle.attempt("locked")
    for n in range(99):
        throttle.attempt(f"10.0.0.{n}")
    assert throttle.locked("locked")

    throttle.attempt("one.too.many")

    assert len(throttle) == 100 and not throttle.locked("locked")


def test_concurrent_guesses_from_one_address_get_no_more_than_ten_tries():
    throttle = LoginThrottle(clock=lambda: 0.0)
    allowed = []
    start = threading.Barrier(50)

    def guess():
        start.wait()
        for _ in range(20):
            allowed.append(throttle.attempt("a") == 0)

    threads = [threading.Thread(target=guess) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert allowed.count(True) == 10 and len(allowed) == 1000
