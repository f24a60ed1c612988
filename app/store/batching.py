"""Submissions written in batches (issue 19): one writer at a time per process,
one transaction per batch.

Every `add` joins the process's queue. The first request thread to find no
batch being written becomes the writer: it takes up to MOST_PER_BATCH waiting
submissions, writes them in one transaction and wakes each of their threads
with its own answer; the submissions that arrived meanwhile form the next
batch. So there is never more than one writer per process, and a request is
answered only once the transaction carrying it is committed (durable before
202, as ever).

A batch costs a fixed number of statements whatever its size (issue 8 found a
write transaction's hold time to be mostly its statements waiting for the
interpreter among the request threads): on PostgreSQL one round trip for the
advisory locks of every key of the batch (taken in one order, so two instances
never wait for each other in a cycle); one look-up of the resubmissions of the
whole batch; one count per rate-limit column for the whole batch; one
multi-row INSERT. What each submission gets is then decided by `decide`, a pure
function, in the batch's order: a submission counts the ones accepted before it
in its batch, against its limits and as a resubmission, exactly as if each had
had its own transaction.

Should a batch's transaction fail, each of its submissions is written again in
a transaction of its own, so a bad submission fails alone, with its own error,
and nothing is half-written. More than MOST_WAITING submissions waiting in one
process raise `Busy` (the receiver answers 503 with Retry-After).
"""

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import NamedTuple

from ..states import EventStatus
from .rows import Connection
from .shared import _FAILED, _QUEUED, _lock_ids

# Bounds of a process's queue: the submissions one transaction carries, and
# the submissions that may wait (past it, `Busy`). Under waitress a process's
# WEB_THREADS (16) bound the waiting long before this does.
MOST_PER_BATCH = 64
MOST_WAITING = 256

# Columns a submission rate can be counted by.
RATE_KEYS = ("client_ip", "customer_id", "guest_key")

_COLUMNS = ("id, status, customer_id, line_count, received, payload, fingerprint, client_ip,"
            " guest_key, next_attempt_at, created_at, updated_at")
_ROW = f"(?, {_QUEUED}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


class Busy(Exception):
    """More submissions wait to be written in this process than MOST_WAITING."""

    retry_after = 1


class Added(NamedTuple):
    """What `add` did with a submission."""
    event_id: str | None      # the event that stands for it; None when refused
    new: bool                 # whether that event was made now
    status: str | None        # that event's status
    limited_by: str | None = None  # the column of the RateLimit that refused it
    oldest: float | None = None    # when the oldest event that limit counted arrived


class RateLimit(NamedTuple):
    """At most `most` events whose `column` (client_ip, customer_id or guest_key)
    is `value` created since `since`. A guest_key limit's value is also the
    event's guest_key (a keyed hash of a guest's email, app/intake/contact.py)."""
    column: str
    value: object
    most: int
    since: float


class StoredPayload(NamedTuple):
    """A draft order payload as an event keeps it (events.py's stored_payload)."""
    text: str        # compact JSON
    line_count: int


class Submission(NamedTuple):
    """One `add`'s arguments (events.py's EventStatements.add says what each is)."""
    event_id: str
    received: str
    payload: StoredPayload
    customer_id: int | None
    now: float
    fingerprint: str | None = None
    client_ip: str | None = None
    dedupe_since: float | None = None
    limits: Sequence[RateLimit] = ()

    @property
    def dedupes(self) -> bool:
        return self.fingerprint is not None and self.dedupe_since is not None

    def value(self, column: str) -> object:
        if column == "client_ip":
            return self.client_ip
        if column == "customer_id":
            return self.customer_id
        return self.guest_key

    @property
    def guest_key(self) -> object:
        """The event's guest_key: its guest_key limit's value, if it has one."""
        return next((limit.value for limit in self.limits if limit.column == "guest_key"), None)


class Stored(NamedTuple):
    """An event already stored that a resubmission may stand for."""
    created_at: float
    event_id: str
    status: str


class Count(NamedTuple):
    """What one RateLimit counts among the stored events."""
    n: int
    oldest: float | None


def check(batch: Iterable[Submission]) -> None:
    for submission in batch:
        bad = [limit.column for limit in submission.limits if limit.column not in RATE_KEYS]
        if bad:
            raise ValueError(f"not rate keys: {bad}")


def decide(batch: Sequence[Submission], stored: Mapping[str, Sequence[Stored]],
           counts: Sequence[Sequence[Count]]) -> list[Added]:
    """What becomes of each submission of `batch`, in order: the newest event
    (stored, or accepted earlier in the batch) with its fingerprint since its
    `dedupe_since` that has not failed stands for it; else the first of its
    limits used up (stored events since the limit's `since`, plus those accepted
    earlier in the batch) refuses it; else it is accepted.

    `stored` holds the stored events (not failed) by fingerprint; `counts[i][j]`
    is what the stored events count for the j-th limit of the i-th submission."""
    accepted: list[Submission] = []
    added: list[Added] = []
    for submission, its_counts in zip(batch, counts, strict=True):
        if submission.dedupes:
            since = submission.dedupe_since
            assert since is not None
            same = [row for row in stored.get(submission.fingerprint or "", ())
                    if row.created_at >= since]
            same += [Stored(earlier.now, earlier.event_id, EventStatus.QUEUED)
                     for earlier in accepted
                     if earlier.fingerprint == submission.fingerprint and earlier.now >= since]
            if same:
                newest = max(same, key=lambda row: row.created_at)
                added.append(Added(newest.event_id, False, newest.status))
                continue
        refusal = _refusal(submission, its_counts, accepted)
        if refusal is not None:
            added.append(refusal)
            continue
        accepted.append(submission)
        added.append(Added(submission.event_id, True, EventStatus.QUEUED))
    return added


def _refusal(submission: Submission, counts: Sequence[Count],
             accepted: Sequence[Submission]) -> Added | None:
    for limit, count in zip(submission.limits, counts, strict=True):
        times = [earlier.now for earlier in accepted
                 if earlier.value(limit.column) == limit.value and earlier.now >= limit.since]
        if count.n + len(times) >= limit.most:
            oldest = min([t for t in (count.oldest, *times) if t is not None])
            return Added(None, False, None, limit.column, oldest)
    return None


def write_batch(conn: Connection, batch: Sequence[Submission],
                key_locks: str | None) -> list[Added]:
    """The batch's statements, inside the caller's write transaction (see the
    module's docstring); what became of each submission, in order."""
    check(batch)
    if key_locks:
        keys = [f"{limit.column}:{limit.value}" for s in batch for limit in s.limits]
        keys += [f"fingerprint:{s.fingerprint}" for s in batch if s.dedupes]
        if keys:
            conn.execute(key_locks, (_lock_ids(keys),))
    added = decide(batch, _stored(conn, batch), _counts(conn, batch))
    new = [s for s, a in zip(batch, added, strict=True) if a.new]
    while new:  # in chunks of a power of two rows: few statement texts (see _shape)
        size = 1 << (len(new).bit_length() - 1)  # the largest power of two <= len(new)
        chunk, new = new[:size], new[size:]
        conn.execute(
            f"INSERT INTO events ({_COLUMNS}) VALUES {', '.join([_ROW] * len(chunk))}",
            [value for s in chunk for value in (
                s.event_id, s.customer_id, s.payload.line_count, s.received, s.payload.text,
                s.fingerprint, s.client_ip, s.guest_key, s.now, s.now, s.now)])
    return added


def _shape(count: int) -> int:
    """The smallest power of two >= count. Statements are written for that many
    values (lists padded with a repeated value), so a process's statement texts
    are a handful, each prepared once and then found in the driver's cache
    (SQLite's holds 128 per connection): one text per batch size made every
    batch prepare its statements anew, and the caches of 16 connections grow."""
    return 1 << max(0, count - 1).bit_length()


def _stored(conn: Connection, batch: Sequence[Submission]) -> dict[str, list[Stored]]:
    """The stored events (not failed) the batch's resubmissions may stand for, in one look-up."""
    dedupes = [s for s in batch if s.dedupes]
    if not dedupes:
        return {}
    fingerprints = sorted({s.fingerprint for s in dedupes if s.fingerprint is not None})
    fingerprints += fingerprints[:1] * (_shape(len(fingerprints)) - len(fingerprints))
    since = min(s.dedupe_since for s in dedupes if s.dedupe_since is not None)
    rows = conn.execute(
        "SELECT fingerprint, id, status, created_at FROM events"
        f" WHERE fingerprint IN ({', '.join('?' * len(fingerprints))}) AND created_at >= ?"
        f" AND status <> {_FAILED}", (*fingerprints, since)).fetchall()
    found: dict[str, list[Stored]] = {}
    for row in rows:
        found.setdefault(row["fingerprint"], []).append(
            Stored(row["created_at"], row["id"], row["status"]))
    return found


def _counts(conn: Connection, batch: Sequence[Submission]) -> list[list[Count]]:
    """What the stored events count for each limit of each submission: one
    statement per rate column for the whole batch, each limit with its own
    `since` (a VALUES list joined to the events)."""
    counted: dict[tuple[int, int], Count] = {}
    for column in RATE_KEYS:
        asked = [(i, j, limit) for i, s in enumerate(batch) for j, limit in enumerate(s.limits)
                 if limit.column == column]
        if not asked:
            continue
        asked += asked[-1:] * (_shape(len(asked)) - len(asked))  # padding: the last again
        rows = conn.execute(
            f"WITH asked (k, v, since) AS (VALUES {', '.join(['(?, ?, ?)'] * len(asked))})"
            " SELECT asked.k AS k, COUNT(events.id) AS n, MIN(events.created_at) AS oldest"
            f" FROM asked LEFT JOIN events ON events.{column} = asked.v"
            "  AND events.created_at >= asked.since GROUP BY asked.k",
            [value for k, (_, _, limit) in enumerate(asked)
             for value in (k, limit.value, limit.since)]).fetchall()
        for row in rows:
            i, j, _ = asked[row["k"]]
            counted[i, j] = Count(row["n"], row["oldest"])  # a padding row: the same again
    return [[counted[i, j] for j in range(len(s.limits))] for i, s in enumerate(batch)]


class _Waiting:
    """One `add` waiting for the batch that will carry it, or for its turn to write."""

    def __init__(self, submission: Submission) -> None:
        self.submission = submission
        self.result: Added | None = None
        self.error: Exception | None = None
        self.done = False
        # Held until it is done, or its turn to write: a bare lock, cheaper to make,
        # wait on and wake than a threading.Event (a Condition, in Python).
        self._gate = threading.Lock()
        self._gate.acquire()
        self._woken = False

    def wait(self) -> None:
        self._gate.acquire()

    def wake(self) -> None:
        """Only ever called by the one writer of the moment, so never twice at once."""
        if not self._woken:
            self._woken = True
            self._gate.release()


class Batcher:
    """A process's queue of submissions and its one writer at a time.

    `write` writes a batch in one transaction and returns what became of each
    submission, or raises having written nothing. Each waiting thread sleeps on
    its own lock: the writer wakes exactly the threads its batch answered, and
    hands its role to the first one still queued (a Condition's notify_all woke
    every request thread of the process at each batch: 6% of its CPU)."""

    def __init__(self, write: Callable[[Sequence[Submission]], list[Added]],
                 most_per_batch: int = MOST_PER_BATCH, most_waiting: int = MOST_WAITING) -> None:
        self._write = write
        self.most_per_batch, self.most_waiting = most_per_batch, most_waiting
        self._queue: list[_Waiting] = []
        self._writing = False  # a thread is writing a batch, or has just been handed the role
        self._lock = threading.Lock()

    def add(self, submission: Submission) -> Added:
        """Join the queue: the first thread to find no batch being written writes
        the next one; the others sleep until the batch carrying theirs is done,
        or until the writer hands them its role."""
        check([submission])
        waiting = _Waiting(submission)
        with self._lock:
            if len(self._queue) >= self.most_waiting:
                raise Busy(f"{len(self._queue)} submissions waiting")
            self._queue.append(waiting)
            writes = not self._writing
            self._writing = True
        if not writes:
            waiting.wait()
        if not waiting.done:
            self._write_until_done(waiting)
        if waiting.error is not None:
            raise waiting.error
        assert waiting.result is not None  # set by the batch that carried it
        return waiting.result

    def _write_until_done(self, own: _Waiting) -> None:
        """Write batches from the queue's head until `own` is answered, then hand
        the role to the first still queued, or leave it."""
        try:
            while not own.done:
                with self._lock:
                    batch = self._queue[:self.most_per_batch]
                    del self._queue[:self.most_per_batch]
                self._write_or_each(batch)
        finally:
            with self._lock:
                if self._queue:
                    self._queue[0].wake()  # not done: its turn to write
                else:
                    self._writing = False

    def _write_or_each(self, batch: list[_Waiting]) -> None:
        """One transaction for the whole batch; should it fail, one for each, so
        that a bad submission fails alone."""
        try:
            results = self._write([waiting.submission for waiting in batch])
            for waiting, result in zip(batch, results, strict=True):
                waiting.result = result
        except Exception as error:
            if len(batch) == 1:
                batch[0].error = error
            else:
                for waiting in batch:
                    self._write_or_each([waiting])
        finally:
            for waiting in batch:
                waiting.done = True
                waiting.wake()
