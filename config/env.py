"""Typed readers for the environment: each raises ImproperlyConfigured on a bad value."""

import os
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0/true/false/yes/no/on/off, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def mailer_from_url(url: str) -> dict:
    """Turn EMAIL_URL into a MAILERS entry.

    ``mailbox:`` (the default) keeps mails in the database for /dev/mailbox/;
    ``smtp://user:pass@host:port`` sends through SMTP (``smtp+tls://`` for STARTTLS,
    ``smtps://`` for implicit TLS, ``?timeout=N`` in seconds); ``console:`` prints them.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("", "mailbox"):
        return {"BACKEND": "keizoku.notifications.backends.MailboxBackend"}
    if scheme == "console":
        return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme in ("smtp", "smtp+tls", "smtps"):
        if not parts.hostname:
            raise ImproperlyConfigured(f"EMAIL_URL has no host: {url!r}")
        query = parse_qs(parts.query)
        options: dict = {
            "host": parts.hostname,
            "port": parts.port or {"smtps": 465, "smtp+tls": 587}.get(scheme, 25),
            "use_tls": scheme == "smtp+tls",
            "use_ssl": scheme == "smtps",
            "timeout": int(query.get("timeout", ["10"])[0]),
        }
        if parts.username:
            options["username"] = unquote(parts.username)
            options["password"] = unquote(parts.password or "")
        return {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": options}
    raise ImproperlyConfigured(f"EMAIL_URL scheme must be mailbox, console or smtp: {url!r}")
