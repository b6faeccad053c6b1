"""Benchmark: 50 simulated customers renewing at once against gunicorn + PostgreSQL.

    .venv/bin/python bench/bench_journey.py [--customers 50] [--workers 4] [--threads 4]
        [--think 0] [--db postgres://postgres@127.0.0.1:5432/keizoku_bench_journey]

Creates (and drops at the end) a PostgreSQL database, migrates it, creates one member per
customer with a linked policy inside its window, starts gunicorn on a free loopback port with
production settings, then in the same run:

1. the constant page (``/livez``: the whole middleware stack, no database) under the same
   concurrency, for the same number of requests as the journeys make;
2. every customer's whole journey at once: login page, login, MyPage, the renewable list,
   「契約の更改」, each wizard step shown and answered (plans re-priced once through htmx),
   【申し込む】, the completion page.

Prints requests/second of both, their ratio (goal ≥ 0.5), and the p50/p95/max page time of the
journey (goal p95 < 300 ms), and fails when any request errs. The client runs in separate
processes so that its own work does not share the server's interpreter.

With ``--think 0`` (the default) the 50 customers log in in the same second and never pause:
the stress figure, and the only one whose throughput ratio means anything. ``--think S`` makes
each customer pause S seconds on average (exponential) on each page and start within 5·S
seconds, as people do; its page times show what a customer waits for under that load.
"""

import argparse
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
import time
import urllib.parse
from pathlib import Path

import machine
from machine import free_port

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
PASSWORD = "x9Lq2!zz"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')

STEPS = [
    ("consent", {"agree": "on"}),
    ("notes", {}),
    ("disclosure", {"confirmed": "on"}),
    ("current", {}),
    (
        "conditions",
        {
            "age_condition": "35",
            "driver_scope": "self_spouse",
            "use": "commute",
            "gold_license": "yes",
            "same_vehicle": "yes",
        },
    ),
    ("plan", {"plan": "recommended"}),
    ("premium", {}),
    (
        "declarations",
        {
            "other_insurance": "no",
            "use_change": "no",
            "modified": "no",
            "license_suspended": "no",
            "unreported_accident": "no",
        },
    ),
    ("payment", {"confirmed": "on"}),
    ("delivery", {"delivery": "web"}),
]


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
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=all_headers)
            response = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed the idle keep-alive connection during a pause: reconnect, as
            # browsers do (the request never reached it).
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            started = time.perf_counter()
            self.conn.request(method, path, body=body, headers=all_headers)
            response = self.conn.getresponse()
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


def journey(args: tuple[int, str, int, float]) -> tuple[list[float], list[str]]:
    port, email, contract_id, think = args
    number = int(re.search(r"\d+", email).group())
    # One address each; with --think, customers also start at different moments.
    b = Browser(port, ip=f"198.18.{number // 250}.{number % 250 + 1}", think=think)
    if think:
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
        return b.times, b.errors
    key = match.group(1)
    location = b.post(url, {"_html": page, "intent": "on", "idempotency_key": key})
    page = b.get(location)
    if "受付番号" not in page:
        b.errors.append(f"{email}: no acceptance number")
    return b.times, b.errors


def constant(args: tuple[int, int]) -> tuple[list[float], list[str]]:
    port, count = args
    b = Browser(port)
    for _ in range(count):
        b.request("GET", "/livez")
    return b.times, b.errors


def run_clients(function, jobs: list, concurrency: int):
    started = time.perf_counter()
    with multiprocessing.Pool(concurrency) as pool:
        results = pool.map(function, jobs, chunksize=1)
    elapsed = time.perf_counter() - started
    times = [t for result in results for t in result[0]]  # (request, seconds)
    errors = [e for result in results for e in result[1]]
    return elapsed, times, errors


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


def setup_data(env: dict, customers: int) -> list[tuple[str, int]]:
    script = f"""
import django, json
django.setup()
from keizoku.accounts.models import PolicyLink
from keizoku.core.testing import make_agency, make_contract, make_group, make_member
group = make_group(agency=make_agency(code="BENCH"), renewal_window_days=60)
users = []
for i in range({customers}):
    contract = make_contract(group=group, policy_number=f"B-{{i:05d}}")
    user = make_member(f"bench{{i}}@example.jp", "{PASSWORD}")
    PolicyLink.objects.create(member=user, contract=contract)
    users.append((user.email, contract.pk))
print(json.dumps(users))
"""
    out = subprocess.run(
        [PYTHON, "-c", script], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    return [tuple(row) for row in json.loads(out.strip().splitlines()[-1])]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean seconds between a customer's requests (0: no pause, the stress figure)",
    )
    parser.add_argument("--db", default="postgres://postgres@127.0.0.1:5432/keizoku_bench_journey")
    options = parser.parse_args()

    import psycopg

    url = urllib.parse.urlsplit(options.db)
    name = url.path.lstrip("/")
    admin_url = options.db.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": options.db,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1",
        "BASE_URL": f"http://127.0.0.1:{port}",
        "EMAIL_URL": "console:",
        # As in production behind a load balancer: each customer has an address of their own.
        "TRUSTED_PROXY_COUNT": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("PYTEST_VERSION", None)
    server = None
    try:
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
        subprocess.run([PYTHON, "manage.py", "createcachetable"], env=env, cwd=ROOT, check=True)
        subprocess.run(
            [PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"],
            env=env,
            cwd=ROOT,
            check=True,
        )
        users = setup_data(env, options.customers)
        server = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(options.workers),
                "--threads",
                str(options.threads),
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=ROOT,
        )
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/livez")
                break
            except OSError:
                time.sleep(0.1)

        # Warm every worker (imports, templates, the rating tables) before measuring.
        run_clients(constant, [(port, 20)] * options.workers * 2, options.workers * 2)

        cpu_before = server_cpu(server.pid)
        journey_elapsed, journey_times, journey_errors = run_clients(
            journey, [(port, email, cid, options.think) for email, cid in users], options.customers
        )
        journey_cpu = server_cpu(server.pid) - cpu_before
        per_client = max(1, len(journey_times) // options.customers)
        cpu_before = server_cpu(server.pid)
        constant_elapsed, constant_times, constant_errors = run_clients(
            constant, [(port, per_client)] * options.customers, options.customers
        )
        constant_cpu = server_cpu(server.pid) - cpu_before
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    by_request: dict[str, list[float]] = {}
    for label, seconds in journey_times:
        by_request.setdefault(label, []).append(seconds)
    journey_times = [seconds for _label, seconds in journey_times]
    journey_rps = len(journey_times) / journey_elapsed
    constant_rps = len(constant_times) / constant_elapsed
    quantiles = statistics.quantiles(journey_times, n=100)
    print(f"machine: {machine.describe()}")
    print(
        f"gunicorn: {options.workers} workers × {options.threads} threads; "
        f"{options.customers} concurrent customers"
    )
    print(
        f"constant view: {len(constant_times)} requests in {constant_elapsed:.2f} s "
        f"= {constant_rps:.0f} req/s"
    )
    print(
        f"journey:       {len(journey_times)} requests in {journey_elapsed:.2f} s "
        f"= {journey_rps:.0f} req/s ({len(users)} applications)"
    )
    print(
        f"server CPU (gunicorn, not PostgreSQL) per request: journey "
        f"{journey_cpu / len(journey_times) * 1000:.1f} ms, constant "
        f"{constant_cpu / len(constant_times) * 1000:.1f} ms"
    )
    if options.think:
        print(f"customers pause {options.think:g} s per page on average: throughput not saturated")
    print(f"ratio journey/constant: {journey_rps / constant_rps:.2f} (goal ≥ 0.5)")
    print(
        f"journey page time: p50 {quantiles[49] * 1000:.0f} ms, p95 {quantiles[94] * 1000:.0f} ms,"
        f" max {max(journey_times) * 1000:.0f} ms (goal p95 < 300 ms)"
    )
    print("slowest requests of the journey (mean, max):")
    slowest = sorted(by_request.items(), key=lambda item: -statistics.mean(item[1]))[:6]
    for label, seconds in slowest:
        print(
            f"  {label:45} {statistics.mean(seconds) * 1000:6.0f} ms {max(seconds) * 1000:6.0f} ms"
        )
    errors = journey_errors + constant_errors
    print(f"errors: {len(errors)}" + (f" e.g. {errors[:5]}" if errors else ""))
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
