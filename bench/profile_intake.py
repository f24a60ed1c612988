"""The receiver's profile under bench 1's load (issue 19): py-spy samples each
serving process of the Procfile's web command while wrk posts carts, and this
prints the functions that hold the most samples, by own time and in all.

    python bench/profile_intake.py [--root CHECKOUT] [--seconds 8] [--connections 32]

`--root` profiles another checkout's app (e.g. one unpacked from an older
commit with `git archive COMMIT | tar -x -C DIR`); bench/'s load and
simulator are this checkout's. The shop runs with Shopify's standard REST
limits (a bucket of 40 leaking 2 a second), as issue 19 measures. Needs
`pip install py-spy` and `wrk`; the raw folded stacks stay in the work folder
with `--keep` (feed them to flamegraph.pl or speedscope for the graph).
"""

import argparse
import collections
import subprocess
import threading
import time
from pathlib import Path

import common
import requests

TOP = 15


def _serving(root, env, directory):
    port = common.free_port()
    service = common.Service("receiver", common.WEB_COMMAND, {**env, "PORT": str(port)},
                             Path(directory) / "receiver.log", cwd=root)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                return service, url
        except requests.RequestException:
            time.sleep(0.1)
    service.stop()
    raise RuntimeError(f"the receiver did not come up:\n{service.log_tail()}")


def profile(root, directory, seconds, connections, gil=False):
    """Folded stacks of each serving process over `seconds` of load; {frame: samples}."""
    with common.running(lambda: common.SimulatorProcess(directory)) as shop:
        env = common.receiver_env(shop.url, Path(directory) / "events.sqlite3")
        service, url = _serving(root, env, directory)
        try:
            common.run_wrk(url, 3, connections, directory)  # warm-up
            outputs, spies = [], []
            load = threading.Thread(target=common.run_wrk,
                                    args=(url, seconds + 2, connections, directory))
            load.start()
            time.sleep(1)
            for pid in common.children_of(service.pid) or [service.pid]:
                out = Path(directory) / f"profile-{pid}.txt"
                outputs.append(out)
                spies.append(subprocess.Popen(
                    ["py-spy", "record", "--pid", str(pid), "--duration", str(seconds),
                     "--rate", "200", "--nonblocking", "--format", "raw", "--output", str(out),
                     *(["--gil"] if gil else [])],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            for spy in spies:
                spy.wait(timeout=seconds + 60)
            load.join()
        finally:
            service.stop()
    return outputs


def top(outputs):
    """(total samples, [(own, frame)], [(inclusive, frame of the app's code)]) over
    the folded stacks."""
    own, inclusive, total = collections.Counter(), collections.Counter(), 0
    for out in outputs:
        for line in out.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack:
                continue
            samples = int(count)
            frames = [_short(frame) for frame in stack.split(";")]
            total += samples
            own[frames[-1]] += samples
            for frame, full in set(zip(frames, stack.split(";"), strict=True)):
                if "(app/" in full and "(app/serve.py" not in full:
                    inclusive[frame] += samples
    return total, own.most_common(TOP), inclusive.most_common(TOP)


def _short(frame):
    """`function (path:line)` without the line and the path's folders, to add up
    a function's samples."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rpartition(":")[0]
    return f"{name} ({'/'.join(Path(path).parts[-2:])})"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", default=str(common.ROOT), help="the checkout to profile")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--gil", action="store_true",
                        help="sample only the thread holding the GIL: where the CPU goes")
    parser.add_argument("--keep", action="store_true")
    options = parser.parse_args()
    common.header(f"Profile of POST /webhooks/cart under load: {options.root}")
    with common.workdir(options.keep) as directory:
        total, own, inclusive = top(profile(options.root, directory, options.seconds,
                                            options.connections, options.gil))
    which = "the thread holding the GIL" if options.gil else "active threads"
    print(f"{total} samples (both serving processes, {which} only)")
    print(common.table(["own samples", "%", "function"],
                       [(str(n), f"{100 * n / total:.1f}", frame) for frame, n in own]))
    print()
    print(common.table(["samples within", "%", "function of the app"],
                       [(str(n), f"{100 * n / total:.1f}", frame) for frame, n in inclusive]))


if __name__ == "__main__":
    main()
