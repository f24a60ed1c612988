"""The web process's log under load (app/serve.py): waitress's queue warnings folded."""

import logging

from app.serve import QueueDepthDigest


def record(depth):
    return logging.LogRecord("waitress.queue", logging.WARNING, __file__, 1,
                             "Task queue depth is %d", (depth,), None)


def passed(digest, clock, warnings):
    """The lines let through of `warnings`, (when, depth) pairs."""
    lines = []
    for when, depth in warnings:
        clock[0] = when
        line = record(depth)
        if digest.filter(line):
            lines.append(line.getMessage())
    return lines


def test_a_burst_of_queue_depth_warnings_lets_one_line_through():
    clock = [0.0]
    digest = QueueDepthDigest(every=10, clock=lambda: clock[0])
    assert passed(digest, clock, [(0, 1), (1, 5), (2, 3), (9, 2)]) == [
        "Task queue depth reached 1 (1 such warnings since the last line)"]


def test_the_next_line_says_the_deepest_queue_and_how_many_warnings_it_folds():
    clock = [0.0]
    digest = QueueDepthDigest(every=10, clock=lambda: clock[0])
    assert passed(digest, clock, [(0, 1), (1, 4), (2, 9), (5, 2), (11, 3)])[1:] == [
        "Task queue depth reached 9 (4 such warnings since the last line)"]
