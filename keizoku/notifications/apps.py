"""Mail outbox, reminder mails and the scheduler of the periodic jobs."""

from datetime import timedelta

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "keizoku.notifications"
    label = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from keizoku.core.jobs import periodic_job_register

        from .services import mail_sweep

        # Mails a dead worker left behind go back to the queue.
        periodic_job_register(name="mail_sweep", every=timedelta(minutes=1), run=mail_sweep)
