"""Profile every page of a customer's renewal: server CPU, queries and where the time goes.

    .venv/bin/python bench/profile_journey.py [--customers 20] [--profiled 5]
        [--db postgres://postgres@127.0.0.1:5432/keizoku_i11_profile] [--tree FILE]

Creates (and drops at the end) a PostgreSQL database with production settings (DEBUG off,
CSRF enforced, one proxy in front), then walks the journey of ``bench_journey.py`` through the
whole Django stack in this process (Django's test client: the same middleware, views, templates
and queries as under gunicorn, without the HTTP server, whose cost is the same for every page
and is part of ``/livez``):

1. ``--customers`` journeys, each request timed in CPU (``time.thread_time``) with its number of
   SQL queries;
2. ``--profiled`` more journeys under pyinstrument, combined per page, to say where the time goes:
   password hashing, queries (ORM and driver), the session store, templates and form rendering,
   the rating engine, and the rest (middleware, views, allauth).

Prints one line per page — median CPU, its multiple of ``/livez`` measured the same way, queries,
and the share of each part — then each page's CPU by part (templates, SQL compilation and
execution, session, cache, the user's row: ``install_split``), and writes each page's
pyinstrument tree to ``--tree``.
"""

import argparse
import os
import re
import secrets
import statistics
import sys
import threading
import time
import urllib.parse
from collections import defaultdict
from pathlib import Path

import machine
from bench_journey import PASSWORD, STEPS, redis_env

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
PARTS = ("argon2", "queries", "session", "templates", "rating", "other")


def part_of(stack: list[str]) -> str:
    """The part a pyinstrument sample belongs to (its stack, outermost frame first)."""
    files = [frame.split("\x00")[1] if "\x00" in frame else frame for frame in stack]
    if any("argon2" in name or "hashers.py" in name for name in files):
        return "argon2"
    if any("/django/db/" in name or "/psycopg/" in name for name in files):
        return "queries"
    if any("/contrib/sessions/" in name for name in files):
        return "session"
    if any(
        "/django/template/" in name or "/django/forms/" in name or "/templatetags/" in name
        for name in files
    ):
        return "templates"
    if any("/keizoku/rating/" in name for name in files):
        return "rating"
    return "other"


SPLIT = ("templates", "sql_compile", "sql_execute", "session", "cache", "auth_user")
_split: dict[str, float] = defaultdict(float)


def install_split() -> None:
    """Count each request's thread CPU in a few parts (outermost call only, so that nothing is
    counted twice within a part; parts can nest: the session is read through the cache, inside
    ``auth_user``, which runs the user's query): Django templates, SQL compilation, SQL execution
    (the driver, waiting excluded), the session store, the cache (Redis) and
    ``django.contrib.auth.get_user`` (the session and the user's row)."""
    import functools

    import django.contrib.auth
    from django.contrib.sessions.backends import cached_db, db
    from django.core.cache.backends import redis
    from django.db.backends.utils import CursorWrapper
    from django.db.models.sql.compiler import SQLCompiler
    from django.template.backends.django import Template

    inside = threading.local()  # the parts being timed in this thread

    def wrap(owner, name: str, part: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            parts = inside.__dict__.setdefault("parts", set())
            if part in parts:
                return original(*args, **kwargs)
            parts.add(part)
            started = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                _split[part] += time.thread_time() - started
                parts.discard(part)

        setattr(owner, name, wrapper)

    wrap(Template, "render", "templates")
    wrap(SQLCompiler, "as_sql", "sql_compile")
    wrap(CursorWrapper, "execute", "sql_execute")
    for store in (cached_db.SessionStore, db.SessionStore):
        for name in ("load", "save", "exists", "delete"):
            wrap(store, name, "session")
    for name in ("get", "set", "add", "delete", "incr", "get_many", "set_many", "touch"):
        wrap(redis.RedisCacheClient, name, "cache")
    wrap(django.contrib.auth, "get_user", "auth_user")


def setup(db: str, customers: int) -> list[tuple[str, int]]:
    import psycopg

    name = urllib.parse.urlsplit(db).path.lstrip("/")
    with psycopg.connect(db.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ.update(
        {
            "DATABASE_URL": db,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": "testserver",
            "BASE_URL": "http://testserver",
            "EMAIL_URL": "console:",
            "LOG_LEVEL": "WARNING",
            "TRUSTED_PROXY_COUNT": "1",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
    )
    os.environ.pop("PYTEST_VERSION", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    from keizoku.accounts.models import PolicyLink
    from tests.factories import make_agency, make_contract, make_group, make_member

    group = make_group(agency=make_agency(code="BENCH"), renewal_window_days=60)
    users = []
    for i in range(customers):
        contract = make_contract(group=group, policy_number=f"B-{i:05d}")
        user = make_member(f"bench{i}@example.jp", PASSWORD)
        PolicyLink.objects.create(member=user, contract=contract)
        users.append((user.email, contract.pk))
    return users


class Recorder:
    """Runs requests through a test client, recording CPU and queries per page label."""

    def __init__(self, profiler_sessions: dict | None = None):
        self.cpu: dict[str, list[float]] = defaultdict(list)
        self.queries: dict[str, list[int]] = defaultdict(list)
        self.split: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        self.sessions = profiler_sessions  # label → combined pyinstrument session, when profiling
        self.order: list[str] = []

    def __call__(self, client, method: str, path: str, data=None, label_extra="", **headers):
        from django.db import connection

        label = f"{method}{label_extra} {re.sub(r'/\d+/', '/<id>/', path.split('?')[0])}"
        if label not in self.order:
            self.order.append(label)
        count = [0]

        def counter(execute, sql, params, many, context):
            count[0] += 1
            return execute(sql, params, many, context)

        profiler = None
        if self.sessions is not None:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002)
            profiler.start()
        _split.clear()
        with connection.execute_wrapper(counter):
            started = time.thread_time()
            if method == "GET":
                response = client.get(path, **headers)
            else:
                response = client.post(path, data or {}, **headers)
            cpu = time.thread_time() - started
        if profiler is not None:
            from pyinstrument.session import Session

            session = profiler.stop()
            previous = self.sessions.get(label)
            self.sessions[label] = (
                session if previous is None else Session.combine(previous, session)
            )
        else:
            self.cpu[label].append(cpu * 1000)
            self.queries[label].append(count[0])
            for part in SPLIT:
                self.split[label][part].append(_split.get(part, 0.0) * 1000)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path} → {response.status_code}")
        return response


def journey(record: Recorder, client, email: str, contract_id: int, number: int) -> None:
    """One customer's journey in a new browser (no cookies) from an address of their own."""
    client.cookies.clear()
    client.defaults["HTTP_X_FORWARDED_FOR"] = f"198.18.{number // 250}.{number % 250 + 1}"

    def token(response) -> str:
        return CSRF.search(response.content.decode()).group(1)

    page = record(client, "GET", "/mypage/login/")
    record(
        client,
        "POST",
        "/mypage/login/",
        {"login": email, "password": PASSWORD, "csrfmiddlewaretoken": token(page)},
    )
    record(client, "GET", "/mypage/")
    record(client, "GET", "/mypage/renewals/")
    record(client, "GET", f"/clickar/{contract_id}/")
    for slug, data in STEPS:
        url = f"/clickar/{contract_id}/{slug}/"
        page = record(client, "GET", url)
        if slug == "plan":
            record(
                client,
                "POST",
                url,
                {
                    "plan": "custom",
                    "custom-personal_injury": "unlimited",
                    "custom-property_damage": "unlimited",
                    "custom-vehicle_cover": "none",
                    "custom-deductible": "",
                    "custom-riders": ["legal"],
                    "csrfmiddlewaretoken": token(page),
                },
                label_extra="(htmx)",
                HTTP_HX_REQUEST="true",
            )
        response = record(client, "POST", url, {**data, "csrfmiddlewaretoken": token(page)})
        if response.status_code != 302:
            raise RuntimeError(f"{url}: {response.status_code}")
    url = f"/clickar/{contract_id}/confirm/"
    page = record(client, "GET", url)
    key = KEY.search(page.content.decode()).group(1)
    record(
        client,
        "POST",
        url,
        {"intent": "on", "idempotency_key": key, "csrfmiddlewaretoken": token(page)},
    )
    done = record(client, "GET", f"/clickar/{contract_id}/complete/")
    if "受付番号" not in done.content.decode():
        raise RuntimeError("no acceptance number")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--profiled", type=int, default=5)
    parser.add_argument("--db", default="postgres://postgres@127.0.0.1:5432/keizoku_i11_profile")
    parser.add_argument("--tree", default=str(ROOT / "var" / "profile-journey.txt"))
    parser.add_argument(
        "--redis", default="redis://127.0.0.1:6379/11", help="as production ('' for none)"
    )
    options = parser.parse_args()

    os.environ.update(redis_env(options.redis))
    users = setup(options.db, options.customers + options.profiled)
    install_split()
    try:
        from django.db import connection
        from django.test import Client
        from pyinstrument.renderers import ConsoleRenderer

        record = Recorder()
        # One client (one handler, as one gunicorn worker): a new test client would build the
        # middleware again on its first request.
        client = Client(enforce_csrf_checks=True)
        livez = Client()
        for _ in range(50):  # warm up: imports, templates, the rating tables
            livez.get("/livez")
        journey(Recorder(), client, *users[0], 0)
        for number, (email, contract_id) in enumerate(users[1 : options.customers], start=1):
            journey(record, client, email, contract_id, number)
            for _ in range(30):  # /livez, interleaved so that both see the same load
                record(livez, "GET", "/livez")
        sessions: dict = {}
        profiled = Recorder(sessions)
        for number, (email, contract_id) in enumerate(users[options.customers :], start=1000):
            journey(profiled, client, email, contract_id, number)
    finally:
        connection.close()
        import psycopg

        name = urllib.parse.urlsplit(options.db).path.lstrip("/")
        admin = options.db.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    livez_ms = statistics.median(record.cpu.pop("GET /livez"))
    record.order.remove("GET /livez")
    print(f"machine: {machine.describe()}")
    cache = "Redis" if os.environ.get("REDIS_URL") else "database cache"
    print(
        f"in-process Django stack, PostgreSQL, {cache}, DEBUG off; {options.customers - 1} "
        f"journeys timed, {options.profiled} profiled; /livez {livez_ms:.2f} ms CPU"
    )
    print(
        "CPU: median thread CPU of the timed journeys; the parts: shares of the profiled "
        "journeys' wall time (pyinstrument samples; 'queries' includes waiting for PostgreSQL)"
    )
    header = "  ".join(f"{part:>9}" for part in PARTS)
    print(f"{'page':44} {'CPU ms':>7} {'×livez':>6} {'queries':>7}  {header}")
    total_cpu = 0.0
    total_queries = 0
    for label in record.order:
        cpu = statistics.median(record.cpu[label])
        queries = max(record.queries[label])
        per = len(record.cpu[label]) / (options.customers - 1)  # the consent page is shown twice
        total_cpu += cpu * per
        total_queries += queries * per
        shares = defaultdict(float)
        session = sessions.get(label)
        if session is not None:
            for stack, seconds in session.frame_records:
                shares[part_of(stack)] += seconds
        whole = sum(shares.values()) or 1
        parts = "  ".join(f"{shares[part] / whole:>8.0%} " for part in PARTS)
        print(f"{label:44} {cpu:7.2f} {cpu / livez_ms:6.1f} {queries:7d}  {parts}")
    print(
        f"one journey: {total_cpu:.0f} ms CPU ({total_cpu / livez_ms:.0f}× /livez), "
        f"{total_queries:.0f} queries"
    )
    print(
        "\nCPU by part (median ms of the timed journeys; parts nest: auth_user includes the "
        "session and the cache read under it, and the user's query)"
    )
    print(f"{'page':44} {'CPU ms':>7}  " + "  ".join(f"{part:>11}" for part in SPLIT))
    totals: dict[str, float] = defaultdict(float)
    for label in record.order:
        per = len(record.cpu[label]) / (options.customers - 1)
        values = [statistics.median(record.split[label][part]) for part in SPLIT]
        for part, value in zip(SPLIT, values, strict=True):
            totals[part] += value * per
        cpu = statistics.median(record.cpu[label])
        print(f"{label:44} {cpu:7.2f}  " + "  ".join(f"{value:11.2f}" for value in values))
    print(
        f"{'one journey':44} {total_cpu:7.0f}  "
        + "  ".join(f"{totals[part]:11.1f}" for part in SPLIT)
    )
    with open(options.tree, "w") as tree:
        for label in record.order:
            if label in sessions:
                tree.write(f"===== {label}\n")
                tree.write(
                    ConsoleRenderer(
                        unicode=True,
                        color=False,
                        show_all=True,
                        processor_options={"filter_threshold": 0.02},
                    ).render(sessions[label])
                )
    print(f"pyinstrument trees: {options.tree}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
