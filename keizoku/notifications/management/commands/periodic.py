"""manage.py periodic [--once]: run the periodic jobs (mail sweep, purges, reminders)."""

import logging
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from keizoku.notifications.periodic import JOBS

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the periodic jobs forever (or once, for cron)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run every job once and exit")

    def handle(self, *args, once: bool, **options):
        last_run: dict[str, float] = {}
        while True:
            for job in JOBS:
                if (
                    not once
                    and time.monotonic() - last_run.get(job.name, -1e9) < job.every.total_seconds()
                ):
                    continue
                close_old_connections()
                try:
                    result = job.run()
                except Exception:
                    # One failing job (database restarting, say) must not stop the others.
                    logger.exception("periodic job failed", extra={"job": job.name})
                else:
                    logger.info("periodic job ran", extra={"job": job.name, "result": str(result)})
                last_run[job.name] = time.monotonic()
            if once:
                return
            time.sleep(5)
