"""The batch writer's rules (app/store/batching.py): `decide`, pure, and the
Batcher's queue, with a stand-in for the transaction."""

import threading

import pytest
from helpers import STORED

from app.store.batching import (
    Added,
    Batcher,
    Busy,
    Count,
    RateLimit,
    Stored,
    Submission,
    decide,
)

IP = "203.0.113.9"


def submission(event_id, now=100.0, **fields):
    return Submission(event_id, "{}", STORED, None, now, **fields)


def per_ip(most, since=0.0):
    return (RateLimit("client_ip", IP, most, since),)


def test_a_limit_counts_the_submissions_accepted_earlier_in_the_batch():
    batch = [submission(f"e{n}", 100.0 + n, client_ip=IP, limits=per_ip(3)) for n in range(4)]
    added = decide(batch, {}, [[Count(1, 50.0)]] * 4)
    assert [a.new for a in added] == [True, True, False, False]
    assert added[2] == Added(None, False, None, "client_ip", 50.0)


def test_a_limit_names_the_oldest_accepted_in_the_batch_when_nothing_is_stored():
    batch = [submission(f"e{n}", 100.0 + n, client_ip=IP, limits=per_ip(1)) for n in range(2)]
    assert decide(batch, {}, [[Count(0, None)]] * 2)[1] == Added(
        None, False, None, "client_ip", 100.0)


def test_a_limit_does_not_count_batch_submissions_before_its_window():
    batch = [submission("e0", 100.0, client_ip=IP, limits=per_ip(1, since=0.0)),
             submission("e1", 200.0, client_ip=IP, limits=per_ip(1, since=150.0))]
    assert [a.new for a in decide(batch, {}, [[Count(0, None)]] * 2)] == [True, True]


def test_a_refused_submission_does_not_count_against_the_next():
    batch = [submission("e0", client_ip=IP, limits=per_ip(1)),
             submission("e1", client_ip=IP, limits=(RateLimit("client_ip", IP, 1, 0.0),
                                                     RateLimit("customer_id", 7, 0, 0.0))),
             submission("e2", client_ip="198.51.100.1", limits=())]
    added = decide(batch, {}, [[Count(1, 10.0)], [Count(1, 10.0), Count(0, None)], []])
    assert [a.limited_by for a in added] == ["client_ip", "client_ip", None]


def test_a_resubmission_in_the_same_batch_gets_the_first_event():
    batch = [submission(f"e{n}", fingerprint="same", dedupe_since=0.0) for n in range(3)]
    assert decide(batch, {}, [[]] * 3) == [Added("e0", True, "queued"),
                                          Added("e0", False, "queued"),
                                          Added("e0", False, "queued")]


def test_a_resubmission_gets_the_newest_stored_event_in_its_window():
    stored = {"same": [Stored(50.0, "old", "completed"), Stored(90.0, "newer", "processing")]}
    batch = [submission("e1", fingerprint="same", dedupe_since=60.0)]
    assert decide(batch, stored, [[]]) == [Added("newer", False, "processing")]


def test_a_stored_event_before_the_window_is_not_a_resubmission():
    stored = {"same": [Stored(50.0, "old", "completed")]}
    batch = [submission("e1", fingerprint="same", dedupe_since=60.0)]
    assert decide(batch, stored, [[]]) == [Added("e1", True, "queued")]


def test_a_resubmission_is_not_counted_by_the_limits():
    batch = [submission("e0", client_ip=IP, fingerprint="same", dedupe_since=0.0,
                        limits=per_ip(1)),
             submission("e1", client_ip=IP, fingerprint="same", dedupe_since=0.0,
                        limits=per_ip(1))]
    assert decide(batch, {}, [[Count(0, None)]] * 2)[1] == Added("e0", False, "queued")


def test_a_batch_that_fails_is_written_again_one_by_one_and_the_bad_one_fails_alone():
    written, calls = [], []

    def write(batch):
        calls.append([s.event_id for s in batch])
        if any(s.event_id == "bad" for s in batch):
            raise RuntimeError("constraint")
        written.extend(s.event_id for s in batch)
        return [Added(s.event_id, True, "queued") for s in batch]

    batcher = Batcher(write)
    results = _add_together(batcher, ["a", "bad", "c"])
    assert calls == [["a", "bad", "c"], ["a"], ["bad"], ["c"]]
    assert isinstance(results["bad"], RuntimeError)
    assert results["a"] == Added("a", True, "queued") and results["c"] == Added("c", True, "queued")
    assert sorted(written) == ["a", "c"]


class HeldWriter:
    """A stand-in transaction that holds the first batch until released, and
    records each batch's event ids."""

    def __init__(self):
        self.entered, self.released, self.batches = threading.Event(), threading.Event(), []

    def __call__(self, batch):
        self.batches.append([s.event_id for s in batch])
        self.entered.set()
        self.released.wait(5)
        return [Added(s.event_id, True, "queued") for s in batch]


def behind_a_held_write(batcher, writer, names, queued=None):
    """Add "a", which writes and is held; then `names`, which queue behind it
    (`queued()` runs then); release; {name: what add returned}."""
    results = {}
    first = threading.Thread(target=batcher.add, args=(submission("a"),))
    first.start()
    writer.entered.wait(5)
    others = [threading.Thread(target=lambda n=name: results.__setitem__(
        n, batcher.add(submission(n)))) for name in names]
    for thread in others:
        thread.start()
    _wait_for(lambda: len(batcher._queue) == len(names))
    if queued:
        queued()
    writer.released.set()
    for thread in [first, *others]:
        thread.join(5)
    return results


def test_past_the_waiting_bound_a_submission_is_refused_busy():
    writer = HeldWriter()
    batcher = Batcher(writer, most_waiting=1)

    def third():
        with pytest.raises(Busy):
            batcher.add(submission("c"))

    assert behind_a_held_write(batcher, writer, "b", queued=third) == {
        "b": Added("b", True, "queued")}


def test_submissions_waiting_behind_a_write_go_together_in_the_next_batch():
    writer = HeldWriter()
    behind_a_held_write(Batcher(writer), writer, "bcd")
    assert writer.batches[0] == ["a"] and sorted(writer.batches[1]) == ["b", "c", "d"]
    assert len(writer.batches) == 2


def test_a_batch_holds_at_most_its_bound_and_every_submission_is_answered():
    writer = HeldWriter()
    results = behind_a_held_write(Batcher(writer, most_per_batch=2), writer, "bcdef")
    sizes = [len(batch) for batch in writer.batches]
    assert max(sizes) == 2 and sum(sizes) == 6
    assert all(results[n] == Added(n, True, "queued") for n in "bcdef")


def _add_together(batcher, names):
    """Add `names` while a first write is held, so they form one batch."""
    results = {}

    def add(name):
        try:
            results[name] = batcher.add(submission(name))
        except Exception as error:  # the test reads it
            results[name] = error

    threads = [threading.Thread(target=add, args=(name,)) for name in names]
    with batcher._lock:  # as if a batch were being written: all of them queue
        batcher._writing = True
    for thread in threads:
        thread.start()
    _wait_for(lambda: len(batcher._queue) == len(names))
    with batcher._lock:  # that writer done: it hands its role to the first queued
        batcher._queue[0].wake()
    for thread in threads:
        thread.join(5)
    return results


def _wait_for(condition, seconds=5.0):
    done = threading.Event()
    for _ in range(int(seconds / 0.005)):
        if condition():
            return
        done.wait(0.005)
    raise AssertionError("condition never held")
