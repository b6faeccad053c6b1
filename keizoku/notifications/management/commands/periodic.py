"""manage.py periodic [--once]: run the periodic jobs every app registered (keizoku.core.jobs)."""

import logging
import time

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from keizoku.core.jobs import periodic_jobs
from keizoku.notifications import periodic

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Run the periodic jobs forever (or once, for cron). The schedule is shared through the "
        "database: one process per host is safe, each job runs once per period."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="run the jobs that are due once and exit"
        )

    def handle(self, *args, once: bool, **options):
        while True:
            for job in periodic_jobs():
                close_old_connections()
                try:
                    periodic.job_run_if_due(job)
                except DatabaseError:
                    # The database is restarting or cut our connection: try again next tick.
                    logger.warning("periodic: database unavailable", extra={"job": job.name})
            if once:
                return
            time.sleep(periodic.TICK)
