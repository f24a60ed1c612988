"""Bench 4: pickup latency of the in-process worker, and a web process's peak memory.

Pickup: the receiver as the Procfile runs it (RUN_WORKER=1) and the
simulator in a thread of this process with wall-clock log times
(`create_simulator(clock=time.time)`, bucket 100000 so nothing is throttled).
--submissions carts (200) are posted one at a time; after each, the bench waits
until the simulator has logged its draft order POST, then --gap seconds (50 ms)
so the worker is idle again. Pickup = the simulator's log time of the POST
minus the event's `created_at` in the events table (stamped just before the
insert transaction, so the commit itself counts as pickup time). Matched by
the cart note, unique per submission. Target: median < 20 ms.

Memory: a fresh receiver under the bench-1 load (wrk, 16 connections, a
different signed 10-line cart per request, simulator under waitress answering
201 with a bucket that never throttles). VmHWM (peak resident set) from
/proc/<pid>/status of the web process (one process serves). Target:
every worker < 100 MiB.

    python bench/pickup_memory.py [--submissions 200] [--gap 0.05] [--seconds 15]
"""

import argparse
import json
import sqlite3
import statistics
import time

import common
import requests

PICKUP_TARGET_MS = 20
MEMORY_TARGET_MIB = 100
SEQ_BASE = 900_000


def _note_of(draft_body):
    return (draft_body.get("draft_order") or {}).get("note")


def measure_pickup(directory, submissions, gap):
    """Pickup times in ms, and the receiver's workers' VmHWM afterwards (MiB)."""
    with common.thread_simulator(bucket_size=common.BIG_BUCKET) as (url, state), \
            common.running(lambda: common.receiver("receiver", url, directory,
                                                   directory / "pickup.sqlite3")) as server, \
            requests.Session() as session:
        common.wait_for_quiet()
        for i in range(submissions):
            seen = len(state.requests)
            answer = common.post_cart(session, server.url, SEQ_BASE + i)
            if answer.status_code != 202:
                raise RuntimeError(f"submission {i}: {answer.status_code} {answer.text[:300]}")
            deadline = time.monotonic() + 10
            while len(state.requests) == seen:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"submission {i} never reached the shop:\n"
                                       f"{server.log_tail()}")
                time.sleep(0.001)
            time.sleep(gap)
        hwm = [common.memory_kib(pid)["VmHWM"] / 1024 for pid in server.worker_pids()]
        log = state.snapshot("requests")

    arrived = {}
    for entry in log:
        if entry["method"] == "POST" and isinstance(entry.get("body"), dict):
            arrived.setdefault(_note_of(entry["body"]), entry["time"])
    with sqlite3.connect(directory / "pickup.sqlite3") as conn:
        rows = conn.execute("SELECT payload, created_at FROM events").fetchall()
    pickups = [(arrived[_note_of(json.loads(payload))] - created_at) * 1000
               for payload, created_at in rows if _note_of(json.loads(payload)) in arrived]
    if len(pickups) != submissions:
        raise RuntimeError(f"matched {len(pickups)} of {submissions} submissions")
    return pickups, hwm


def measure_memory(directory, options):
    with common.running(lambda: common.SimulatorProcess(
            directory, bucket_size=common.BIG_BUCKET)) as simulator:
        system = common.receiver_system("receiver (RUN_WORKER=1)", simulator.url, directory,
                                        watch=(simulator,))
        return common.load_system(system, directory, options, tag="memory")


def main():
    parser = common.load_options(argparse.ArgumentParser(description=__doc__))
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--gap", type=float, default=0.05,
                        help="pause after each submission reached the shop")
    options = parser.parse_args()
    common.header("Bench 4: pickup latency and peak memory of a web process")
    with common.workdir(options.keep) as directory:
        pickups, light_hwm = measure_pickup(directory, options.submissions, options.gap)
        run = measure_memory(directory, options)

    median = statistics.median(pickups)
    peak = max(run.worker_hwm_mib)
    print()
    print(common.table(["measure", "median", "p90", "p99", "max", "target", "result"], [
        (f"pickup, event created -> POST at the shop ({len(pickups)} sequential)",
         f"{median:.1f} ms", f"{common.percentile(pickups, 90):.1f} ms",
         f"{common.percentile(pickups, 99):.1f} ms", f"{max(pickups):.1f} ms",
         f"median < {PICKUP_TARGET_MS} ms", common.verdict(median < PICKUP_TARGET_MS)),
    ]))
    print()
    print(common.table(["measure", "per worker process (MiB)", "target", "result"], [
        (f"VmHWM after {options.submissions} sequential submissions",
         " / ".join(f"{m:.0f}" for m in light_hwm), "(for reference)", ""),
        (f"VmHWM after the bench-1 load ({run.load.rps:.0f} requests/s for "
         f"{options.seconds} s, p99 {run.load.p99:.0f} ms)",
         " / ".join(f"{m:.0f}" for m in run.worker_hwm_mib), f"< {MEMORY_TARGET_MIB} MiB",
         common.verdict(peak < MEMORY_TARGET_MIB)),
    ]))
    print()
    print(common.details_table({run.name: [run]}))


if __name__ == "__main__":
    main()
