"""Benchmark: the floor ratio of a renewal — what one customer's whole journey costs the server
beside what the framework and the password hash cannot avoid (gunicorn + PostgreSQL).

    .venv/bin/python bench/bench_journey.py [--customers 30] [--think 1.0] [--workers 2]
        [--redis redis://127.0.0.1:6379/11] [--db postgres://postgres@127.0.0.1:5432/keizoku_i11_journey]

Creates (and drops at the end) a PostgreSQL database with one member per customer, each with a
linked policy inside its window, and starts gunicorn with the production configuration
(``config/gunicorn.py`` plus the CPU hooks of ``bench/gunicorn_cpu.py``, DEBUG off, Redis as in
production when it answers) on a free loopback port. Then, in the same run:

1. every customer's whole journey: login page, login, MyPage, the renewable list, 「契約の更改」,
   each wizard step shown and answered (plans re-priced once through htmx), 【申し込む】, the
   completion page — customers start within 5 × ``--think`` seconds and read each page
   ``--think`` seconds on average (0: all at once without pause, which overloads the server:
   answers 「ただいま混雑しています」 are then reloaded by the customer, as people do);
2. the constant page ``/livez`` (the whole middleware stack, no database), as many requests;
3. one Argon2 verification at our parameters, in its own process (before and after).

The server's CPU (gunicorn's processes, every thread, from /proc; PostgreSQL not included) gives
``floor = requests per journey × CPU of one /livez + CPU of one Argon2 verification`` and
``floor ratio = floor / CPU of one journey`` (issue 11: goal ≥ 0.7, 1.0 = every page as cheap
as /livez). Also printed: each page's median server CPU (the gunicorn hooks), page times, the
busy answers and the errors (goal 0). Exit status 1 below the goal or on any error.
"""

import argparse
import contextlib
import http.client
import json
import multiprocessing
import os
import random
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import machine
from machine import free_port

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository's own modules
from tests.journey import STEPS

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
PASSWORD = "x9Lq2!zz"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
ID = re.compile(r"/\d+/")


class Browser:
    """A cookie-keeping HTTP/1.1 client on one keep-alive connection, timing every request."""

    def __init__(self, port: int, ip: str = "127.0.0.1", think: float = 0.0):
        self.port = port
        self.think = think  # mean seconds a customer spends on a page before the next request
        self.ip = ip  # the customer's address, as the load balancer would pass it on
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.times: list[tuple[str, float]] = []  # (request, seconds)
        self.errors: list[str] = []
        self.busy: list[tuple[str, float]] = []  # (request, when) answered with the busy page

    def _send(self, method: str, path: str, body, headers: dict):
        try:
            self.conn.request(method, path, body=body, headers=headers)
            return self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed the idle keep-alive connection during a pause: reconnect, as
            # browsers do (the request never reached it).
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.conn.request(method, path, body=body, headers=headers)
            return self.conn.getresponse()

    def request(
        self, method: str, path: str, data: dict | None = None, headers: dict | None = None
    ) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data or {}, doseq=True) if method == "POST" else None
        all_headers = {
            "Host": "127.0.0.1",
            "X-Forwarded-For": self.ip,
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        if body is not None:
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
            all_headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
            if "csrftoken" in self.cookies:
                all_headers["X-CSRFToken"] = self.cookies["csrftoken"]
        all_headers.update(headers or {})
        if self.think and self.times:
            time.sleep(random.expovariate(1 / self.think))  # reading the page, typing
        for _attempt in range(30):
            started = time.perf_counter()
            response = self._send(method, path, body, all_headers)
            if response.status != 503 or not response.getheader("Retry-After"):
                break
            # 「ただいま混雑しています」: nothing was done; the customer waits and reloads (a POST's
            # reload sends the same form).
            response.read()
            label = f"{method} {ID.sub('/<id>/', path.split('?')[0])}"
            self.busy.append((label, time.perf_counter() - started))
            time.sleep(float(response.getheader("Retry-After")) * random.uniform(0.5, 1.5))
        text = response.read().decode()
        elapsed = time.perf_counter() - started
        label = re.sub(r"/\d+/", "/<id>/", path.split("?")[0])
        self.times.append((f"{method} {label}", elapsed))
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        if response.status >= 400:
            self.errors.append(f"{method} {path} → {response.status}")
        return response.status, response.getheader("Location") or "", text

    def get(self, path: str) -> str:
        status, location, text = self.request("GET", path)
        while status in (301, 302, 303):
            path = location
            status, location, text = self.request("GET", path)
        return text

    def post(self, path: str, data: dict, headers: dict | None = None) -> str:
        html = data.pop("_html", None)
        token = CSRF.search(html).group(1) if html and CSRF.search(html) else None
        if token:
            data["csrfmiddlewaretoken"] = token
        _status, location, _text = self.request("POST", path, data, headers)
        return location


def journey(args: tuple) -> tuple[list, list[str], list]:
    """One customer's renewal, from the login page to the completion page: (page times,
    errors, busy answers). ``spread``: with a think time, start within 5 think times."""
    port, email, contract_id, think, *rest = args
    spread = rest[0] if rest else True
    number = int(re.search(r"\d+", email).group())
    # One address each; with --think, customers also start at different moments.
    b = Browser(port, ip=f"198.18.{number // 250}.{number % 250 + 1}", think=think)
    if think and spread:
        time.sleep(random.uniform(0, think * 5))
    page = b.get("/mypage/login/")
    b.post("/mypage/login/", {"_html": page, "login": email, "password": PASSWORD})
    b.get("/mypage/")
    b.get("/mypage/renewals/")
    page = b.get(f"/clickar/{contract_id}/")
    for slug, data in STEPS:
        url = f"/clickar/{contract_id}/{slug}/"
        page = b.get(url)
        if slug == "plan":  # the custom plan re-priced once, as a customer trying options
            b.post(
                url,
                {
                    "_html": page,
                    "plan": "custom",
                    "custom-personal_injury": "unlimited",
                    "custom-property_damage": "unlimited",
                    "custom-vehicle_cover": "none",
                    "custom-deductible": "",
                    "custom-riders": ["legal"],
                },
                headers={"HX-Request": "true"},
            )
        b.post(url, {"_html": page, **data})
    url = f"/clickar/{contract_id}/confirm/"
    page = b.get(url)
    match = KEY.search(page)
    if match is None:
        b.errors.append(f"{email}: the confirmation page has no form ({b.errors[-3:]})")
        return b.times, b.errors, b.busy
    key = match.group(1)
    location = b.post(url, {"_html": page, "intent": "on", "idempotency_key": key})
    page = b.get(location)
    if "受付番号" not in page:
        b.errors.append(f"{email}: no acceptance number")
    return b.times, b.errors, b.busy


def constant(args: tuple[int, int]) -> tuple[list[float], list[str]]:
    port, count = args
    b = Browser(port)
    for _ in range(count):
        b.request("GET", "/livez")
    return b.times, b.errors, b.busy


def run_clients(function, jobs: list, concurrency: int):
    started = time.perf_counter()
    with multiprocessing.Pool(concurrency) as pool:
        results = pool.map(function, jobs, chunksize=1)
    elapsed = time.perf_counter() - started
    times = [t for result in results for t in result[0]]  # (request, seconds)
    errors = [e for result in results for e in result[1]]
    busy = [b for result in results for b in result[2]]
    return elapsed, times, errors, busy


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by gunicorn's master and its workers: the server's
    own cost, steadier than wall time on a machine shared with other work."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for process in [str(pid), *children]:
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def argon2_cpu(env: dict, rounds: int = 20) -> tuple[float, str]:
    """CPU seconds of one password verification with the first of ``PASSWORD_HASHERS`` at our
    parameters (every thread of the process counted), and a description of the parameters."""
    script = f"""
import django, json, time
django.setup()
from django.contrib.auth.hashers import get_hashers
hasher = get_hashers()[0]
encoded = hasher.encode("{PASSWORD}", hasher.salt())
hasher.verify("{PASSWORD}", encoded)
started = time.process_time()
for _ in range({rounds}):
    assert hasher.verify("{PASSWORD}", encoded)
cpu = (time.process_time() - started) / {rounds}
params = ", ".join(
    f"{{name}} {{getattr(hasher, name)}}" for name in ("time_cost", "memory_cost", "parallelism")
)
print(json.dumps([cpu, f"{{hasher.algorithm}} ({{params}})"]))
"""
    out = subprocess.run(
        [PYTHON, "-c", script], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    cpu, description = json.loads(out.strip().splitlines()[-1])
    return cpu, description


def page_cpu(prefix: str) -> dict[str, list[float]]:
    """label → server CPU (ms) of each request, from the gunicorn hooks of gunicorn_cpu.py."""
    by_label: dict[str, list[float]] = {}
    for path in Path(prefix).parent.glob(Path(prefix).name + ".*"):
        for line in path.read_text().splitlines():
            method, url, status, cpu = line.split()
            if url == "/livez" or status == "503":
                continue  # the warm-up and the constant phase
            label = f"{method} {ID.sub('/<id>/', url)}"
            by_label.setdefault(label, []).append(float(cpu))
    return by_label


def hooks_cpu(prefix: str) -> tuple[float, int]:
    """(seconds, requests) of application CPU logged so far by the gunicorn hooks, all pages."""
    total, count = 0.0, 0
    for path in Path(prefix).parent.glob(Path(prefix).name + ".*"):
        for line in path.read_text().splitlines():
            total += float(line.rsplit(None, 1)[1]) / 1000
            count += 1
    return total, count


def setup_data(env: dict, customers: int) -> list[tuple[str, int]]:
    """One member per customer, each with a linked policy inside its window. The password is
    hashed once (Argon2, our parameters) and the hash shared: setting up thousands of members
    must not take an Argon2 verification each."""
    script = f"""
import django, json
django.setup()
from allauth.account.models import EmailAddress
from keizoku.accounts.models import PolicyLink, User
from tests.factories import make_agency, make_contract, make_group, make_member
group = make_group(agency=make_agency(code="BENCH"), renewal_window_days=60)
first = make_member("bench0@example.jp", "{PASSWORD}")
users = []
for i in range({customers}):
    contract = make_contract(group=group, policy_number=f"B-{{i:05d}}")
    if i:
        user = User.objects.create(email=f"bench{{i}}@example.jp", password=first.password, name="継続 太郎")
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    else:
        user = first
    PolicyLink.objects.create(member=user, contract=contract)
    users.append((user.email, contract.pk))
print(json.dumps(users))
"""
    out = subprocess.run(
        [PYTHON, "-c", script], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    return [tuple(row) for row in json.loads(out.strip().splitlines()[-1])]


def redis_env(url: str) -> dict:
    """REDIS_URL as production sets it, when that Redis answers (its database is emptied first:
    rate limits of an earlier run must not count); otherwise the database cache."""
    if not url:
        return {}
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).flushdb()
    except Exception as error:  # any failure means no Redis here
        print(f"no Redis at {url} ({error}): the database cache is used")
        return {}
    return {"REDIS_URL": url}


def server_description(workers: int, env: dict) -> str:
    """The gunicorn and Django configuration being measured, in one line."""
    sys.path.insert(0, str(ROOT))
    from config import gunicorn as production

    slots = env.get("ADMISSION_SLOTS", "4 (default)")
    cache = "Redis (cache and sessions)" if env.get("REDIS_URL") else "database cache"
    return (
        f"gunicorn -c config/gunicorn.py --workers {workers} ({production.worker_class}, "
        f"{production.threads} threads, admission slots {slots}), PostgreSQL, {cache}, DEBUG off"
    )


@contextlib.contextmanager
def served(db: str, customers: int, gunicorn_args: list[str], extra_env: dict | None = None):
    """A fresh PostgreSQL database ``db`` with ``customers`` members (each with a policy in its
    window) and gunicorn serving it on a free loopback port with production settings (DEBUG off).
    Yields (port, gunicorn's pid, [(email, contract id)], environment); drops everything after."""
    import psycopg

    name = urllib.parse.urlsplit(db).path.lstrip("/")
    admin_url = db.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1",
        "BASE_URL": f"http://127.0.0.1:{port}",
        "EMAIL_URL": "console:",
        "LOG_LEVEL": "WARNING",
        # As in production behind a load balancer: each customer has an address of their own.
        "TRUSTED_PROXY_COUNT": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONPATH": str(ROOT),
        **(extra_env or {}),
    }
    env.pop("PYTEST_VERSION", None)
    server = None
    try:
        for command in (
            ["migrate", "-v0"],
            ["createcachetable"],
            ["collectstatic", "--noinput", "-v0"],
        ):
            subprocess.run([PYTHON, "manage.py", *command], env=env, cwd=ROOT, check=True)
        users = setup_data(env, customers)
        server = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                *gunicorn_args,
            ],
            env=env,
            cwd=ROOT,
        )
        for _ in range(300):
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                probe.request("GET", "/livez")
                probe.getresponse().read()
                break
            except OSError:
                time.sleep(0.1)
        yield port, server.pid, users, env
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379/11",
        help="the cache and session cache of production (flushed first); '' for the database cache",
    )
    parser.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="mean seconds a customer reads each page (0: no pause, the server overloaded)",
    )
    parser.add_argument("--db", default="postgres://postgres@127.0.0.1:5432/keizoku_i11_journey")
    options = parser.parse_args()

    cpu_dir = tempfile.TemporaryDirectory(prefix="keizoku-bench-cpu-")
    cpu_log = str(Path(cpu_dir.name) / "cpu")
    gunicorn_args = [
        "-c",
        str(ROOT / "bench" / "gunicorn_cpu.py"),
        "--workers",
        str(options.workers),
    ]
    with served(
        options.db,
        options.customers,
        gunicorn_args,
        {"KEIZOKU_BENCH_CPU_LOG": cpu_log, **redis_env(options.redis)},
    ) as (port, pid, users, env):
        argon2, argon2_params = argon2_cpu(env)
        # Warm every worker (imports, templates, the rating tables) before measuring.
        run_clients(constant, [(port, 20)] * options.workers * 2, options.workers * 2)
        load_before = os.getloadavg()[0]
        hooks_start = hooks_cpu(cpu_log)
        cpu_before = server_cpu(pid)
        journey_elapsed, journey_times, journey_errors, journey_busy = run_clients(
            journey, [(port, email, cid, options.think) for email, cid in users], options.customers
        )
        journey_cpu = server_cpu(pid) - cpu_before
        hooks_journey = hooks_cpu(cpu_log)
        per_page = page_cpu(cpu_log)
        per_client = max(1, len(journey_times) // options.customers)
        cpu_before = server_cpu(pid)
        _elapsed, constant_times, constant_errors, _busy = run_clients(
            constant, [(port, per_client)] * options.customers, options.customers
        )
        constant_cpu = server_cpu(pid) - cpu_before
        hooks_constant = hooks_cpu(cpu_log)
        argon2_after, _params = argon2_cpu(env)
    cpu_dir.cleanup()
    argon2 = (argon2 + argon2_after) / 2

    by_request: dict[str, list[float]] = {}
    for label, seconds in journey_times:
        by_request.setdefault(label, []).append(seconds)
    journey_times = [seconds for _label, seconds in journey_times]
    requests_per_journey = len(journey_times) / len(users)
    livez_cpu = constant_cpu / len(constant_times)
    cpu_per_journey = journey_cpu / len(users)
    floor = requests_per_journey * livez_cpu + argon2
    ratio = floor / cpu_per_journey
    quantiles = statistics.quantiles(journey_times, n=100)
    print(f"machine: {machine.describe()} (at the start of the journeys: {load_before:.1f})")
    print(
        f"server: {server_description(options.workers, env)}; {options.customers} customers at once"
    )
    print(
        f"journey: {len(journey_times)} requests ({requests_per_journey:.0f} per journey) in "
        f"{journey_elapsed:.2f} s, {len(users)} applications"
    )
    print(
        f"server CPU (gunicorn, not PostgreSQL): one journey {cpu_per_journey * 1000:.0f} ms; "
        f"one /livez {livez_cpu * 1000:.2f} ms; one {argon2_params} verification "
        f"{argon2 * 1000:.0f} ms"
    )
    print(
        f"floor = {requests_per_journey:.0f} × {livez_cpu * 1000:.2f} ms + {argon2 * 1000:.0f} ms "
        f"= {floor * 1000:.0f} ms per journey"
    )
    print(f"floor ratio (floor / journey CPU): {ratio:.2f} (goal ≥ 0.7)")
    # What the hooks do not see: gunicorn's own work (HTTP parsing, the access log, its threads),
    # per request served, in each phase (the journey's Argon2 runs in threads of its own).
    app_journey = hooks_journey[0] - hooks_start[0]
    served_journey = hooks_journey[1] - hooks_start[1]
    app_constant = hooks_constant[0] - hooks_journey[0]
    served_constant = hooks_constant[1] - hooks_journey[1]
    print(
        "outside the application (server CPU − hooks' CPU − Argon2, per request served): journey "
        f"{(journey_cpu - app_journey - argon2 * len(users)) / max(1, served_journey) * 1000:.2f}"
        f" ms (application {app_journey / max(1, served_journey) * 1000:.2f} ms); /livez "
        f"{(constant_cpu - app_constant) / max(1, served_constant) * 1000:.2f} ms (application "
        f"{app_constant / max(1, served_constant) * 1000:.2f} ms)"
    )
    if options.think:
        print(f"customers read each page {options.think:g} s on average")
    print(
        f"journey page time: p50 {quantiles[49] * 1000:.0f} ms, p95 {quantiles[94] * 1000:.0f} ms,"
        f" max {max(journey_times) * 1000:.0f} ms (no goal here: bench_capacity.py measures page "
        "times at a steady arrival rate)"
    )
    print("server CPU per page (median ms; ×/livez), from the gunicorn hooks:")
    for label, values in sorted(per_page.items(), key=lambda item: -statistics.median(item[1])):
        median = statistics.median(values)
        print(f"  {label:48} {median:6.2f} ms {median / (livez_cpu * 1000):5.1f}× ({len(values)})")
    print(
        f"answered 「ただいま混雑しています」 and reloaded by the customer: {len(journey_busy)} "
        "(0 while the server keeps up; customers who never pause overload it by design)"
    )
    errors = journey_errors + constant_errors
    print(f"errors: {len(errors)}" + (f" e.g. {errors[:5]}" if errors else "") + " (goal 0)")
    if errors or ratio < 0.7:
        sys.exit(1)


if __name__ == "__main__":
    main()
