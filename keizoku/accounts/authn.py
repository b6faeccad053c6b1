"""Around each login: session stamps, the known-browser notice, ending sessions, the audit trail.

Connected to Django's and allauth's signals in ``AccountsConfig.ready`` (``receivers_connect``),
so every way in (password, two-step, passkey, the login at the end of registration, the back
office's staff login) gets the same treatment.
"""

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import user_logged_in, user_logged_out
from django.core import signing
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from keizoku.core.audit import audit_record
from keizoku.core.http import client_ip
from keizoku.core.links import absolute_url
from keizoku.notifications.services import mail_to

from . import lockout
from .models import KnownBrowser, User

AUTH_AT = "kz_auth_at"  # when this session logged in (epoch seconds): the absolute limit
SEEN_AT = "kz_seen_at"  # the last request of this session (epoch seconds): the idle limit
BROWSER_COOKIE = "kz_browser"
BROWSER_SALT = "keizoku.accounts.browser"
BROWSER_MAX_AGE = 400 * 24 * 60 * 60  # the longest a browser keeps a cookie
_BROWSER_ATTR = "_keizoku_browser_id"


# --- session limits ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionLimits:
    idle: int  # seconds without a request
    absolute: int  # seconds since login


def session_limits(user: Any) -> SessionLimits:
    """Per kind of user (SECURITY.md): members 30 min / 12 h, staff 15 min / 8 h."""
    kind = getattr(user, "kind", None)
    idle = settings.SESSION_IDLE_TIMEOUT
    absolute = settings.SESSION_ABSOLUTE_TIMEOUT
    if kind not in idle or kind not in absolute:
        kind = "staff"  # an unknown kind gets the strictest limits
    return SessionLimits(idle=idle[kind], absolute=absolute[kind])


@dataclass(frozen=True)
class SessionTimes:
    idle_left: int
    absolute_left: int

    @property
    def expired(self) -> str:
        if self.absolute_left <= 0:
            return "absolute"
        if self.idle_left <= 0:
            return "idle"
        return ""


def session_times(request: HttpRequest, *, now: float | None = None) -> SessionTimes:
    """Seconds left before the session of ``request.user`` ends, by each limit."""
    now = time.time() if now is None else now
    limits = session_limits(request.user)
    auth_at = request.session.get(AUTH_AT)
    seen_at = request.session.get(SEEN_AT, auth_at)
    if not isinstance(auth_at, (int, float)) or not isinstance(seen_at, (int, float)):
        return SessionTimes(idle_left=0, absolute_left=0)  # a session not made by login()
    return SessionTimes(
        idle_left=int(seen_at + limits.idle - now),
        absolute_left=int(auth_at + limits.absolute - now),
    )


def session_touch(request: HttpRequest, *, now: float | None = None, force: bool = False) -> None:
    """Record activity; written at most every few seconds to spare the session store."""
    now = time.time() if now is None else now
    seen_at = request.session.get(SEEN_AT)
    if force or not isinstance(seen_at, (int, float)) or now - seen_at >= 5:
        request.session[SEEN_AT] = now


# --- known browsers ---------------------------------------------------------------------------


def browser_id_of(request: HttpRequest) -> str | None:
    try:
        value = request.get_signed_cookie(
            BROWSER_COOKIE, salt=BROWSER_SALT, max_age=BROWSER_MAX_AGE
        )
    except (KeyError, signing.BadSignature):
        return None
    return value if isinstance(value, str) and 16 <= len(value) <= 64 else None


def browser_cookie_set(request: HttpRequest, response: HttpResponse) -> None:
    """Called by the middleware: (re)send the long-lived browser cookie after a login."""
    browser_id = getattr(request, _BROWSER_ATTR, None)
    if browser_id:
        response.set_signed_cookie(
            BROWSER_COOKIE,
            browser_id,
            salt=BROWSER_SALT,
            max_age=BROWSER_MAX_AGE,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )


def _user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:300]


def browser_login_record(*, request: HttpRequest, user: User) -> bool:
    """Remember the browser of this login; mail the member when it is new to them.

    The very first login of an account (the end of registration) only records its browser.
    Returns whether a notice was queued.
    """
    browser_id = browser_id_of(request) or secrets.token_urlsafe(24)
    setattr(request, _BROWSER_ATTR, browser_id)
    first_login = user.last_login is None
    with transaction.atomic():
        known, created = KnownBrowser.objects.get_or_create(
            user=user, browser_id=browser_id, defaults={"user_agent": _user_agent(request)}
        )
        if not created:
            KnownBrowser.objects.filter(pk=known.pk).update(
                last_seen=timezone.now(), user_agent=_user_agent(request)
            )
            return False
        if first_login:
            return False
        mail_to(
            user,
            key=f"new-browser:{known.pk}",
            kind="new_browser",
            context={
                "at": timezone.now(),
                "user_agent": known.user_agent,
                "ip": client_ip(request) or "",
                "sessions_url": absolute_url("usersessions_list"),
                "password_url": absolute_url("account_change_password"),
            },
        )
        audit_record(action="auth.new_browser", actor=user, obj=known, request=request)
    return True


# --- ending sessions --------------------------------------------------------------------------


def sessions_end_others(*, user: User, keep: str | None = None) -> int:
    """End every session of ``user`` but ``keep`` (the current one); returns how many."""
    from allauth.usersessions.models import UserSession

    ended = 0
    for user_session in UserSession.objects.filter(user_id=user.pk):
        if keep and user_session.session_key == keep:
            continue
        user_session.end()
        ended += 1
    return ended


# --- signal receivers -------------------------------------------------------------------------


def _on_logged_in(sender, request: HttpRequest | None, user: User, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    now = time.time()
    request.session[AUTH_AT] = now
    request.session[SEEN_AT] = now
    _language_keep(request, user)
    browser_login_record(request=request, user=user)
    audit_record(action="auth.login", actor=user, request=request)


def _language_keep(request: HttpRequest, user: User) -> None:
    """A language chosen with 「English / 日本語」 before logging in becomes the member's own
    (kept on the account); without that choice the account's language applies from now on,
    already for the rest of this request (the 'logged in' message, the redirect)."""
    if user.kind != User.Kind.MEMBER:
        return
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen in dict(settings.LANGUAGES) and chosen != user.language:
        user.language = chosen
        User.objects.filter(pk=user.pk).update(language=chosen)
    translation.activate(user.language)
    request.LANGUAGE_CODE = user.language


def _on_logged_out(sender, request: HttpRequest | None, user: User | None, **kwargs) -> None:
    if user is not None:
        audit_record(action="auth.logout", actor=user, request=request)


def _on_password_changed(sender, request: HttpRequest, user: User, **kwargs) -> None:
    keep = request.session.session_key if request.user.is_authenticated else None
    ended = sessions_end_others(user=user, keep=keep)
    audit_record(
        action="auth.password_changed", actor=user, request=request, details={"ended": ended}
    )


def _on_password_reset(sender, request: HttpRequest, user: User, **kwargs) -> None:
    from allauth.account.models import EmailAddress

    ended = sessions_end_others(user=user)
    logins = {user.email, *EmailAddress.objects.filter(user=user).values_list("email", flat=True)}
    for login in logins:
        lockout.throttle_clear(login)
    audit_record(
        action="auth.password_reset", actor=user, request=request, details={"ended": ended}
    )


def _on_login_code_rejected(sender, request: HttpRequest, user: User, **kwargs) -> None:
    """A wrong code at the step-up counts as a failed login from that source: whoever has the
    password but not the mailbox is locked out of that source like a guesser."""
    from .adapter import login_failure_count

    login_failure_count(request, user.email, action="auth.login_code_failed")


def _audit(action: str):
    def receiver(sender, request: HttpRequest | None = None, user: User | None = None, **kw):
        details: dict[str, Any] = {}
        authenticator = kw.get("authenticator")
        if authenticator is not None:
            details["type"] = authenticator.type
        for name in ("reauthenticated", "passwordless", "reauthentication"):
            if name in kw:
                details[name] = bool(kw[name])
        for name in ("email_address", "from_email_address", "to_email_address"):
            address = kw.get(name)
            if address is not None:
                details[name] = hashlib.sha256(address.email.lower().encode()).hexdigest()[:16]
        audit_record(action=action, actor=user, request=request, details=details)

    return receiver


_RECEIVERS: list = []


def receivers_connect() -> None:
    """Called once from ``AccountsConfig.ready``."""
    from allauth.account import signals as account_signals
    from allauth.mfa import signals as mfa_signals

    user_logged_in.connect(_on_logged_in, dispatch_uid="keizoku.accounts.logged_in")
    user_logged_out.connect(_on_logged_out, dispatch_uid="keizoku.accounts.logged_out")
    account_signals.password_changed.connect(
        _on_password_changed, dispatch_uid="keizoku.accounts.password_changed"
    )
    account_signals.password_reset.connect(
        _on_password_reset, dispatch_uid="keizoku.accounts.password_reset"
    )
    account_signals.login_code_rejected.connect(
        _on_login_code_rejected, dispatch_uid="keizoku.accounts.login_code_rejected"
    )
    audited = [
        (account_signals.email_added, "auth.email_added"),
        (account_signals.email_changed, "auth.email_changed"),
        (account_signals.email_confirmed, "auth.email_confirmed"),
        (account_signals.email_removed, "auth.email_removed"),
        (mfa_signals.authenticator_added, "auth.mfa_added"),
        (mfa_signals.authenticator_removed, "auth.mfa_removed"),
        (mfa_signals.authenticator_reset, "auth.mfa_reset"),
        (mfa_signals.authenticator_used, "auth.mfa_used"),
        (mfa_signals.authentication_failed, "auth.mfa_failed"),
    ]
    for signal, action in audited:
        receiver = _audit(action)
        _RECEIVERS.append(receiver)  # signals hold weak references
        signal.connect(receiver, dispatch_uid=f"keizoku.accounts.{action}")
