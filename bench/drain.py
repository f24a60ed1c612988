"""Bench 3: draining a backlog through Shopify's rate limits, REST and GraphQL side by side.

For each backend (`--api rest|graphql|both`, default both), in turn:

1. The receiver runs with RUN_WORKER=0 (the Procfile's web command) and
   SHOPIFY_API set to the backend, and takes --events valid carts (400 by
   default) through POST /webhooks/cart, each from a different shopper; nothing
   reaches the shop. Then it stops.
2. The simulator (in a thread of this process, wall-clock log, standard-plan
   limits: REST a bucket of 40 calls leaking 2 a second; GraphQL a bucket of
   1000 cost points restoring 100 a second, a draftOrderCreate costing 10; 201
   at once) is reset, and delivery starts: by default the Procfile's web command
   with RUN_WORKER=1 (WEB_CONCURRENCY processes, default 2, one delivery thread
   each); `--delivery cli --processes K` runs K `flask --app app worker`
   processes instead.
3. Once no event is queued or processing (or the time limit passes), delivery
   stops and everything is read from the simulator's request log:

- drain time, from the first call to the last draft order created, against the
  ideal (N x cost - bucket) / rate: 180 s for 400 events on REST, 30 s on GraphQL;
- the rate after the initial burst: what the bucket was charged (REST: a call it
  admitted; GraphQL: the cost of a request it held) beyond its size, per second of
  drain time, as a share of the plan's rate (target >= 90%);
- the share of calls throttled (REST: answered 429; GraphQL: THROTTLED, the
  simulator's `graphql.throttled`) (target <= 1%);
- unnecessary calls: made before a Retry-After had passed (REST) or while the cost
  bucket could not hold them (GraphQL; the simulator marks both `early`), or a
  repeat of a call that had been answered 4xx other than 429;
- duplicates (more draft orders than events) and events that failed;
- with both: REST's drain time over GraphQL's (target >= 4x).

    python bench/drain.py [--api rest|graphql|both] [--events 400] [--delivery web|cli]

This takes about 180 s + 30 s plus start-up for 400 events; --events 120 takes
~1 minute. Each backend gives up after 2 x its ideal + 60 s.
"""

import argparse
import json
import sqlite3
import sys
import time
from collections import Counter
from dataclasses import dataclass

import common
import requests

from app.states import ACTIVE, EventStatus

MIN_RATE_SHARE = 0.9
MAX_THROTTLED_SHARE = 0.01
MIN_SPEED_UP = 4.0


def _graphql(entry):
    return entry.get("graphql") or {}


@dataclass(frozen=True)
class Backend:
    """One API as the bench sees it: its plan's bucket (the simulator's config keys),
    what one draft costs, and how a request log entry reads."""

    name: str          # SHOPIFY_API
    label: str
    unit: str          # what the bucket counts
    bucket_key: str
    rate_key: str
    create_cost: int   # the simulator's charge for one draft
    throttled: object  # entry -> bool
    cost: object       # entry -> what it asked of the bucket
    created: object    # entry -> bool: its answer made (or, REST poll, returned) a draft

    def charged(self, entry):
        """What the entry took from the bucket: a throttled request takes nothing."""
        return 0 if self.throttled(entry) else self.cost(entry)


BACKENDS = {
    "rest": Backend(
        "rest", "REST", "calls", "bucket_size", "leak_rate", 1,
        throttled=lambda entry: entry["status"] == 429,
        cost=lambda entry: 1,
        created=lambda entry: entry["status"] == 201 or (entry["method"] == "GET"
                                                         and entry["status"] == 200)),
    "graphql": Backend(
        "graphql", "GraphQL", "cost points", "graphql_bucket_size", "graphql_restore_rate", 10,
        throttled=lambda entry: bool(_graphql(entry).get("throttled")),
        cost=lambda entry: _graphql(entry).get("cost") or 0,
        created=lambda entry: (entry["status"] == 200 and not _graphql(entry).get("throttled")
                               and _graphql(entry).get("operation") == "DraftOrderCreate")),
}


def insert_backlog(simulator_url, directory, database, count, api):
    """`count` events through the HTTP endpoint, with no worker running."""
    with common.running(lambda: common.receiver(f"receiver {api} (RUN_WORKER=0)", simulator_url,
                                                directory, database, run_worker=False,
                                                SHOPIFY_API=api)) as server, \
            requests.Session() as session:
        started = time.monotonic()
        for seq in range(1, count + 1):
            answer = common.post_cart(session, server.url, seq)
            if answer.status_code != 202:
                raise RuntimeError(f"event {seq}: {answer.status_code} {answer.text[:300]}")
        return time.monotonic() - started


def start_delivery(options, simulator_url, directory, database, api):
    if options.delivery == "web":
        return [common.receiver(f"receiver {api} (RUN_WORKER=1)", simulator_url, directory,
                                database, SHOPIFY_API=api)]
    env = common.receiver_env(simulator_url, database, SHOPIFY_API=api)
    command = [sys.executable, "-m", "flask", "--app", "app", "worker"]
    return [common.Service(f"worker {api} {i}", command, env, directory / f"worker-{api}-{i}.log")
            for i in range(1, options.processes + 1)]


def wait_for_drain(database, state, backend, limit):
    """Poll the event store until nothing is active; print progress; bounded by `limit` s."""
    started = time.monotonic()
    last_print = started
    while True:
        time.sleep(1)
        counts = common.events_by_status(database)
        active = sum(counts.get(status, 0) for status in ACTIVE)
        elapsed = time.monotonic() - started
        if time.monotonic() - last_print >= 15 or active == 0 or elapsed > limit:
            log = state.snapshot("requests")
            throttled = sum(1 for entry in log if backend.throttled(entry))
            print(f"  {elapsed:5.0f} s: {counts.get(EventStatus.COMPLETED, 0)} completed, "
                  f"{counts.get(EventStatus.FAILED, 0)} failed, {active} active; {len(log)} calls, "
                  f"{throttled} throttled", flush=True)
            last_print = time.monotonic()
        if active == 0:
            return elapsed, counts
        if elapsed > limit:
            return None, counts


def _note(body):
    """The cart's note (every cart here has its own) in a REST or GraphQL create."""
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("draft_order"), dict):
        return body["draft_order"].get("note")
    draft_input = (body.get("variables") or {}).get("input")
    return draft_input.get("note") if isinstance(draft_input, dict) else None


def _key(entry):
    """What identifies one event's call in the log: its note for a POST that creates,
    the operation or path for anything else."""
    note = _note(entry.get("body")) if entry["method"] == "POST" else None
    if note is not None:
        return ("POST", note)
    return (entry["method"], entry["path"])


def _kind(entry):
    if "graphql" in entry:
        return f"GraphQL {entry['graphql']['operation']}"
    path = entry["path"]
    if "/draft_orders/poll/" in path:
        return f"{entry['method']} poll"
    if path.endswith("/draft_orders.json"):
        return f"{entry['method']} draft_orders.json" + ("?" + entry["query"] if entry["query"]
                                                         and entry["method"] == "GET" else "")
    return f"{entry['method']} {path.rsplit('/', 1)[-1]}"


def analyse(log, drafts, backend, bucket, rate):
    """Numbers from the simulator's request log and its draft orders."""
    statuses = Counter(entry["status"] for entry in log)
    kinds = Counter(_kind(entry) for entry in log)
    unnecessary, early, after_4xx, refused = set(), 0, 0, set()
    for index, entry in enumerate(log):
        key = _key(entry)
        if entry["early"]:
            early += 1
            unnecessary.add(index)
        if key in refused:
            after_4xx += 1
            unnecessary.add(index)
        if 400 <= entry["status"] < 500 and entry["status"] != 429:
            refused.add(key)
    created_at = [entry["time"] for entry in log if backend.created(entry)]
    notes = Counter(draft.get("note") for draft in drafts)
    charged = sum(backend.charged(entry) for entry in log)
    result = {
        "calls": len(log), "statuses": dict(sorted(statuses.items())), "kinds": dict(kinds),
        "throttled": sum(1 for entry in log if backend.throttled(entry)),
        "early": early, "after_4xx": after_4xx, "unnecessary": len(unnecessary),
        "drafts": len(drafts), "charged": charged,
        "duplicates": sum(n - 1 for n in notes.values() if n > 1),
    }
    drain = max(created_at) - log[0]["time"] if created_at else None
    result["drain_seconds"] = drain
    result["ideal_seconds"] = max(0, len(drafts) * backend.create_cost - bucket) / rate
    beyond_burst = charged - bucket
    result["rate"] = beyond_burst / drain if beyond_burst > 0 and drain else None
    result["drafts_rate"] = ((len(drafts) - bucket / backend.create_cost) / drain
                             if result["rate"] else None)
    return result


def drain(backend, options, simulator_url, state, directory):
    """One backend's run: its backlog queued, then delivered against a fresh simulator;
    returns the numbers of `analyse` with the events' counts and failures."""
    database = directory / f"events-{backend.name}.sqlite3"
    bucket, rate = state.config[backend.bucket_key], state.config[backend.rate_key]
    ideal = max(0, options.events * backend.create_cost - bucket) / rate
    print(f"## {backend.label}")
    state.reset()
    seconds = insert_backlog(simulator_url, directory, database, options.events, backend.name)
    queued = common.events_by_status(database)
    print(f"backlog: {options.events} events stored in {seconds:.1f} s "
          f"({queued}); calls to the shop meanwhile: {len(state.requests)}")
    common.wait_for_quiet()
    state.reset()
    delivery = ("python -m app.serve, RUN_WORKER=1" if options.delivery == "web"
                else f"{options.processes} x flask --app app worker")
    print(f"delivering with {delivery}, SHOPIFY_API={backend.name}; bucket {bucket:g} "
          f"{backend.unit}, {rate:g}/s; ideal {ideal:.0f} s", flush=True)
    services = start_delivery(options, simulator_url, directory, database, backend.name)
    try:
        elapsed, counts = wait_for_drain(database, state, backend, limit=2 * ideal + 60)
    finally:
        for service in services:
            service.stop()
    log, drafts = state.snapshot("requests"), state.snapshot("draft_orders")
    with sqlite3.connect(database) as conn:
        failures = Counter(code for (code,) in conn.execute(
            "SELECT error_code FROM events WHERE status = ?", (EventStatus.FAILED,)))
    numbers = analyse(log, drafts, backend, bucket, rate)
    numbers.update(elapsed=elapsed, counts=counts, failures=dict(failures), bucket=bucket,
                   plan_rate=rate, completed=counts.get(EventStatus.COMPLETED, 0))
    print(f"calls by answer: {numbers['statuses']}; by kind: {numbers['kinds']}")
    waited = f"; backlog gone after {elapsed:.0f} s" if elapsed is not None else ""
    print(f"draft orders in the shop: {numbers['drafts']}; events: {json.dumps(counts)}{waited}")
    print()
    return numbers


def _cells(backend, n, events):
    """One backend's column: (measured, passed) per measure."""
    all_done = n["completed"] == events and n["elapsed"] is not None
    share = n["throttled"] / n["calls"] if n["calls"] else 0.0
    rate = n["rate"]
    return {
        "delivered": (f"{n['completed']} of {events}"
                      + (f" ({n['failures']} failed)" if n["failures"] else "")
                      + ("" if n["elapsed"] is not None else ", time limit hit"), all_done),
        "drain": (f"{n['drain_seconds']:.1f} s (ideal {n['ideal_seconds']:.0f} s)"
                  if n["drain_seconds"] else "-", None),
        "rate": (f"{rate:.2f} {backend.unit}/s = {rate / n['plan_rate']:.0%} of "
                 f"{n['plan_rate']:g}/s" if rate else "- (all within the burst)",
                 bool(rate) and rate / n["plan_rate"] >= MIN_RATE_SHARE and all_done),
        "drafts_rate": (f"{n['drafts_rate']:.2f}/s" if n["drafts_rate"] else "-", None),
        "throttled": (f"{n['throttled']} of {n['calls']} = {share:.1%}",
                      share <= MAX_THROTTLED_SHARE),
        "unnecessary": (f"{n['unnecessary']} ({n['early']} early, {n['after_4xx']} repeats of "
                        f"a 4xx)", n["unnecessary"] == 0),
        "duplicates": (str(n["duplicates"]), n["duplicates"] == 0),
    }


MEASURES = [
    ("delivered", "events delivered", "all"),
    ("drain", "drain time, first call to last draft order", "report"),
    ("rate", "rate after the initial burst (bucket charged beyond its size / drain time)",
     f">= {MIN_RATE_SHARE:.0%} of the plan's rate"),
    ("drafts_rate", "draft orders per second after the burst", "report"),
    ("throttled", "calls throttled (REST 429, GraphQL THROTTLED)",
     f"<= {MAX_THROTTLED_SHARE:.0%}"),
    ("unnecessary", "unnecessary calls", "0 (report)"),
    ("duplicates", "duplicate draft orders", "0"),
]


def _result(backends, cells, key):
    verdicts = [(backend.label, cells[backend.name][key][1]) for backend in backends]
    if verdicts[0][1] is None:
        return ""
    missed = [label for label, ok in verdicts if not ok]
    return "PASS" if not missed else "MISS (" + ", ".join(missed) + ")"


def report(backends, results, events):
    cells = {backend.name: _cells(backend, results[backend.name], events) for backend in backends}
    rows = [(title, *(cells[backend.name][key][0] for backend in backends), target,
             _result(backends, cells, key))
            for key, title, target in MEASURES]
    if len(backends) == 2:
        rest, graphql = results["rest"]["drain_seconds"], results["graphql"]["drain_seconds"]
        speed_up = rest / graphql if rest and graphql else None
        rows.append(("REST drain time / GraphQL drain time",
                     f"{rest or 0:.1f} s / {graphql or 0:.1f} s",
                     f"{speed_up:.1f}x" if speed_up else "-", f">= {MIN_SPEED_UP:g}x",
                     common.verdict(bool(speed_up) and speed_up >= MIN_SPEED_UP)))
    print(common.table(["measure", *(backend.label for backend in backends), "target", "result"],
                       rows))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api", choices=("rest", "graphql", "both"), default="both")
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--delivery", choices=("web", "cli"), default="web")
    parser.add_argument("--processes", type=int, default=2,
                        help="flask --app app worker processes (with --delivery cli)")
    parser.add_argument("--keep", action="store_true")
    options = parser.parse_args()
    backends = [BACKENDS[name] for name in ("rest", "graphql") if options.api in (name, "both")]
    common.header("Bench 3: draining a backlog through Shopify's rate limits")

    with common.workdir(options.keep) as directory, common.thread_simulator() as (url, state):
        results = {backend.name: drain(backend, options, url, state, directory)
                   for backend in backends}
    report(backends, results, options.events)


if __name__ == "__main__":
    main()
