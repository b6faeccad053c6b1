"""`manage.py check --deploy`: what would keep the layout of several hosts from working."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.database, deploy=True)
def database_shared_by_every_host(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """SQLite is a file on one host: a second web host or a worker elsewhere would not see it."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        return []
    return [
        checks.Warning(
            "DATABASE_URL is SQLite, a file on this host: production runs PostgreSQL, shared by "
            "every web host, worker and periodic process.",
            hint="Set DATABASE_URL=postgres://… (docs/operations.md).",
            id="keizoku.W001",
        )
    ]
