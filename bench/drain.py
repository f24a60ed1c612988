"""Bench 3: draining a backlog through Shopify's leaky bucket.

1. The receiver runs with RUN_WORKER=0 (the Procfile's web command) and takes
   --events valid carts (400 by default) through POST /webhooks/cart, each from a
   different shopper; nothing reaches the shop. Then it stops.
2. The simulator (in a thread of this process, wall-clock log, its defaults: a
   bucket of 40 calls leaking 2 per second, 201 at once) is reset, and delivery
   starts: by default the Procfile's web process with RUN_WORKER=1 (one process,
   one delivery thread); `--delivery cli --processes K` runs K
   `flask --app app worker` processes instead.
3. Once no event is queued or processing (or the time limit passes), delivery
   stops and everything is read from the simulator's request log:

- drain time, from the first call to the last draft order created, against the
  ideal for the bucket, (N - 40) / 2 s: 180 s for 400 events; the achieved rate
  after the first 40 must be >= 90% of the leak rate;
- the share of calls answered 429 (target <= 1%);
- unnecessary calls: made before a Retry-After had passed (the simulator marks
  them `early`), or a repeat of a call that had been answered 4xx other than 429;
- duplicates (more draft orders than events) and events that failed.

    python bench/drain.py [--events 400] [--delivery web|cli] [--processes 2]

This takes about (N - 40) / 2 s plus start-up: ~3 minutes for 400; --events 120
takes ~40 s. It gives up after 2 x ideal + 60 s.
"""

import argparse
import json
import sqlite3
import sys
import time
from collections import Counter

import common
import requests

from app.event_status import ACTIVE, EventStatus

MIN_RATE_SHARE = 0.9
MAX_THROTTLED_SHARE = 0.01


def insert_backlog(simulator_url, directory, database_name, count):
    """`count` events through the HTTP endpoint, with no worker running."""
    with common.running(lambda: common.receiver("receiver (RUN_WORKER=0)", simulator_url,
                                                directory, directory / database_name,
                                                run_worker=False)) as server, \
            requests.Session() as session:
        started = time.monotonic()
        for seq in range(1, count + 1):
            answer = common.post_cart(session, server.url, seq)
            if answer.status_code != 202:
                raise RuntimeError(f"event {seq}: {answer.status_code} {answer.text[:300]}")
        return time.monotonic() - started


def start_delivery(mode, processes, simulator_url, directory, database_name):
    if mode == "web":
        return [common.receiver("receiver (RUN_WORKER=1)", simulator_url, directory,
                                directory / database_name)]
    env = common.receiver_env(simulator_url, directory / database_name)
    return [common.Service(f"worker {i}", [sys.executable, "-m", "flask", "--app", "app",
                                           "worker"], env, directory / f"worker-{i}.log")
            for i in range(1, processes + 1)]


def wait_for_drain(database, state, count, limit):
    """Poll the event store until nothing is active; print progress; bounded by `limit` s."""
    started = time.monotonic()
    last_print = started
    while True:
        time.sleep(1)
        counts = common.events_by_status(database)
        active = sum(counts.get(status, 0) for status in ACTIVE)
        elapsed = time.monotonic() - started
        if time.monotonic() - last_print >= 15 or active == 0 or elapsed > limit:
            calls = len(state.requests)
            throttled = sum(1 for entry in state.requests[:calls] if entry["status"] == 429)
            print(f"  {elapsed:5.0f} s: {counts.get(EventStatus.COMPLETED, 0)} completed, "
                  f"{counts.get(EventStatus.FAILED, 0)} failed, {active} active; {calls} calls, "
                  f"{throttled} answered 429", flush=True)
            last_print = time.monotonic()
        if active == 0:
            return elapsed, counts
        if elapsed > limit:
            return None, counts


def _key(entry):
    """What identifies one event's call in the log: its note for a POST (every cart
    here has its own), the path for anything else (a poll)."""
    body = entry.get("body")
    if entry["method"] == "POST" and isinstance(body, dict):
        return ("POST", (body.get("draft_order") or {}).get("note"))
    return (entry["method"], entry["path"])


def _kind(entry):
    path = entry["path"]
    if "/draft_orders/poll/" in path:
        return f"{entry['method']} poll"
    if path.endswith("/draft_orders.json"):
        return f"{entry['method']} draft_orders.json" + ("?" + entry["query"] if entry["query"]
                                                         and entry["method"] == "GET" else "")
    return f"{entry['method']} {path.rsplit('/', 1)[-1]}"


def analyse(log, drafts, bucket, leak_rate):
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
    created_at = [entry["time"] for entry in log
                  if entry["status"] == 201 or (entry["method"] == "GET"
                                                and entry["status"] == 200)]
    notes = Counter(draft.get("note") for draft in drafts)
    result = {
        "calls": len(log), "statuses": dict(sorted(statuses.items())), "kinds": dict(kinds),
        "throttled": statuses.get(429, 0), "early": early, "after_4xx": after_4xx,
        "unnecessary": len(unnecessary), "drafts": len(drafts),
        "duplicates": sum(n - 1 for n in notes.values() if n > 1),
        "first_call": log[0]["time"] if log else None,
        "last_created": max(created_at) if created_at else None,
    }
    result["drain_seconds"] = (result["last_created"] - result["first_call"]
                               if created_at else None)
    beyond_burst = len(drafts) - bucket
    result["ideal_seconds"] = max(0, beyond_burst) / leak_rate
    result["rate"] = (beyond_burst / result["drain_seconds"]
                      if beyond_burst > 0 and result["drain_seconds"] else None)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--delivery", choices=("web", "cli"), default="web")
    parser.add_argument("--processes", type=int, default=2,
                        help="flask --app app worker processes (with --delivery cli)")
    parser.add_argument("--keep", action="store_true")
    options = parser.parse_args()
    common.header("Bench 3: draining a backlog through the leaky bucket")

    database_name = "events.sqlite3"
    with common.workdir(options.keep) as directory, common.thread_simulator() as (url, state):
        bucket, leak_rate = state.config["bucket_size"], state.config["leak_rate"]
        ideal = max(0, options.events - bucket) / leak_rate
        seconds = insert_backlog(url, directory, database_name, options.events)
        queued = common.events_by_status(directory / database_name)
        print(f"backlog: {options.events} events stored in {seconds:.1f} s "
              f"({queued}); calls to the shop meanwhile: {len(state.requests)}")
        common.wait_for_quiet()
        state.reset()
        delivery = "python -m app.serve, RUN_WORKER=1" \
            if options.delivery == "web" \
            else f"{options.processes} x flask --app app worker"
        print(f"delivering with {delivery}; shop bucket {bucket}, leak {leak_rate:g}/s; "
              f"ideal {ideal:.0f} s")
        services = start_delivery(options.delivery, options.processes, url, directory,
                                  database_name)
        try:
            elapsed, counts = wait_for_drain(directory / database_name, state,
                                             options.events, limit=2 * ideal + 60)
        finally:
            for service in services:
                service.stop()
        log, drafts = state.snapshot("requests"), state.snapshot("draft_orders")
        with sqlite3.connect(directory / database_name) as conn:
            failures = Counter(code for (code,) in conn.execute(
                "SELECT error_code FROM events WHERE status = ?", (EventStatus.FAILED,)))

    numbers = analyse(log, drafts, bucket, leak_rate)
    completed = counts.get(EventStatus.COMPLETED, 0)
    share = numbers["throttled"] / numbers["calls"] if numbers["calls"] else 0.0
    rate = numbers["rate"]
    all_done = completed == options.events and elapsed is not None
    print()
    print(common.table(["measure", "measured", "target", "result"], [
        ("events delivered", f"{completed} of {options.events}"
         + (f" ({dict(failures)} failed)" if failures else "")
         + ("" if elapsed is not None else ", time limit hit"),
         "all", common.verdict(all_done)),
        ("drain time, first call to last draft order",
         f"{numbers['drain_seconds']:.1f} s" if numbers["drain_seconds"] else "-",
         f"~{numbers['ideal_seconds']:.0f} s ideal for {numbers['drafts']} drafts", ""),
        ("rate after the first {} calls".format(bucket),
         f"{rate:.2f}/s = {rate / leak_rate:.0%} of the leak rate" if rate else "-",
         f">= {MIN_RATE_SHARE:.0%} of {leak_rate:g}/s",
         common.verdict(bool(rate) and rate / leak_rate >= MIN_RATE_SHARE and all_done)),
        ("calls answered 429", f"{numbers['throttled']} of {numbers['calls']} = {share:.1%}",
         f"<= {MAX_THROTTLED_SHARE:.0%}", common.verdict(share <= MAX_THROTTLED_SHARE)),
        ("unnecessary calls", f"{numbers['unnecessary']} ({numbers['early']} before "
         f"Retry-After, {numbers['after_4xx']} repeats of a 4xx)", "0 (report)",
         common.verdict(numbers["unnecessary"] == 0)),
        ("duplicate draft orders", numbers["duplicates"], "0",
         common.verdict(numbers["duplicates"] == 0)),
    ]))
    print()
    print(f"calls by answer: {numbers['statuses']}; by kind: {numbers['kinds']}")
    waited = f"; backlog gone after {elapsed:.0f} s" if elapsed is not None else ""
    print(f"draft orders in the shop: {numbers['drafts']}; events: {json.dumps(counts)}{waited}")


if __name__ == "__main__":
    main()
