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
