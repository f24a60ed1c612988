"""Bench 2: the same load as bench 1 while Shopify is slow.

The simulator (waitress, one process) answers every Admin API call after 300 ms
(`delay_seconds: 0.3`), and a draft order POST with 202 + Location +
`Retry-After: 1`, then 202 to the first two polls (the simulator's default
`accepted_polls: 2`) and 200 to the third. Its leaky bucket is set to
100000 calls for this benchmark, so nothing is ever answered 429: the
comparison is about latency, not rate limits (a synchronous flood would
otherwise be throttled too).

Side by side in one run, in turn for --rounds rounds, each a fresh run of the
Procfile's web command (`python -m app.serve`):

- receiver, fast shop: exactly bench 1 (201 at once), the reference;
- receiver, slow shop: the same receiver while the shop is slow;
- synchronous baseline, slow shop: bench/sync_app.py checks the signature, maps
  the cart with app.intake.cart, then POSTs to the shop with requests and follows the
  202 polling (sleeping Retry-After) inside the request, as a naive
  implementation would, answering 201 with the draft order.

Targets: the receiver's throughput and p99 barely move when the shop is slow
(throughput >= 0.9x and p99 <= 1.25x the fast-shop run), and its throughput is
>= 20x the synchronous baseline's.

    python bench/slow_shopify.py [--seconds 20] [--rounds 2] [--connections 16]
"""

import argparse

import common

FAST = "receiver, fast shop (bench 1)"
SLOW = "receiver, slow shop"
SYNC = "synchronous baseline, slow shop"
SLOW_SHOP = {"mode": "accepted", "delay_seconds": 0.3, "retry_after": 1}
MIN_THROUGHPUT_KEPT = 0.9
MAX_P99_GROWTH = 1.25
MIN_SPEEDUP = 20


def systems(simulator, directory):
    def shop(**config):
        return lambda: simulator.configure(bucket_size=common.BIG_BUCKET, **config)
    sync_env = {"SHOPIFY_SHOP": simulator.url, "SHOPIFY_ACCESS_TOKEN": common.TOKEN,
                "SHARED_SECRET": common.SECRET}
    return [
        common.receiver_system(FAST, simulator.url, directory, watch=(simulator,),
                               prepare=shop()),
        common.receiver_system(SLOW, simulator.url, directory, watch=(simulator,),
                               prepare=shop(**SLOW_SHOP)),
        # No wrk warm-up: the requests it would abandon (up to 16 of 4.2 s each, on
        # 16 threads) would hold the threads well into the measured run. The
        # preflight submission warms the code path instead.
        common.bench_app_system(SYNC, "sync_app", directory, env=sync_env, expect=(201,),
                                warmup=False, watch=(simulator,), prepare=shop(**SLOW_SHOP)),
    ]


def main():
    options = common.load_options(argparse.ArgumentParser(description=__doc__),
                                  seconds=20).parse_args()
    common.header("Bench 2: acceptance while Shopify is slow, against a synchronous baseline")
    with common.workdir(options.keep) as directory, \
            common.running(lambda: common.SimulatorProcess(directory)) as simulator:
        runs = common.compare(systems(simulator, directory), directory, options)

    fast, slow, sync = (common.Summary.of(runs[name]) for name in (FAST, SLOW, SYNC))
    print()
    print(f"Medians of {options.rounds} round(s), {options.seconds} s each, "
          f"{options.connections} connections:")
    print(common.table(
        ["system", "requests/s", "p50 ms", "p99 ms", "throughput ratio to the baseline"],
        [(name, f"{s.rps:.1f}", f"{s.p50:.1f}", f"{s.p99:.1f}", f"{s.rps / sync.rps:.1f}x")
         for name, s in ((FAST, fast), (SLOW, slow), (SYNC, sync))]))
    print()
    kept, growth, speedup = slow.rps / fast.rps, slow.p99 / fast.p99, slow.rps / sync.rps
    print(common.table(["check", "measured", "target", "result"], [
        ("receiver throughput, slow shop / fast shop", f"{kept:.2f}x",
         f">= {MIN_THROUGHPUT_KEPT}x", common.verdict(kept >= MIN_THROUGHPUT_KEPT)),
        ("receiver p99, slow shop / fast shop", f"{growth:.2f}x",
         f"<= {MAX_P99_GROWTH}x", common.verdict(growth <= MAX_P99_GROWTH)),
        ("receiver / synchronous baseline throughput (slow shop)", f"{speedup:.0f}x",
         f">= {MIN_SPEEDUP}x", common.verdict(speedup >= MIN_SPEEDUP)),
    ]))
    print()
    print(common.details_table(runs))


if __name__ == "__main__":
    main()
