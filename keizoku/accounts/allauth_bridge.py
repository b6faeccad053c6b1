"""The one place that reaches into django-allauth's ``internal`` modules (not its public API).

allauth may move or rename anything under ``internal`` in any release. Everything of ours that
needs such a function calls it here, so a move breaks this module only:
``keizoku/accounts/tests/test_allauth_bridge.py`` calls each function below against allauth
itself, and fails (rather than a page) when one is gone; another test there refuses an
``allauth…internal`` import anywhere else in the source tree. ``pyproject.toml`` pins allauth to
its major version (docs/decisions.md).
"""

from typing import Any

from allauth.account.internal.flows import login as _login_flow
from allauth.account.internal.userkit import user_id_to_str
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal import auth as _recovery_auth
from allauth.mfa.recovery_codes.internal import flows as _recovery_flow
from allauth.mfa.totp.internal import auth as _totp_auth
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest

# --- the authentication records of a session (allauth.account) -------------------------------


def authentication_records(request: HttpRequest, user: Any) -> list[dict]:
    """Each authentication step of this session for ``user``, oldest first: ``{"method":
    "password" | "mfa" | "code" | …, "at": epoch seconds, …}`` (empty for anyone else)."""
    return list(_login_flow.get_authentication_records(request, user))


def authentication_record(
    request: HttpRequest, user: AbstractBaseUser, method: str, **extra: Any
) -> None:
    """Record one more authentication step of this session (e.g. a second factor just proved)."""
    _login_flow.record_authentication(request, user, method, **extra)


def authentication_records_store(
    session: SessionBase, user: AbstractBaseUser, records: list[dict]
) -> None:
    """Write a session's records as allauth's login leaves them (tests that log in directly)."""
    session[_login_flow.AUTHENTICATION_METHODS_SESSION_KEY] = records
    session[_login_flow._AUTHENTICATION_METHODS_USER_SESSION_KEY] = user_id_to_str(user)


# --- the authenticator app and recovery codes (allauth.mfa) ----------------------------------


def totp_activate(user: AbstractBaseUser, secret: str) -> Authenticator:
    """Turn on the authenticator app (TOTP) for ``user`` with ``secret``."""
    return _totp_auth.TOTP.activate(user, secret).instance


def totp_secret_generate() -> str:
    """A new TOTP secret (base32), as allauth's set-up page makes one."""
    return _totp_auth.generate_totp_secret()


def totp_secret_clear(request: HttpRequest) -> None:
    """Forget the secret allauth kept in the session while the set-up page was shown."""
    _totp_auth.clear_totp_secret(request)


def totp_code(secret: str, *, counter: int) -> str:
    """The 6-digit code an authenticator app shows for ``secret`` in 30-second step ``counter``."""
    return _totp_auth.format_hotp_value(_totp_auth.hotp_value(secret, counter))


def recovery_codes_generate(request: HttpRequest) -> list[str]:
    """Give the user of ``request`` recovery codes beside their first factor (as allauth does
    after an activation); returns the unused codes to show once, empty if they had some."""
    authenticator = _recovery_flow.auto_generate_recovery_codes(request)
    return authenticator.wrap().get_unused_codes() if authenticator is not None else []


def recovery_codes_activate(user: AbstractBaseUser) -> Authenticator:
    """Give ``user`` a fresh set of recovery codes."""
    return _recovery_auth.RecoveryCodes.activate(user).instance
