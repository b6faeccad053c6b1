"""django-allauth glue: signup closed (registration is our own flow), mails through our outbox,
throttling per (login, source) with its lock and the step-up by mail (``lockout``), redirects only
to our own paths, Japanese errors."""

import hashlib
import uuid
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import Login
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from keizoku.core import ja
from keizoku.core.audit import audit_record
from keizoku.core.http import client_ip
from keizoku.core.links import absolute_url
from keizoku.notifications.services import mail_queue

from . import allauth_bridge, lockout
from .redirects import is_own_path

# allauth's messages where the guide's wording matters (the rest come from allauth's catalog).
ERROR_MESSAGES = {
    "email_password_mismatch": _("ID（メールアドレス）またはパスワードが正しくありません。"),
    "too_many_login_attempts": _(
        "ログインの試行回数が多すぎます。しばらく時間をおいてから、もう一度お試しください。"
    ),
    "account_locked": _(
        "ログインに続けて失敗したため、このIDでのログインを停止しています。"
        "「パスワードをお忘れの方」からパスワードを再設定すると、ログインできるようになります。"
    ),
    "rate_limited": _("操作の回数が多すぎます。しばらく時間をおいてから、もう一度お試しください。"),
    "incorrect_password": _("パスワードが正しくありません。"),
    "incorrect_code": _("確認コードが正しくありません。メールに記載のコードを入力してください。"),
    "enter_current_password": _("現在のパスワードが正しくありません。"),
}


def _wait_error(seconds: int) -> ValidationError:
    minutes = max(1, -(-seconds // 60))
    return ValidationError(
        ngettext(
            "ログインに続けて失敗したため、ログインを一時的に制限しています。"
            "%(minutes)d分ほど時間をおいてから、もう一度お試しください。",
            "ログインに続けて失敗したため、ログインを一時的に制限しています。"
            "%(minutes)d分ほど時間をおいてから、もう一度お試しください。",
            minutes,
        )
        % {"minutes": minutes},
        code="login_throttled",
    )


def _on_base_url(value: Any) -> Any:
    """``http://any-host/mypage/…`` → ``BASE_URL/mypage/…`` for the links allauth builds."""
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        parts = urlsplit(value)
        return settings.BASE_URL + urlunsplit(("", "", parts.path, parts.query, parts.fragment))
    return value


_STEP_UP_ATTR = "_keizoku_step_up"  # (login, whether stepped up) read by this request's check

# Before the subject of every allauth mail (ACCOUNT_EMAIL_SUBJECT_PREFIX, in the mail's language).
SUBJECT_PREFIX = _("【マイページ】")


def _mail_language(email: str, context: dict) -> str:
    """The recipient's language: the member's own when the mail is about a member (a reset, a
    notice, an address change), else the language of the request (staff)."""
    from allauth.account.models import EmailAddress

    user = context.get("user")
    if user is None:
        address = EmailAddress.objects.filter(email__iexact=email).select_related("user").first()
        user = address.user if address is not None else None
    if user is not None and getattr(user, "kind", "") == "member":
        return user.language
    return translation.get_language() or settings.LANGUAGE_CODE


def _login_of(credentials: dict[str, Any]) -> str:
    return str(credentials.get("email") or credentials.get("username") or "")


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {**DefaultAccountAdapter.error_messages, **ERROR_MESSAGES}

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def clean_email(self, email: str) -> str:
        """Every address allauth takes (email change, password reset) in its one stored spelling,
        like registration's (``ja.normalize_email``, W5)."""
        try:
            return ja.normalize_email(email)
        except ja.JaInputError as error:
            raise ValidationError(str(error)) from None

    def is_safe_url(self, url: str | None) -> bool:
        return is_own_path(url)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # Links in mails are built on BASE_URL, never on the request's Host (SECURITY.md): ours
        # by {% absolute_url %}, allauth's own moved onto it here.
        context = {
            "email": email,  # as allauth's own send_mail gives it
            **{name: _on_base_url(value) for name, value in context.items()},
        }
        with translation.override(_mail_language(email, context)):
            message = self.render_mail(template_prefix, email, context)
        mail_queue(
            key=f"allauth:{uuid.uuid4()}",
            kind=template_prefix.rsplit("/", 1)[-1][:50],
            to=email,
            subject=message.subject,
            body=message.body,
        )

    def format_email_subject(self, subject: str) -> str:
        return f"{SUBJECT_PREFIX}{subject}"

    def send_notification_mail(self, template_prefix, user, context=None, email=None) -> None:
        # allauth leaves the user out of a notice's context: keep it, for the mail's language.
        super().send_notification_mail(
            template_prefix, user, {**(context or {}), "user": user}, email
        )

    def authenticate(self, request: HttpRequest, **credentials: Any) -> AbstractBaseUser | None:
        """Password check behind the throttle of (login, source); unknown logins are treated the
        same. A right password while the account is stepped up goes on to the code by mail
        (``is_login_by_code_required``)."""
        login = _login_of(credentials)
        source = lockout.source_of(request)
        state = lockout.throttle_state(login, source)
        if state.locked:
            _audit_login(request, "auth.login_refused_locked", login)
            raise self.validation_error("account_locked")
        if state.wait:
            _audit_login(request, "auth.login_refused_throttled", login)
            raise _wait_error(state.wait)
        # allauth's own part: the per-IP limit (ACCOUNT_RATE_LIMITS["login_failed"]).
        user = super().authenticate(request, **credentials)
        if user is not None:
            if state.failures:
                lockout.throttle_clear_source(login, source)
            # Read just now: the login stage of this request asks again (one cache read less).
            setattr(request, _STEP_UP_ATTR, (lockout.normalize_login(login), state.step_up))
            return user
        state = login_failure_count(request, login)
        if state.locked:
            raise self.validation_error("account_locked")
        if state.wait:
            raise _wait_error(state.wait)
        return None

    def is_login_by_code_required(self, login: Login) -> bool:
        """After a right password, a one-time code by mail when the account is stepped up (its
        failures from several sources reached ``lockout.STEP_UP_FAILURES``): allauth's login-code
        stage. Not after a passkey (phishing-resistant, nothing guessed) nor a code just given."""
        records = allauth_bridge.authentication_records(self.request, login.user)
        last = records[-1] if records else {}
        if last.get("method") == "password":
            typed = lockout.normalize_login(
                str(last.get("email") or getattr(login.user, "email", "") or "")
            )
            known = getattr(self.request, _STEP_UP_ATTR, None)
            if known[1] if known and known[0] == typed else lockout.step_up_required(typed):
                return True
        return super().is_login_by_code_required(login)


def login_failure_count(
    request: HttpRequest | None, login: str, *, action: str = "auth.login_failed"
) -> lockout.Throttle:
    """Count a failed password (or a wrong mailed code) for ``login`` from the request's source:
    the audit trail, the lock, the step-up, and the owner's notice once per episode."""
    from .models import User

    state = lockout.throttle_failure(login, lockout.source_of(request))
    _audit_login(request, action, login, failures=state.failures)
    if state.locked:
        _audit_login(request, "auth.account_locked", login, failures=state.failures)
    if state.step_up_began:
        _audit_login(
            request,
            "auth.login_step_up",
            login,
            failures=state.account_failures,
            sources=state.account_sources,
        )
    if state.notice:
        user = User.objects.filter(email__iexact=lockout.normalize_login(login)).first()
        if user is not None:
            _lock_notice(request, user, state)
    return state


def _lock_notice(request: HttpRequest | None, user: Any, state: lockout.Throttle) -> None:
    """Tell the owner that logins failed repeatedly and what it changed (once per episode)."""
    staff = user.kind == "staff"
    mail_queue(
        key=f"login-locked:{uuid.uuid4()}",  # once per episode: decided by lockout's flag
        kind="login_locked",
        to=user.email,
        language=None if staff else user.language,
        context={
            "name": user.name,
            "staff": staff,
            "at": timezone.now(),
            "ip": (client_ip(request) if request is not None else None) or "",
            "step_up": state.step_up,
            "reset_url": absolute_url("account_reset_password"),
        },
    )


def _audit_login(request: HttpRequest | None, action: str, login: str, **details: Any) -> None:
    """The audit trail names the account when it exists, a hash of the login otherwise."""
    from .models import User

    user = User.objects.filter(email__iexact=lockout.normalize_login(login)).first()
    if user is None:
        digest = hashlib.sha256(lockout.normalize_login(login).encode()).hexdigest()[:16]
        details["login_sha256"] = digest
    audit_record(action=action, actor=user, request=request, details=details)
