"""Periodic jobs: what runs every few minutes beside the worker (make run, or cron with --once).

Each app registers its own jobs (``keizoku.core.jobs``, from its ``AppConfig.ready()``); this
scheduler runs whatever is registered and imports no app.

The schedule lives in the database (``PeriodicJob``), not in the process: a run is claimed by
moving the job's ``next_run_at`` one period on with a conditional UPDATE, so however many
``periodic`` processes run (one per host is safe), each period runs once. While it runs, the job
is held — on PostgreSQL by a session advisory lock, which the server releases by itself if the
process or its connection dies; elsewhere (SQLite, one host) by a lease in the row — so a run
that outlasts its period is never started a second time beside itself.
"""

import hashlib
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.db import DatabaseError, connection
from django.db.models import F, Q
from django.utils import timezone

from keizoku.core.jobs import Job

from .models import PeriodicJob

logger = logging.getLogger(__name__)

TICK = 5.0  # seconds between two looks at the schedule
RUNNER = f"{socket.gethostname()}:{os.getpid()}"


def _advisory_key(name: str) -> int:
    digest = hashlib.sha256(f"keizoku.periodic.{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def _held(job: Job) -> Iterator[bool]:
    """PostgreSQL: try the job's advisory lock for this run (False when another process holds
    it). Other databases: always True here; the lease in the row does the holding."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = _advisory_key(job.name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        locked = cursor.fetchone()[0]
    try:
        yield locked
    finally:
        if locked:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
            except DatabaseError:
                pass  # the connection is gone, and the lock with it


def _claim(job: Job, now: datetime) -> bool:
    """Take this period of ``job`` if it is due: one conditional UPDATE, so one runner wins."""
    due = PeriodicJob.objects.filter(name=job.name, next_run_at__lte=now)
    changes: dict = {
        "next_run_at": now + job.every,
        "runs": F("runs") + 1,
        "last_runner": RUNNER,
        "last_started_at": now,
    }
    if connection.vendor != "postgresql":
        due = due.filter(Q(running_until=None) | Q(running_until__lt=now))
        changes["running_until"] = now + job.lease
    return bool(due.update(**changes))


def job_run_if_due(job: Job, *, now: datetime | None = None) -> bool:
    """Run ``job`` in this process if its period is due and nobody else is running it.
    True when it ran (successfully or not)."""
    now = now or timezone.now()
    state, _ = PeriodicJob.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
    if state.next_run_at > now:
        return False  # the cheap look, without a lock: not due yet
    with _held(job) as held:
        if not held or not _claim(job, now):
            return False
        logger.info(
            "periodic job started",
            extra={"job": job.name, "runner": RUNNER, "period_start": now.isoformat()},
        )
        error = ""
        try:
            result = job.run()
        except Exception as exc:
            # One failing job (database restarting, say) must not stop the others.
            logger.exception("periodic job failed", extra={"job": job.name, "runner": RUNNER})
            error = f"{type(exc).__name__}: {exc}"[:1000]
        else:
            logger.info(
                "periodic job ran",
                extra={"job": job.name, "runner": RUNNER, "result": str(result)},
            )
        finished = timezone.now()
        changes: dict = {"last_finished_at": finished, "last_error": error, "running_until": None}
        if not error:
            changes["last_success_at"] = finished
        try:
            PeriodicJob.objects.filter(name=job.name, last_runner=RUNNER).update(**changes)
        except DatabaseError:
            logger.warning("periodic job end not recorded", extra={"job": job.name})
    return True
