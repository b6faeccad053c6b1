"""Background tasks of the back office (run by the django-tasks-db worker)."""

from django.tasks import task

from . import services


@task()
def import_run(job_id: int) -> None:
    """Import a confirmed CSV file too big for the clerk's request (IMPORT_SYNC_MAX_ROWS)."""
    services.import_job_run(job_id=job_id)
