"""Processes a test starts: the background worker once, a server or worker on the test's database."""


def run_worker() -> None:
    """What the background worker does, once: run every task that is due (mails included)."""
    from django.core.management import call_command

    call_command(
        "db_worker",
        batch=True,
        queue_name="*",
        reload=False,
        startup_delay=False,
        verbosity=0,
    )


def database_url() -> str:
    """The URL of the database this test uses, for a process the test starts (a server, a
    worker) that must see the same data."""
    from urllib.parse import quote

    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{credentials}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(**extra: str) -> dict[str, str]:
    """The environment of a Keizoku process started by a test: production settings (DEBUG off)
    on the test's database, loopback only, JSON logs."""
    import os
    import secrets

    env = {k: v for k, v in os.environ.items() if k != "PYTEST_VERSION"}
    env.update(
        {
            "DATABASE_URL": database_url(),
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "EMAIL_URL": "console:",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            "KEIZOKU_DOTENV": os.devnull,  # a laptop's .env must not change the test
        }
    )
    env.update(extra)
    return env
