"""The back office: staff login, season dashboard, contracts, applications, exports, audit."""

from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "keizoku.backoffice"
    label = "backoffice"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "バックオフィス"

    def ready(self) -> None:
        from . import auth

        auth.guard_admin_site()
