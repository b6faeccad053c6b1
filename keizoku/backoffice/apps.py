"""The back office: staff login, season dashboard, contracts, applications, exports, audit."""

from datetime import timedelta

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    name = "keizoku.backoffice"
    label = "backoffice"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "バックオフィス"
    default = True  # the app's config; AdminConfig below is named in INSTALLED_APPS on its own

    def ready(self) -> None:
        from keizoku.core.jobs import periodic_job_register

        from . import auth
        from .services import reminders_send

        auth.guard_admin_site()
        # The reminder mails before expiry (who is due: this app; when and how: notifications).
        periodic_job_register(name="reminders", every=timedelta(minutes=15), run=reminders_send)


# Models other libraries put in the admin: editing them there would bypass our services and the
# audit trail (an address changed without confirmation, a second factor removed), and they are
# not the insurer's business. Roles are StaffProfile, not auth groups.
FOREIGN_ADMIN_MODELS = (
    "auth.Group",
    "account.EmailAddress",
    "mfa.Authenticator",
    "usersessions.UserSession",
)


class AdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin as insurer admins see it: read-only, in Japanese, only our models
    (and the task queue, read-only by its library). Listed in INSTALLED_APPS in its place."""

    default = False

    def ready(self) -> None:
        super().ready()  # autodiscover: every app's admin.py has registered now
        from django.apps import apps
        from django.contrib import admin

        for label in FOREIGN_ADMIN_MODELS:
            model = apps.get_model(label)
            if admin.site.is_registered(model):
                admin.site.unregister(model)
        admin.site.site_header = _("団体扱自動車保険 管理サイト（閲覧のみ）")
        admin.site.site_title = _("管理サイト")
        admin.site.index_title = _("データの閲覧")
