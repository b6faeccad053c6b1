"""Benchmark: 10,000 reminder mails through the worker, beside raw smtplib sending the same mails.

    .venv/bin/python bench/bench_reminders.py [--mails 10000] [--workers 1]
        [--db postgres://postgres@127.0.0.1:5432/keizoku_bench_reminders]

Creates (and drops at the end) a PostgreSQL database, migrates it, creates one member with a
linked policy expiring in 30 days per mail, and starts an aiosmtpd SMTP server on loopback in
its own process (it only counts what it receives). Then, in the same run:

1. ``reminders_send`` queues the reminders (template rendered, outbox row, task row per mail),
   timed for reference;
2. the worker (``manage.py db_worker --batch`` of django-tasks-db, ``--workers`` processes)
   delivers them to the SMTP server: the time from its start (process start-up included, about
   a second) until the server holds them all;
3. raw ``smtplib`` sends exactly the same messages (the outbox rows' recipients, subjects,
   bodies and Message-IDs, built with the standard library's ``email`` package inside the timed
   loop), one connection per mail as the worker does, and again over a single connection.

Prints mails/second of each and the ratio worker / raw (per-mail connection; goal ≥ 0.5), and
fails when a mail is missing or sent twice.
"""

import argparse
import email.message
import email.policy
import multiprocessing
import os
import smtplib
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import machine
import psycopg
from machine import free_port

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
# As the Procfile's worker, plus --batch: exit once the queue is empty.
WORKER_COMMAND = [
    PYTHON,
    "manage.py",
    "db_worker",
    "--queue-name",
    "*",
    "--batch",
    "--no-reload",
    "--no-startup-delay",
]
sys.path.insert(0, str(ROOT))
FROM = "Keizoku <no-reply@keizoku.example.jp>"


def smtp_server(port: int, received, ready) -> None:
    """An aiosmtpd server that counts messages (in its own process, off the senders' GIL)."""
    from aiosmtpd.controller import Controller

    class Counter:
        async def handle_DATA(self, server, session, envelope):
            with received.get_lock():
                received.value += 1
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    while True:
        time.sleep(3600)


def raw_message(to: str, subject: str, body: str, message_id: str) -> email.message.EmailMessage:
    """The same mail built with the standard library alone (what a raw smtplib script does)."""
    message = email.message.EmailMessage(policy=email.policy.SMTP)
    message["Subject"] = subject
    message["From"] = FROM
    message["To"] = to
    message["Message-ID"] = message_id
    message.set_content(body)
    return message


def wait_for(received, target: int, timeout: float, workers: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + timeout
    while received.value < target:
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out: {received.value} of {target} mails received")
        if workers and all(worker.poll() is not None for worker in workers):
            time.sleep(0.5)
            if received.value < target:
                raise SystemExit(f"the workers exited with {received.value} of {target} mails")
        time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mails", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=1, help="db_worker processes")
    parser.add_argument(
        "--db", default="postgres://postgres@127.0.0.1:5432/keizoku_bench_reminders"
    )
    args = parser.parse_args()
    name = urlsplit(args.db).path.lstrip("/")
    admin_url = args.db.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')

    port = free_port()
    received = multiprocessing.Value("i", 0)
    ready = multiprocessing.Event()
    server = multiprocessing.Process(target=smtp_server, args=(port, received, ready), daemon=True)
    server.start()
    ready.wait(10)

    env = {
        "DATABASE_URL": args.db,
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "SECRET_KEY": "bench-only",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "LOG_LEVEL": "WARNING",
        "KEIZOKU_DOTENV": "/nonexistent",
        "ALLOWED_HOSTS": "localhost",
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from keizoku.accounts.models import PolicyLink, User
    from keizoku.backoffice.services import reminders_send
    from keizoku.contracts.models import Contract
    from keizoku.contracts.windows import JST
    from keizoku.core import ja
    from keizoku.notifications.models import OutboundMail
    from tests.factories import contract_values, make_agency, make_group

    workers: list[subprocess.Popen] = []
    try:
        call_command("migrate", verbosity=0)
        # Reminders go out in the daytime (JST): the last 10:00 JST that has passed.
        now = datetime.now(JST).replace(hour=10, minute=0, second=0, microsecond=0)
        if now > datetime.now(JST):
            now -= timedelta(days=1)
        period_end = now.date() + timedelta(days=30)
        group = make_group(agency=make_agency(code="BENCH"), code="BENCH-1")
        base = contract_values(
            period_end=period_end, period_start=period_end.replace(year=period_end.year - 1)
        )
        contracts = Contract.objects.bulk_create(
            [
                Contract(
                    group=group,
                    **{
                        **base,
                        "policy_number": f"BR-{i:08d}",
                        "email": f"holder{i}@example.jp",
                    },
                    policy_key=ja.normalize_policy_number(f"BR-{i:08d}"),
                    address_key=ja.normalize_address(base["address"]),
                )
                for i in range(args.mails)
            ],
            batch_size=1000,
        )
        members = User.objects.bulk_create(
            [
                User(email=f"member{i}@example.jp", name=f"継続 太郎{i}", password="!")
                for i in range(args.mails)
            ],
            batch_size=1000,
        )
        PolicyLink.objects.bulk_create(
            [PolicyLink(member=m, contract=c) for m, c in zip(members, contracts, strict=True)],
            batch_size=1000,
        )

        started = time.perf_counter()
        run = reminders_send(now=now)
        queue_seconds = time.perf_counter() - started
        assert run.queued == args.mails, run
        print(f"queued {run.queued} reminders in {queue_seconds:.1f} s", flush=True)
        connection.close()

        # 2. The worker, as `make run` starts it (plus --batch: exit once the queue is empty).
        started = time.perf_counter()
        workers = [
            subprocess.Popen(
                WORKER_COMMAND,
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=subprocess.DEVNULL,  # its per-task log lines (kept, as in production)
                stderr=subprocess.DEVNULL,
            )
            for _ in range(args.workers)
        ]
        wait_for(received, args.mails, 3600, workers)
        worker_seconds = time.perf_counter() - started
        for worker in workers:
            worker.wait(60)
        sent = OutboundMail.objects.filter(status=OutboundMail.Status.SENT).count()
        assert sent == args.mails, f"{sent} of {args.mails} marked sent"
        assert received.value == args.mails, f"{received.value} received (duplicates?)"

        # 3. Raw smtplib: the same messages, as bytes built by Django beforehand.
        mails = list(
            OutboundMail.objects.order_by("pk").values_list("to", "subject", "body", "message_id")
        )
        received.value = 0
        started = time.perf_counter()
        for fields in mails:
            with smtplib.SMTP("127.0.0.1", port) as smtp:
                smtp.send_message(raw_message(*fields))
        wait_for(received, args.mails, 600, [])
        raw_seconds = time.perf_counter() - started

        received.value = 0
        started = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            for fields in mails:
                smtp.send_message(raw_message(*fields))
        wait_for(received, args.mails, 600, [])
        raw_one_seconds = time.perf_counter() - started
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
        server.kill()
        connection.close()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    n = args.mails
    worker_rate = n / worker_seconds
    raw_rate = n / raw_seconds
    print()
    print(f"machine: {machine.describe()}")
    print(f"mails: {n}, worker processes: {args.workers}, PostgreSQL, aiosmtpd on loopback")
    print(f"queue (reminders_send):           {queue_seconds:7.1f} s  {n / queue_seconds:7.0f}/s")
    print(f"worker delivery:                  {worker_seconds:7.1f} s  {worker_rate:7.0f}/s")
    print(f"raw smtplib, connection per mail: {raw_seconds:7.1f} s  {raw_rate:7.0f}/s")
    print(
        f"raw smtplib, one connection:      {raw_one_seconds:7.1f} s  {n / raw_one_seconds:7.0f}/s"
    )
    ratio = worker_rate / raw_rate
    print(
        f"ratio worker / raw (per mail):    {ratio:.2f}  (goal >= 0.5: {'met' if ratio >= 0.5 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
