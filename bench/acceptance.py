"""Bench 1: how fast does POST /webhooks/cart accept carts, next to the ceiling?

Side by side in one run, each a fresh run of the Procfile's web command
(`python -m app.serve`), in turn for --rounds rounds:

- bare Flask: bench/bare_app.py reads the body and answers 202 (this stack's ceiling);
- the receiver: `app.wsgi:app` with RUN_WORKER=1 (its delivery worker delivers to
  the simulator meanwhile): signature, cart validation and mapping, submission
  limits, the event committed to SQLite (synchronous=FULL), then 202.

The shop is the simulator under waitress, answering 201 at once, with Shopify's
standard REST limits (a bucket of 40 leaking 2 a second), as issue 19 measures;
`--fast-shop` gives it a bucket no load here can fill instead, so the worker
delivers as fast as it can while the receiver is measured (the figures before
issue 19). wrk posts a different shopper's signed 10-line cart on
every request (bench/wrk_cart.lua) over 16 keep-alive connections.
- the naive durable peer: bench/naive_app.py checks the signature, maps the lines
  and commits one SQLite INSERT per request (WAL, synchronous=FULL), and skips
  validation, the resubmission check and the limits.
- the same peer under gunicorn's threaded worker, 2 processes x 8 threads, as
  issue 19 ran its peers, when gunicorn is installed (`pip install gunicorn`;
  bench/ only: the project never serves with it). Its ratio is printed too.

Targets: the receiver's throughput >= 1.2x the naive durable peer's (issue 19:
at least 1.0x, p99 under 100 ms), while doing everything the peer skips; and,
still aimed at, >= 0.5x the bare endpoint's.

Then, in the same run, bench/click_to_name.py (`--clicks`, 0 skips it): the
click to the draft order's name in Chromium, with the script before issue 19
and with the long poll; the table ends with both ratios.

--variants adds three diagnostic rows (same load): the receiver with RUN_WORKER=0
(no delivery competing for the database), with its submission limits and
duplicate look-up off (RATE_LIMIT_PER_IP=0, RATE_LIMIT_PER_CUSTOMER=0,
DEDUPE_WINDOW=0), with its SQLite file on tmpfs (/dev/shm), where a commit's
flush to disk costs nothing: what the disk adds; and with a store that keeps and
counts nothing (bench/nostore_app.py): every other step of a submission, so what
the database costs in all.

    python bench/acceptance.py [--seconds 15] [--rounds 2] [--connections 16] [--variants]
                               [--fast-shop] [--clicks 20] [--before CHECKOUT]
"""

import argparse
import importlib.util
from pathlib import Path

import common

TARGET_BARE = 0.5
TARGET_PEER = 1.2
FLOOR_PEER = 1.0  # issue 19's "at least"
TARGET_P99_MS = 100
RECEIVER = "receiver (RUN_WORKER=1)"
BARE = "bare Flask 202 (ceiling)"
PEER = "naive durable peer (bench/naive_app.py)"
NO_DATABASE = "receiver, store keeps nothing (bench/nostore_app.py)"
GUNICORN_PEER = "naive durable peer under gunicorn 2 x 8 threads (issue 19's setup)"


def systems(simulator, directory, memory_dir, variants, shop, before=None):
    def receiver(name, **kwargs):
        # A fresh shop for every run: empty request log, no draft orders.
        return common.receiver_system(
            name, simulator.url, directory, watch=(simulator,),
            prepare=lambda: simulator.configure(**shop), **kwargs)
    chosen = [common.bench_app_system(BARE, "bare_app", directory),
              common.bench_app_system(PEER, "naive_app", directory, env=common.receiver_env(
                  simulator.url, directory / "naive.sqlite3", run_worker=False)),
              receiver(RECEIVER)]
    if importlib.util.find_spec("gunicorn"):
        chosen.append(common.gunicorn_app_system(GUNICORN_PEER, "naive_app", directory,
                                                 env=common.receiver_env(
                                                     simulator.url, directory / "naive-g.sqlite3",
                                                     run_worker=False)))
    if before:
        chosen.append(receiver(f"receiver at {Path(before).name} (--before)", cwd=before))
    if variants:
        chosen += [
            receiver("receiver, RUN_WORKER=0", run_worker=False),
            receiver("receiver, limits + dedupe off", RATE_LIMIT_PER_IP="0",
                     RATE_LIMIT_PER_CUSTOMER="0", DEDUPE_WINDOW="0"),
            receiver("receiver, database on tmpfs (no disk flush)", database_dir=memory_dir),
            common.bench_app_system(NO_DATABASE, "nostore_app", directory, env=common.receiver_env(
                simulator.url, directory / "unused.sqlite3", run_worker=False)),
        ]
    return chosen


def main():
    parser = common.load_options(argparse.ArgumentParser(description=__doc__))
    parser.add_argument("--variants", action="store_true", help="add the diagnostic rows")
    parser.add_argument("--fast-shop", action="store_true",
                        help="a bucket no load fills, instead of Shopify's standard limits")
    parser.add_argument("--before", metavar="CHECKOUT",
                        help="also a receiver run from another checkout (e.g. `git archive"
                             " 1ea5059 | tar -x -C DIR`): before and after in one run")
    parser.add_argument("--clicks", type=int, default=20,
                        help="clicks per script in the click-to-name bench (0: skip it)")
    options = parser.parse_args()
    shop = {"bucket_size": common.BIG_BUCKET} if options.fast_shop else {}
    common.header("Bench 1: acceptance throughput and latency of POST /webhooks/cart")
    with common.workdir(options.keep) as directory, \
            common.workdir(parent="/dev/shm") as memory_dir, \
            common.running(lambda: common.SimulatorProcess(directory, **shop)) as simulator:
        runs = common.compare(systems(simulator, directory, memory_dir, options.variants, shop,
                                      options.before), directory, options)

    bare = common.Summary.of(runs[BARE])
    peer = common.Summary.of(runs[PEER])
    rows = []
    for name, system_runs in runs.items():
        ours = common.Summary.of(system_runs)
        to_bare, to_peer = ours.rps / bare.rps, ours.rps / peer.rps
        if name == RECEIVER:
            target = (f">= {FLOOR_PEER}x peer (goal {TARGET_PEER}x, p99 < {TARGET_P99_MS} ms),"
                      f" >= {TARGET_BARE}x bare")
            result = (f"peer {common.verdict(to_peer >= FLOOR_PEER)}"
                      f" (goal {common.verdict(to_peer >= TARGET_PEER)},"
                      f" p99 {common.verdict(ours.p99 < TARGET_P99_MS)}), "
                      f"bare {common.verdict(to_bare >= TARGET_BARE)}")
        else:
            target, result = {BARE: ("(ceiling)", ""), PEER: ("(peer)", ""),
                              GUNICORN_PEER: ("(peer, issue 19's server)", "")}.get(
                name, ("(diagnostic)", ""))
        rows.append((name, f"{ours.rps:.0f}", f"{ours.p50:.1f}", f"{ours.p99:.1f}",
                     f"{to_bare:.2f}", f"{to_peer:.2f}", target, result))
    print()
    print(f"Medians of {options.rounds} round(s), {options.seconds} s each, "
          f"{options.connections} connections:")
    print(common.table(["system", "requests/s", "p50 ms", "p99 ms", "ratio to bare",
                        "ratio to peer", "target", "result"], rows))
    print()
    print(common.details_table(runs))
    receiver = common.Summary.of(runs[RECEIVER])
    ratios = [f"intake: receiver / naive durable peer = {receiver.rps / peer.rps:.2f}x"]
    if GUNICORN_PEER in runs:
        ratios.append(f"receiver / the peer under gunicorn 2 x 8 = "
                      f"{receiver.rps / common.Summary.of(runs[GUNICORN_PEER]).rps:.2f}x")
    if options.clicks:
        import click_to_name

        print()
        print(f"Click to draft order name, {options.clicks} clicks per script, Chromium,"
              " the simulator answering 201 after 300 ms:")
        clicked = click_to_name.run(options.clicks)
        print(common.table(click_to_name.COLUMNS, click_to_name.rows(clicked)))
        before, after = (click_to_name.p50(measured) for measured in clicked.values())
        ratios.append(f"click to name: p50 after / before = {after:.0f} / {before:.0f} ms"
                      f" = {after / before:.2f}x")
    print()
    print("Ratios: " + "; ".join(ratios))


if __name__ == "__main__":
    main()
