"""The periodic runner: a schedule shared through the database, one run per period however many
`periodic` processes are started, never a run beside itself (advisory lock or lease)."""

import json
import subprocess
import sys
import time
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.utils import timezone

from keizoku.notifications import periodic
from keizoku.notifications.models import PeriodicJob
from tests.processes import process_env

pytestmark = pytest.mark.django_db(transaction=True)

# Two `periodic` processes on a schedule of seconds rather than minutes: the real command with
# its job list swapped for two probes, one of which runs longer than its period.
RUNNER = """
import time
import django

django.setup()
from datetime import timedelta

from django.core.management import call_command

from keizoku.core import jobs
from keizoku.notifications import periodic

periodic.TICK = 0.05
print("ready", flush=True)
jobs._REGISTRY.clear()  # the apps' real jobs out, the two probes in
jobs.periodic_job_register(name="quick", every=timedelta(seconds=1), run=lambda: None)
jobs.periodic_job_register(name="slow", every=timedelta(seconds=1), run=lambda: time.sleep(1.6))
call_command("periodic")
"""


def runs_logged(stderr: str) -> dict[str, list[tuple[datetime, datetime | None, str, datetime]]]:
    """Per job, each run as (start, end, runner, the period it claimed) from the runners' JSON
    log lines."""
    started: dict[tuple[str, str], datetime] = {}
    runs: dict[str, list] = {}
    for line in stderr.splitlines():
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        at = datetime.fromisoformat(entry["ts"])
        key = (entry.get("job"), entry.get("runner"))
        if entry["msg"] == "periodic job started":
            started[key] = (at, datetime.fromisoformat(entry["period_start"]))
        elif entry["msg"] in ("periodic job ran", "periodic job failed"):
            start, period = started.pop(key)
            runs.setdefault(key[0], []).append((start, at, key[1], period))
    return runs


def test_two_periodic_processes_run_each_job_once_per_period_and_never_beside_itself():
    env = process_env()
    manage_dir = Path(settings.BASE_DIR)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", RUNNER],
            cwd=manage_dir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for process in processes:  # both set up (slow on a busy machine) before the clock starts
        assert process.stdout.readline() == "ready\n"
    time.sleep(9)
    logs = []
    for process in processes:
        process.terminate()
        logs.append(process.communicate(timeout=30)[1])
    runs = runs_logged("\n".join(logs))
    for process, log in zip(processes, logs, strict=True):
        assert process.returncode in (0, -15), log[-2000:]

    quick = sorted(runs["quick"])
    assert len(quick) >= 4, logs
    assert len({run[2] for run in quick}) <= 2
    periods = sorted(run[3] for run in quick)
    gaps = [b - a for a, b in pairwise(periods)]
    # One run per period: two processes polling every 50 ms never claim it twice in a second.
    assert min(gaps) >= timedelta(seconds=1), gaps
    assert len(quick) <= (periods[-1] - periods[0]).total_seconds() + 1

    slow = sorted(runs["slow"])
    assert len(slow) >= 2
    for before, after in pairwise(slow):
        assert after[0] >= before[1], f"the slow job ran beside itself: {before} {after}"

    state = {job.name: job for job in PeriodicJob.objects.all()}
    unfinished = 2  # a run cut by terminate() is counted but never logged as finished
    assert len(quick) <= state["quick"].runs <= len(quick) + unfinished
    assert state["quick"].last_success_at is not None


def test_a_job_not_due_is_left_and_a_due_one_runs_once():
    calls = []
    job = periodic.Job("probe", timedelta(minutes=1), lambda: calls.append(1))
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        assert periodic.job_run_if_due(job) is True
        assert periodic.job_run_if_due(job) is False
        clock.shift(timedelta(seconds=59))
        assert periodic.job_run_if_due(job) is False
        clock.shift(timedelta(seconds=1))
        assert periodic.job_run_if_due(job) is True
    assert len(calls) == 2
    state = PeriodicJob.objects.get(name="probe")
    assert state.runs == 2
    assert state.running_until is None
    assert state.last_runner == periodic.RUNNER


def test_a_failing_job_is_recorded_and_tried_again_next_period():
    def broken():
        raise RuntimeError("database restarting")

    job = periodic.Job("broken", timedelta(minutes=1), broken)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        assert periodic.job_run_if_due(job) is True
        state = PeriodicJob.objects.get(name="broken")
        assert state.last_success_at is None
        assert "RuntimeError: database restarting" in state.last_error
        clock.shift(timedelta(minutes=1))
        assert periodic.job_run_if_due(job) is True
        assert PeriodicJob.objects.get(name="broken").runs == 2


def test_a_job_held_by_another_runner_is_not_started_beside_it():
    calls = []
    job = periodic.Job("held", timedelta(minutes=1), lambda: calls.append(1))
    now = timezone.now()
    PeriodicJob.objects.create(name="held", next_run_at=now - timedelta(minutes=5))
    if connection.vendor == "postgresql":
        # Another periodic process holds the job's advisory lock on its own connection.
        import psycopg

        from tests.processes import database_url

        with psycopg.connect(database_url().replace("postgres://", "postgresql://")) as other:
            other.execute("SELECT pg_advisory_lock(%s)", [periodic._advisory_key("held")])
            assert periodic.job_run_if_due(job, now=now) is False
        # Its connection closed (the process died): the lock went with it.
        assert periodic.job_run_if_due(job, now=now) is True
    else:
        # Without advisory locks, the run in progress holds a lease in the row.
        PeriodicJob.objects.filter(name="held").update(running_until=now + timedelta(minutes=4))
        assert periodic.job_run_if_due(job, now=now) is False
        assert periodic.job_run_if_due(job, now=now + timedelta(minutes=5)) is True
    assert calls == [1]


def test_each_app_registers_its_own_jobs_and_the_scheduler_knows_them_all():
    from keizoku.accounts.services import registration_purge_expired
    from keizoku.backoffice.services import reminders_send
    from keizoku.chat.unanswered import purge
    from keizoku.core.jobs import periodic_jobs
    from keizoku.notifications.services import mail_sweep

    registered = {job.name: job.run for job in periodic_jobs()}
    assert registered == {
        "mail_sweep": mail_sweep,
        "registration_purge": registration_purge_expired,
        "reminders": reminders_send,
        "chat_unanswered_purge": purge,
    }


def test_a_job_name_taken_by_another_function_is_refused():
    from django.core.exceptions import ImproperlyConfigured

    from keizoku.core.jobs import periodic_job_register, periodic_jobs
    from keizoku.notifications.services import mail_sweep

    before = periodic_jobs()
    # The same registration again (an app's ready() run twice) changes nothing.
    periodic_job_register(name="mail_sweep", every=timedelta(minutes=1), run=mail_sweep)
    with pytest.raises(ImproperlyConfigured, match="mail_sweep"):
        periodic_job_register(name="mail_sweep", every=timedelta(minutes=1), run=print)
    assert periodic_jobs() == before


def test_the_scheduler_imports_no_app_of_ours():
    """notifications is called by the apps; it calls none of them (STYLE.md, issue 13)."""
    import ast

    root = Path(settings.BASE_DIR) / "keizoku" / "notifications"
    imported = set()
    for path in root.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    ours = {name for name in imported if name.startswith("keizoku.")}
    assert {name.split(".")[1] for name in ours} <= {"core", "notifications"}, sorted(ours)
