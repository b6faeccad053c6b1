"""The back office: staff login, season dashboard, contracts, applications, exports, audit."""

from datetime import timedelta

from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "keizoku.backoffice"
    label = "backoffice"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "バックオフィス"

    def ready(self) -> None:
        from keizoku.core.jobs import periodic_job_register

        from . import auth
        from .services import reminders_send

        auth.guard_admin_site()
        # The reminder mails before expiry (who is due: this app; when and how: notifications).
        periodic_job_register(name="reminders", every=timedelta(minutes=15), run=reminders_send)
