"""Keizoku settings: one module, configured by the environment only (see README)."""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.env import env_bool, env_int, env_list, env_str, mailer_from_url

BASE_DIR = Path(__file__).resolve().parent.parent
# The laptop's files (the default SQLite database, test artefacts): created only when used, so
# that a production host (PostgreSQL) writes nothing of its own (docs/operations.md).
VAR_DIR = Path(env_str("KEIZOKU_VAR_DIR", str(BASE_DIR / "var")))


def _load_dotenv(path: Path) -> None:
    """A laptop's .env (written by `make`, never committed): KEY=VALUE lines, the real
    environment wins. Production sets the environment and has no .env."""
    if not path.is_file():
        return
    for line in path.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            os.environ.setdefault(name.strip(), value.strip())


# pytest (≥ 8.2) sets PYTEST_VERSION for the whole session. Tests ignore .env so that they run
# the same on a laptop and on a fresh CI clone.
TESTING = "PYTEST_VERSION" in os.environ
if not TESTING:
    _load_dotenv(Path(env_str("KEIZOKU_DOTENV", str(BASE_DIR / ".env"))))
DEBUG = env_bool("DEBUG", default=False)


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    if TESTING:
        return secrets.token_urlsafe(50)
    raise ImproperlyConfigured("SECRET_KEY must be set (`make run` writes one to .env).")


SECRET_KEY = _secret_key()
# Former keys, still accepted when checking signatures (sessions, reset and registration links),
# so that rotating SECRET_KEY does not break the links already mailed.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if (DEBUG or TESTING) else []
)
if not (DEBUG or TESTING) and (not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS):
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the site's host names (no wildcard).")

PORT = env_int("PORT", 8000)
BASE_URL = env_str("BASE_URL", f"http://localhost:{PORT}").rstrip("/")
CSRF_TRUSTED_ORIGINS = [BASE_URL] if BASE_URL.startswith("https://") else []

INSTALLED_APPS = [
    "keizoku.core",
    "keizoku.contracts",
    "keizoku.accounts",
    "keizoku.renewals",
    "keizoku.notifications",
    "keizoku.backoffice",
    "keizoku.help",
    "keizoku.chat",
    "keizoku.backoffice.apps.AdminConfig",  # django.contrib.admin, read-only for insurer admins
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
]

MIDDLEWARE = [
    "keizoku.core.observability.ObservabilityMiddleware",  # request id, metrics: first
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "keizoku.core.middleware.SecurityHeadersMiddleware",
    "keizoku.core.admission.AdmissionMiddleware",  # before any session or database work
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "keizoku.core.middleware.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "keizoku.accounts.middleware.SessionTimeoutMiddleware",
    "keizoku.accounts.middleware.UserSessionsActivityMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "keizoku" / "core" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "keizoku.core.context_processors.site",
            ],
        },
    },
]

# Widgets written in Python, the same HTML as Django's widget templates (keizoku.core.renderers).
FORM_RENDERER = "keizoku.core.renderers.FastRenderer"

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'keizoku.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # WAL and a busy timeout let the web server and the worker share the file.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A file, not shared-cache memory, so that concurrent requests in tests wait for the lock
    # (busy timeout) as they do in production instead of failing with "table is locked".
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Admission control (keizoku.core.admission; docs/performance.md) -----------------------------
# Requests that run at once in one web process; the others wait at most ADMISSION_MAX_WAIT_MS
# (ADMISSION_OVERLOAD_WAIT_MS once the queue has not emptied for a second) or are answered at
# once with 「ただいま混雑しています」 (503, Retry-After).
ADMISSION_SLOTS = env_int("ADMISSION_SLOTS", 4)
ADMISSION_MAX_WAIT_MS = env_int("ADMISSION_MAX_WAIT_MS", 3000)
ADMISSION_OVERLOAD_WAIT_MS = env_int("ADMISSION_OVERLOAD_WAIT_MS", 500)
ADMISSION_RETRY_AFTER = env_int("ADMISSION_RETRY_AFTER", 5)  # seconds, in Retry-After
ADMISSION_EXEMPT_PATHS = ("/livez", "/healthz", "/metrics")  # probes and scrapes always answer
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not TESTING:
    # gunicorn's gthread workers keep many threads per process so that waiting requests are
    # visible to the admission gate; only ADMISSION_SLOTS of them use the database at once, so
    # a small pool per process (psycopg_pool, health-checked) instead of a connection per thread.
    # A thread leaving the gate returns its connection only once its response is sent: twice
    # the slots, and two for the probes that pass the gate (/healthz).
    DB_POOL_SIZE = env_int("DB_POOL_SIZE", 2 * ADMISSION_SLOTS + 2)
    if DB_POOL_SIZE > 0:
        from psycopg_pool import ConnectionPool

        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": DB_POOL_SIZE,
            "timeout": 30,
            "check": ConnectionPool.check_connection,
        }

# --- Cache and sessions ---------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "keizoku.core.cache.KeizokuRedisCache", "LOCATION": REDIS_URL}}
else:
    # A shared cache by default, so rate limits hold across processes.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "keizoku_cache",
        }
    }
# Sessions live in the database (the session list can end them from any process); with Redis they
# are also cached there, so a request reads its session without a query.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if REDIS_URL
    else "django.contrib.sessions.backends.db"
)
SESSION_COOKIE_AGE = 12 * 60 * 60  # absolute limit for customers (SECURITY.md)
# Enforced per kind of user by keizoku.accounts.middleware.SessionTimeoutMiddleware (seconds).
SESSION_IDLE_TIMEOUT = {"member": 30 * 60, "staff": 15 * 60}
SESSION_ABSOLUTE_TIMEOUT = {"member": 12 * 60 * 60, "staff": 8 * 60 * 60}
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# --- Mail -----------------------------------------------------------------------------------
MAILERS = {"default": mailer_from_url(env_str("EMAIL_URL", "mailbox:"))}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Keizoku <no-reply@keizoku.example.jp>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Background work ------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "mail"],
    }
}
# The CSV import (keizoku.contracts.services.write_transaction) waits at most this many seconds
# for a lock, then gives up and is retried by the worker; files of more rows than
# IMPORT_SYNC_MAX_ROWS are imported by the worker rather than in the clerk's request.
IMPORT_LOCK_TIMEOUT = env_int("IMPORT_LOCK_TIMEOUT", 10)
IMPORT_SYNC_MAX_ROWS = env_int("IMPORT_SYNC_MAX_ROWS", 2000)

# --- Security -------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "keizoku.core.views.csrf_failure"
# Proxies in front that append to X-Forwarded-For (a load balancer: 1). Rate limits, lockout and
# the audit trail then see the customer's address rather than the proxy's.
# The same count decides whether X-Request-ID comes from the proxy (keizoku.core.observability).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
# /metrics answers loopback requests, and others bearing this token (Authorization: Bearer).
METRICS_TOKEN = env_str("METRICS_TOKEN")
HTTPS = BASE_URL.startswith("https://")
if HTTPS:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 63072000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SECURE_CSP = {
    "default-src": [CSP.NONE],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

AUTH_PASSWORD_VALIDATORS = [{"NAME": "keizoku.accounts.passwords.KeizokuPasswordValidator"}]
PASSWORD_HASHERS = [
    # Argon2id at Django's parameters (100 MiB, 2 passes, 8 lanes: about RFC 9106's second
    # recommendation); docs/security.md says why not OWASP's cheaper minimum.
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Our date formats per language (keizoku.core.l10n): 2026年4月1日 / April 1, 2026.
FORMAT_MODULE_PATH = ["keizoku.core.formats"]
# The switch 「English / 日本語」 (Django's set_language) remembers the choice for a year; a
# member's choice is also stored on the account (User.language) for pages, mails and the PDF.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = BASE_URL.startswith("https://")
USE_I18N = True
TIME_ZONE = "Asia/Tokyo"
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if (DEBUG or TESTING)
        else "keizoku.core.storage.StaticFilesStorage"
    },
}

# --- Logging: structured (JSON lines), UTC ---------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "keizoku.core.logging.JsonFormatter"}},
    "filters": {"request_id": {"()": "keizoku.core.logging.RequestIdFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django_tasks_db": {"level": "WARNING" if TESTING else "INFO"},
    },
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
# Flash messages live in the session, never in a cookie of their own: they can hold the member's
# address (「ユーザー … としてログインしました」, the email change), which a cookie would carry
# in clear text on every request until shown (W12).
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/mypage/"
LOGOUT_REDIRECT_URL = "/mypage/login/"

# --- django-allauth: login, reset, email/password change, two-step login, sessions -----------
# Registration is our own flow (keizoku.accounts.registration); allauth's signup stays closed.
ACCOUNT_ADAPTER = "keizoku.accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {
    "login": "keizoku.accounts.forms.LoginForm",
    "change_password": "keizoku.accounts.forms.ChangePasswordForm",
    "reset_password": "keizoku.accounts.forms.ResetPasswordForm",
    "reset_password_from_key": "keizoku.accounts.forms.ResetPasswordKeyForm",
    "add_email": "keizoku.accounts.forms.AddEmailForm",
    "confirm_login_code": "keizoku.accounts.forms.ConfirmLoginCodeForm",
}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False  # this session stays; every other one is ended
ACCOUNT_REAUTHENTICATION_REQUIRED = True  # email change and the like ask again (5 minutes)
# The subjects of allauth's mails start with 【マイページ】 / [MyPage] (AccountAdapter, translated).
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_PREVENT_ENUMERATION = True
# A reset for an address no member has sends nothing (issue 10 W13): the page is the same either
# way, and the service never mails an address nobody registered (no unsolicited mail at scale).
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
ACCOUNT_SESSION_REMEMBER = False
# The step-up of keizoku.accounts.lockout (issue 10 W11): after 10 failures of a login from all
# sources, a right password is followed by a one-time code mailed to the account (allauth's login
# code stage; no passwordless login by code is offered: ACCOUNT_LOGIN_BY_CODE_ENABLED stays off).
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 10 * 60  # the mail goes through the outbox and the worker
ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS = 3  # then back to the login; each wrong code is a failure
ACCOUNT_LOGIN_BY_CODE_FORMAT = {"numeric": True, "length": 8, "dashed": False}
ACCOUNT_RATE_LIMITS = {
    # Per IP only: the per-account part is keizoku.accounts.lockout (delays, then a lock).
    "login": "30/m/ip",
    "login_failed": "10/m/ip,100/h/ip",
    "reset_password": "20/m/ip,5/h/key,10/d/key",  # key: the address typed (mails per address)
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = "Keizoku"
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG or TESTING
# Email change with two-step login on: allowed, behind re-authentication (see docs/security.md).
MFA_ALLOW_UNVERIFIED_EMAIL = True
MFA_FORMS = {
    "add_webauthn": "keizoku.accounts.mfa_forms.AddWebAuthnForm",
    "edit_webauthn": "keizoku.accounts.mfa_forms.EditWebAuthnForm",
    "login_webauthn": "keizoku.accounts.mfa_forms.LoginWebAuthnForm",
    "reauthenticate_webauthn": "keizoku.accounts.mfa_forms.ReauthenticateWebAuthnForm",
}
USERSESSIONS_TRACK_ACTIVITY = True
# Laptop and tests serve static files straight from the apps; production runs collectstatic.
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG or TESTING

# Our own flows use allauth's rate limiter (same cache, same syntax): the policy check of
# registration and linking, per IP and per policy number; linking per member.
ACCOUNT_RATE_LIMITS = {
    **ACCOUNT_RATE_LIMITS,
    "policy_check": "20/h/ip,5/h/key",
    "policy_link": "10/h/user",
    "chat": "30/m/ip",  # the AI chat (keizoku.chat.views)
}
