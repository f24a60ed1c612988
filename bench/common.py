"""What the benchmarks share: servers on loopback, the shopper's cart, wrk, tables.

Every server is started here and stopped here, by its own process id, and
every load run is bounded in time. Nothing in this module changes the app: it
drives `app.wsgi:app`, `app.dev.simulator` and the small apps in bench/ from the
outside, the way the Procfile and the demo run them.
"""

import itertools
import json
import logging
import math
import os
import platform
import random
import resource
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from app.dev.serving import serve_in_thread  # noqa: E402
from app.dev.simulator import DEFAULT_CONFIG, create_simulator  # noqa: E402
from app.intake.signature import sign  # noqa: E402

SECRET = "benchSharedSecret4f1c9a7e2b"
TOKEN = DEFAULT_CONFIG["token"]
ORIGIN = "https://bench-store.example"
# The Procfile's web line, `python -m app.serve`: WEB_CONCURRENCY waitress processes
# (default 2) of WEB_THREADS threads (default 16) on one socket, a complete request
# per thread, no access log of its own.
WEB_COMMAND = [sys.executable, "-m", "app.serve"]
# A leaky bucket no load here can fill, for benchmarks that are about latency.
BIG_BUCKET = 100_000
CUSTOMER_POOL = 50_000
FIRST_CUSTOMER_ID = 7_210_000_000_000
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- Ports, processes, /proc -------------------------------------------------------------

def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stat_fields(pid):
    """Fields of /proc/<pid>/stat after the command name, or None once the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def children_of(pid):
    """Process ids whose parent is `pid` (any a server we started left behind)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(entry.name)
            if fields is not None and fields[1] == str(pid):
                found.append(int(entry.name))
    return sorted(found)


def cpu_seconds(pids):
    """User + system CPU time the processes have used so far."""
    total = 0.0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


def machine_busy_seconds():
    """CPU seconds all cores have spent busy since boot (/proc/stat, all but idle and iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


QUIET_CORES = 0.3
QUIET_WAIT_SECONDS = float(os.environ.get("BENCH_QUIET_WAIT", "300"))


def wait_for_quiet(window=2.0):
    """Wait (at most QUIET_WAIT_SECONDS) until the machine has been nearly idle for
    `window` seconds, so that a run does not start during someone else's work;
    return the busy cores last seen. Our own idle servers count, but they are idle."""
    deadline = time.monotonic() + QUIET_WAIT_SECONDS
    waited = False
    while True:
        before = machine_busy_seconds()
        time.sleep(window)
        cores = (machine_busy_seconds() - before) / window
        if cores <= QUIET_CORES or time.monotonic() >= deadline:
            if waited:
                state = "quiet" if cores <= QUIET_CORES else "still busy, going on"
                print(f"  (waited for other work on the machine: {state}, {cores:.2f} cores)",
                      flush=True)
            return cores
        waited = True


def memory_kib(pid):
    """VmHWM (peak resident set) and VmRSS of a process, in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            values[name] = int(rest.split()[0])
    return values


class Service:
    """One process we started; stopped by its pid (and its children's pids) only."""

    def __init__(self, name, command, env, log_path, cwd=ROOT):
        self.name = name
        self.log_path = Path(log_path)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log,
                                            stderr=subprocess.STDOUT)

    @property
    def pid(self):
        return self.process.pid

    def pids(self):
        return [self.pid, *children_of(self.pid)]

    def cpu_seconds(self):
        return cpu_seconds(self.pids())

    def log_tail(self, lines=30):
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self, grace=15):
        children = children_of(self.pid)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in children:  # a worker its master left behind
            fields = _stat_fields(pid)
            if fields is not None and fields[0] != "Z":
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


class HttpService(Service):
    """A server on a free loopback port, ready once `health` answers 200. The web
    command's children serve (its supervisor only waits), so they are the ones to
    measure; a server with no children serves itself."""

    def __init__(self, name, command, env, workdir, port, health="/healthz", cwd=ROOT):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        super().__init__(name, command, env, Path(workdir) / f"{_slug(name)}.log", cwd=cwd)
        try:
            self._wait_healthy(health)
        except BaseException:
            self.stop()
            raise

    def _wait_healthy(self, health, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n"
                                   f"{self.log_tail()}")
            try:
                if requests.get(self.url + health, timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not healthy within {timeout} s:\n{self.log_tail()}")

    def worker_pids(self):
        return children_of(self.pid) or [self.pid]


def web_process(name, env, workdir, app_path=None, cwd=ROOT):
    """The Procfile's web command on a free loopback port (PORT), serving `app_path`
    (MODULE:APP) instead of the receiver if given, the `app` of checkout `cwd`."""
    port = free_port()
    command = WEB_COMMAND + ([app_path] if app_path else [])
    return HttpService(name, command, {**env, "PORT": str(port)}, workdir, port, cwd=cwd)


@contextmanager
def running(service_factory):
    """Start a service, yield it, and always stop it."""
    service = service_factory()
    try:
        yield service
    finally:
        service.stop()


def receiver_env(shop_url, database_path, run_worker=True, **extra):
    """The receiver's environment as a PaaS deployment would set it: behind one
    router (TRUSTED_PROXIES=1, so each shopper's X-Forwarded-For counts as their
    address), the storefront's origin allowed, the simulator as the shop."""
    return {
        **os.environ,
        "SHOPIFY_SHOP": shop_url,
        "SHOPIFY_ACCESS_TOKEN": TOKEN,
        "SHARED_SECRET": SECRET,
        "DATABASE_URL": f"sqlite:///{database_path}",
        "RUN_WORKER": "1" if run_worker else "0",
        "ALLOWED_ORIGINS": ORIGIN,
        "TRUSTED_PROXIES": "1",
        **extra,
    }


def receiver(name, shop_url, workdir, database, run_worker=True, cwd=ROOT, **extra):
    """The receiver exactly as the Procfile runs it (`python -m app.serve`), its
    events in the SQLite file `database`, its log in `workdir`; `cwd`'s app."""
    return web_process(name, receiver_env(shop_url, database, run_worker, **extra), workdir,
                       cwd=cwd)


def bench_app(name, module, workdir, env=None):
    """A small app from bench/ under the same web command as the receiver."""
    return web_process(name, {**os.environ, **(env or {})}, workdir, f"bench.{module}:app")


class SimulatorProcess(HttpService):
    """The simulator under waitress in a process of its own (its state is in
    memory), with enough threads for every client to be served at once."""

    def __init__(self, workdir, **config):
        port = free_port()
        super().__init__("simulator", [sys.executable, "-m", "waitress",
                                       f"--listen=127.0.0.1:{port}", "--threads=64",
                                       "--call", "app.dev.simulator:create_simulator"],
                         dict(os.environ), workdir, port, health="/_sim/config")
        self.configure(**config)

    def configure(self, reset=True, **config):
        if reset:
            requests.post(self.url + "/_sim/reset", timeout=10).raise_for_status()
        requests.post(self.url + "/_sim/config", json=config, timeout=10).raise_for_status()

    def requests_log(self):
        return requests.get(self.url + "/_sim/requests", timeout=60).json()["requests"]


@contextmanager
def thread_simulator(**config):
    """The simulator in a thread of this process with wall-clock log times;
    yields (base URL, its SimulatorState)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    sim_app = create_simulator(config, clock=time.time)
    served = serve_in_thread(sim_app)
    try:
        yield served.url, sim_app.extensions["shopify_simulator"]
    finally:
        served.shutdown()


@contextmanager
def workdir(keep=False, parent=None):
    """A fresh folder for logs and databases (under `parent`, e.g. /dev/shm), removed after."""
    path = Path(tempfile.mkdtemp(prefix="cart-bench-", dir=parent))
    try:
        yield path
    finally:
        if keep:
            print(f"(kept {path})")
        else:
            shutil.rmtree(path, ignore_errors=True)


# --- The shopper's cart ----------------------------------------------------------------

_PRODUCTS = [
    # (variant id, product, variant title, price in cents, properties or None)
    (40112233440001, "Merino crew sweater", "M / Heather grey", 8900,
     {"Monogram": "J.L.S.", "_gift_message": "Happy birthday, Dad!"}),
    (40112233440002, "Organic cotton tee", "L / Navy", 2800, None),
    (40112233440003, "Canvas tote bag", "Natural", 2400, {"Print": "Front and back"}),
    (40112233440004, "Ceramic pour-over set", "Speckled white", 5600, None),
    (40112233440005, "Single-origin coffee beans", "250 g / Whole bean", 1650,
     {"Grind": "Whole bean", "Roast date": "2025-11-20"}),
    (40112233440006, "Wool beanie", "One size / Rust", 3200, None),
    (40112233440007, "Leather card holder", "Tan", 4500, {"Engraving": "Für Élodie ♥"}),
    (40112233440008, "Linen napkins (set of 4)", "Sage", 3900, None),
    (40112233440009, "Beeswax candle", "Large", 2200, None),
    (40112233440010, "Gift card", "$50", 5000,
     {"Recipient email": "friend@example.com", "Send on": "2025-12-24"}),
]


def _cart_line(index, product):
    variant_id, title, variant_title, price, properties = product
    quantity = 1 + index % 3
    product_id = 8_000_000_000_000 + variant_id % 10_000
    handle = title.lower().replace(" ", "-").replace("(", "").replace(")", "")
    return {
        "id": variant_id, "properties": properties, "quantity": quantity,
        "variant_id": variant_id, "key": f"{variant_id}:{index:04x}bench",
        "title": f"{title} - {variant_title}", "price": price, "original_price": price,
        "discounted_price": price, "line_price": price * quantity,
        "original_line_price": price * quantity, "total_discount": 0, "discounts": [],
        "sku": f"SKU-{variant_id % 100000:05d}", "grams": 250, "vendor": "Bench Goods Co.",
        "taxable": True, "product_id": product_id, "product_has_only_default_variant": False,
        "gift_card": title == "Gift card", "final_price": price,
        "final_line_price": price * quantity, "url": f"/products/{handle}?variant={variant_id}",
        "featured_image": {"aspect_ratio": 1.0, "alt": title, "height": 1200, "width": 1200,
                           "url": f"https://cdn.shopify.com/s/files/1/0000/0001/files/{handle}.jpg"},
        "image": f"https://cdn.shopify.com/s/files/1/0000/0001/files/{handle}.jpg",
        "handle": handle, "requires_shipping": title != "Gift card", "product_type": "Goods",
        "product_title": title, "product_description": f"The {title.lower()} you know and love.",
        "variant_title": variant_title, "variant_options": variant_title.split(" / "),
        "options_with_values": [{"name": f"Option {i + 1}", "value": v}
                                for i, v in enumerate(variant_title.split(" / "))],
        "line_level_discount_allocations": [], "line_level_total_discount": 0,
        "has_components": False,
    }


def _cart_template():
    """The body the storefront script posts, as text with four markers: @CID@ and
    @SIG@ (a signed customer), @TOKEN@ (the cart token) and @SEQ@ (in the note)."""
    items = [_cart_line(i, p) for i, p in enumerate(_PRODUCTS)]
    total = sum(item["line_price"] for item in items)
    body = {
        "cart": {
            "token": "@TOKEN@",
            "note": "Please ring twice; leave with the neighbour at no. 12 if out. Ref @SEQ@",
            "attributes": {"Gift wrap": "yes", "Delivery date": "2025-12-03",
                           "How did you hear about us?": "Instagram"},
            "original_total_price": total, "total_price": total, "total_discount": 0,
            "total_weight": 2500, "item_count": sum(item["quantity"] for item in items),
            "items": items, "requires_shipping": True, "currency": "USD",
            "items_subtotal_price": total, "cart_level_discount_applications": [],
        },
        "customerId": "@CID@",
        "customerIdSignature": "@SIG@",
    }
    return json.dumps(body, ensure_ascii=False).replace('"@CID@"', "@CID@")


CART_TEMPLATE = _cart_template()


def customer(index):
    """The index-th customer of the pool and the signature the snippet renders for them."""
    customer_id = FIRST_CUSTOMER_ID + index % CUSTOMER_POOL
    return customer_id, sign(customer_id, SECRET)


def cart_body(seq, customer_index=None):
    """One shopper's submission as bytes: a distinct cart token and note per `seq`."""
    customer_id, signature = customer(seq if customer_index is None else customer_index)
    text = (CART_TEMPLATE.replace("@CID@", str(customer_id)).replace("@SIG@", signature)
            .replace("@TOKEN@", f"bench-{seq}").replace("@SEQ@", str(seq)))
    return text.encode()


def shopper_headers(seq):
    """Headers of the storefront script's POST, from a distinct address per shopper."""
    return {"Content-Type": "text/plain;charset=UTF-8", "Origin": ORIGIN,
            "X-Forwarded-For": f"10.{seq >> 16 & 255}.{seq >> 8 & 255}.{seq & 255}"}


def post_cart(session, url, seq):
    return session.post(url + "/webhooks/cart", data=cart_body(seq),
                        headers=shopper_headers(seq), timeout=30)


def preflight(url, expect=(202,)):
    """One submission before the load, so a misconfiguration fails loudly, not as a
    table of errors."""
    with requests.Session() as session:
        answer = post_cart(session, url, seq=random.randrange(10**9, 2 * 10**9))
    if answer.status_code not in expect:
        raise RuntimeError(f"preflight: {url} answered {answer.status_code}: {answer.text[:500]}")


# --- wrk ---------------------------------------------------------------------------------

@dataclass
class Load:
    """One wrk run: closed loop, fixed connections, latency in milliseconds."""

    requests: int
    seconds: float
    p50: float
    p90: float
    p99: float
    max: float
    non_2xx: int
    socket_errors: int
    wrk_cpu: float                              # cores used by wrk itself
    server_cpu: dict = field(default_factory=dict)  # name -> cores
    warmup_ok: int = 0                          # 2xx answers during the warm-up
    other_cpu: float = 0.0                      # cores busy with anything else meanwhile

    @property
    def rps(self):
        return self.requests / self.seconds

    @property
    def ok(self):
        return self.requests - self.non_2xx


def _load_files(directory):
    """The cart template and a pool of signed customers, as files for wrk's Lua script."""
    template = Path(directory) / "cart-template.json"
    customers = Path(directory) / "customers.txt"
    if not template.exists():
        template.write_text(CART_TEMPLATE, encoding="utf-8")
        customers.write_text("".join(f"{cid} {sig}\n" for cid, sig in
                                     map(customer, range(CUSTOMER_POOL))))
    return template, customers


def run_wrk(url, seconds, connections, directory, timeout=30):
    """POST a different shopper's cart on every request for `seconds` seconds."""
    template, customers = _load_files(directory)
    start = random.randrange(CUSTOMER_POOL)
    tag = f"{random.getrandbits(32):08x}"
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout}s",
               "-s", str(BENCH_DIR / "wrk_cart.lua"), url + "/webhooks/cart",
               "--", str(template), str(customers), tag, str(start), ORIGIN]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + timeout + 30)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    (count, micros, _bytes, connect, read, write, status, timeouts,
     p50, p90, p99, worst) = (float(v) for v in line.split()[1:])
    duration = micros / 1e6
    used = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return Load(int(count), duration, p50 / 1000, p90 / 1000, p99 / 1000, worst / 1000,
                int(status), int(connect + read + write + timeouts), used / duration)


def measure(url, directory, seconds, connections, warmup, watch=(), settle=0.5):
    """Warm up, let the server settle, then one measured wrk run; `watch` lists
    services whose CPU use during the run is reported."""
    wait_for_quiet()
    warm_ok = 0
    if warmup:
        warm_ok = run_wrk(url, warmup, connections, directory).ok
        time.sleep(settle)
    before = {service.name: service.cpu_seconds() for service in watch}
    busy = machine_busy_seconds()
    load = run_wrk(url, seconds, connections, directory)
    load.server_cpu = {service.name: (service.cpu_seconds() - before[service.name]) / load.seconds
                       for service in watch}
    load.other_cpu = max(0.0, (machine_busy_seconds() - busy) / load.seconds - load.wrk_cpu
                         - sum(load.server_cpu.values()))
    load.warmup_ok = warm_ok
    return load


def load_options(parser, seconds=15, rounds=2):
    parser.add_argument("--seconds", type=int, default=seconds, help="measured run per system")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up run per system")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=rounds,
                        help="rounds of all systems in turn; the table shows medians")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, DBs)")
    return parser


@dataclass
class System:
    """A server to load: `start(tag)` returns (service, its SQLite file or None)."""

    name: str
    start: object
    expect: tuple = (202,)
    settle: float = 0.5          # after the warm-up, for abandoned requests to finish
    warmup: bool = True          # False: the preflight submission is the only warm-up
    watch: tuple = ()            # other services whose CPU use is reported
    prepare: object = None       # called before each start (e.g. configure the simulator)


@dataclass
class Run:
    """One system under load once: wrk's numbers, its workers' peak memory, remarks."""

    name: str
    load: Load
    worker_hwm_mib: list
    remarks: list


def _slug(text):
    return "".join(c if c.isalnum() else "-" for c in text)[:40]


_run_numbers = itertools.count(1)


def receiver_system(name, shop_url, directory, watch=(), prepare=None, run_worker=True,
                    database_dir=None, cwd=ROOT, **env):
    """The receiver as the Procfile runs it, on a fresh SQLite file per run (in
    `database_dir`, default `directory`)."""
    def start(tag):
        database = (Path(database_dir or directory)
                    / f"events-{next(_run_numbers):03d}-{_slug(name)}-{tag}.sqlite3")
        return receiver(name, shop_url, directory, database, run_worker, cwd, **env), database
    return System(name, start, watch=watch, prepare=prepare)


def gunicorn_app_system(name, module, directory, env=None, workers=2, threads=8):
    """A small app from bench/ under gunicorn's threaded worker, as issue 19 ran its
    peers (2 x 8 threads); only where gunicorn is installed (`pip install gunicorn`:
    the project itself never uses it, app/serve.py says why)."""
    def start(tag):
        port = free_port()
        command = [sys.executable, "-m", "gunicorn", "--workers", str(workers),
                   "--worker-class", "gthread", "--threads", str(threads),
                   "--bind", f"127.0.0.1:{port}", f"bench.{module}:app"]
        return HttpService(name, command, {**os.environ, **(env or {})}, directory, port), None
    return System(name, start)


def bench_app_system(name, module, directory, env=None, **kwargs):
    return System(name, lambda tag: (bench_app(name, module, directory, env), None), **kwargs)


def load_system(system, directory, options, tag):
    """Start a system, check one submission, measure it under wrk, read its workers'
    peak memory, stop it; check that every 2xx it gave stored an event."""
    remarks = []
    service, database = system.start(tag)
    try:
        preflight(service.url, system.expect)
        load = measure(service.url, directory, options.seconds, options.connections,
                       options.warmup if system.warmup else 0,
                       watch=(service, *system.watch), settle=system.settle)
        hwm = [memory_kib(pid)["VmHWM"] / 1024 for pid in service.worker_pids()]
    finally:
        service.stop()
    if load.non_2xx or load.socket_errors:
        remarks.append(f"{load.non_2xx} non-2xx answers, {load.socket_errors} socket errors")
    if load.other_cpu > QUIET_CORES:
        remarks.append(f"DISTURBED: other processes used {load.other_cpu:.2f} cores")
    if database is not None:
        counts = events_by_status(database)
        stored, answered = sum(counts.values()), 1 + load.warmup_ok + load.ok
        # wrk stops with requests in flight: those may be stored but not counted.
        slack = 2 * options.connections
        check = "OK" if answered <= stored <= answered + slack else "MISMATCH"
        remarks.append(f"{answered} answered 2xx, {stored} events stored ({check}), "
                       f"{counts.get('completed', 0)} delivered meanwhile")
    return Run(system.name, load, hwm, remarks)


def compare(systems, directory, options):
    """All systems in turn, `options.rounds` times (so that whatever else the machine
    does falls on each of them alike); returns {name: [Run, ...]}."""
    runs = {system.name: [] for system in systems}
    for round_index in range(options.rounds):
        for system in systems:
            if system.prepare is not None:
                system.prepare()
            run = load_system(system, directory, options, tag=f"r{round_index + 1}")
            print(f"  round {round_index + 1}: {system.name}: {run.load.rps:.0f} requests/s, "
                  f"p50 {run.load.p50:.1f} ms, p99 {run.load.p99:.1f} ms", flush=True)
            runs[system.name].append(run)
    return runs


@dataclass
class Summary:
    """The median of each number over a system's rounds."""

    rps: float
    p50: float
    p99: float

    @classmethod
    def of(cls, runs):
        return cls(*(statistics.median(getattr(run.load, name) for run in runs)
                     for name in ("rps", "p50", "p99")))


def details_table(runs):
    """Every run: volume, errors, CPU use, peak memory of the worker processes."""
    rows = []
    for name, system_runs in runs.items():
        for index, run in enumerate(system_runs, 1):
            load = run.load
            rows.append((f"{name} #{index}", load.requests, f"{load.rps:.0f}", f"{load.p50:.1f}",
                         f"{load.p90:.1f}", f"{load.p99:.1f}", f"{load.max:.1f}",
                         cpu_note(load), "/".join(f"{m:.0f}" for m in run.worker_hwm_mib),
                         "; ".join(run.remarks) or "-"))
    return table(["run", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms",
                  "CPU cores during the run", "worker VmHWM MiB", "remarks"], rows)


# --- The event store, read from outside ------------------------------------------------

def events_by_status(database_path):
    with sqlite3.connect(database_path, timeout=30) as conn:
        return dict(conn.execute("SELECT status, COUNT(*) FROM events GROUP BY status"))


# --- Numbers and tables ------------------------------------------------------------------

def percentile(values, p):
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def verdict(ok):
    return "PASS" if ok else "MISS"


def table(columns, rows):
    """Rows of cells as a plain-text table (also valid Markdown)."""
    cells = [[str(c) for c in columns]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
             for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def cpu_note(load):
    parts = ([f"wrk {load.wrk_cpu:.2f}"]
             + [f"{'server' if i == 0 else name} {cores:.2f}"
                for i, (name, cores) in enumerate(load.server_cpu.items())]
             + [f"others {load.other_cpu:.2f}"])
    return ", ".join(parts)


def header(title):
    """What was measured, on what: printed at the top of every benchmark."""
    def git(*args):
        try:  # read-only look-ups
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "?"
    dirty = git("status", "--porcelain", "--", "app").splitlines()
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    wrk = shutil.which("wrk") or "wrk not installed"
    print(f"# {title}")
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}; {os.cpu_count()} cores ({cpu}); "
          f"Python {platform.python_version()}; {wrk}")
    print(f"app at {git('rev-parse', '--short', 'HEAD')}"
          + (f" + uncommitted changes in {len(dirty)} app/ file(s)" if dirty else ""))
    print()
