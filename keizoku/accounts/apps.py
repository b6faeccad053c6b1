from datetime import timedelta

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "keizoku.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Before django.contrib.auth's own receivers (this app is listed first): the known-browser
        # check still sees the previous last_login.
        from .authn import receivers_connect

        receivers_connect()

        from keizoku.core.jobs import periodic_job_register

        from .services import registration_purge_expired

        periodic_job_register(
            name="registration_purge", every=timedelta(minutes=10), run=registration_purge_expired
        )
