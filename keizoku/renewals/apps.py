from django.apps import AppConfig


class RenewalsConfig(AppConfig):
    name = "keizoku.renewals"
    label = "renewals"
    default_auto_field = "django.db.models.BigAutoField"
