"""manage.py db_worker: django-tasks-db's worker, kept alive through database outages.

django-tasks-db's own loop lets a connection error escape (a database restart or a failover
that cuts every connection ends the worker process). This is the same command with one change:
when the database fails under the loop, the worker logs it, drops its connections, waits a
little and carries on — the service recovers without a restart (SECURITY.md, "Faults"). A task
interrupted that way is left as it was; a mail in it is re-queued by the periodic sweep.
"""

import logging
import time

from django.db import DatabaseError, connections
from django_tasks_db.management.commands import db_worker

logger = logging.getLogger("django_tasks_db")

RETRY_AFTER = 2.0  # seconds between two tries while the database is away


class Worker(db_worker.Worker):
    def run(self) -> None:
        while self.running:
            try:
                super().run()
                return
            except DatabaseError as error:
                logger.warning(
                    "database unavailable, the worker waits",
                    extra={"worker_id": self.worker_id, "error": type(error).__name__},
                )
                self.running_task = False
                self.startup_delay = False
                for connection in connections.all(initialized_only=True):
                    connection.close()  # a fresh one is opened on the next query
                time.sleep(RETRY_AFTER)


class Command(db_worker.Command):
    help = db_worker.Command.help + " (kept alive through database outages)"

    def handle(self, *args, **options):
        # django-tasks-db's handle() builds its module's Worker by name and has no hook for another
        # class: ours stands in for the length of the command. The stubs forbid assigning a class.
        original = db_worker.Worker
        db_worker.Worker = Worker  # type: ignore[misc]
        try:
            super().handle(*args, **options)
        finally:
            db_worker.Worker = original  # type: ignore[misc]
