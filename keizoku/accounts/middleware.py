"""Session limits (SECURITY.md): idle and absolute timeouts per kind of user, enforced here;
the session list's activity, recorded without a write on every request."""

import hashlib
import time
from collections.abc import Callable
from urllib.parse import urlencode

from allauth.account.adapter import get_adapter
from allauth.usersessions import app_settings as usersessions_settings
from allauth.usersessions.models import UserSession
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from keizoku.core.audit import audit_record

from . import authn
from .models import User
from .redirects import is_own_path

ACTIVITY_AT = "kz_activity"  # [fingerprint of session key, IP and browser, when last recorded]

EXPIRED_MESSAGES = {
    "idle": _("一定時間操作がなかったため、ログアウトしました。もう一度ログインしてください。"),
    "absolute": _(
        "ログインしてからの時間が上限を超えたため、ログアウトしました。もう一度ログインしてください。"
    ),
}


class SessionTimeoutMiddleware:
    """Ends a session idle too long or logged in too long ago; also sends the browser cookie.

    Place after the authentication and message middleware, before ``UserSessionsActivityMiddleware``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            reason = authn.session_times(request).expired
            if reason:
                return self._expire(request, reason)
            authn.session_touch(request)
        response = self.get_response(request)
        authn.browser_cookie_set(request, response)
        return response

    def _expire(self, request: HttpRequest, reason: str) -> HttpResponse:
        user = request.user
        logout(request)
        audit_record(action="auth.session_expired", actor=user, details={"reason": reason})
        messages.info(request, EXPIRED_MESSAGES[reason])
        # Staff log in again where they came from: the back office has its own login page.
        staff = isinstance(user, User) and user.kind == User.Kind.STAFF
        login_url = reverse("backoffice:login" if staff else "account_login")
        path = request.get_full_path()
        if request.method == "GET" and is_own_path(path) and path != login_url:
            login_url = f"{login_url}?{urlencode({'next': path})}"
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = login_url
            return response
        if request.headers.get("Accept", "").startswith("application/json"):
            return HttpResponse('{"expired": true}', status=401, content_type="application/json")
        return HttpResponseRedirect(login_url)


class UserSessionsActivityMiddleware:
    """allauth's session list activity (``USERSESSIONS_TRACK_ACTIVITY``), written at most once a
    minute per session instead of on every request.

    Replaces ``allauth.usersessions.middleware.UserSessionsMiddleware``: allauth reads the row,
    reads its user and saves it in a transaction on each request; the list shows the last
    activity to the minute. A new session key (login, key rotation), a new IP address or a new
    browser is still recorded at once, so allauth's ``session_client_changed`` still fires.
    """

    INTERVAL = 60  # seconds between two writes of the same session's last activity

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not usersessions_settings.TRACK_ACTIVITY or getattr(request, "session", None) is None:
            return self.get_response(request)
        logged_in = self._logged_in(request)
        if logged_in:
            self._track(request)
        response = self.get_response(request)
        if not logged_in and self._logged_in(request):
            # Logged in by this very request: allauth recorded the session then
            # (``usersessions.signals.on_user_logged_in``), so the next page need not.
            request.session[ACTIVITY_AT] = [self._fingerprint(request), time.time()]
        return response

    @staticmethod
    def _logged_in(request: HttpRequest) -> bool:
        user = getattr(request, "user", None)
        return bool(request.session.session_key and user is not None and user.is_authenticated)

    @staticmethod
    def _fingerprint(request: HttpRequest) -> str:
        return hashlib.sha256(
            "\n".join(
                (
                    request.session.session_key or "",  # set: see _logged_in
                    get_adapter().get_client_ip(request) or "",
                    request.META.get("HTTP_USER_AGENT", ""),
                )
            ).encode()
        ).hexdigest()[:32]

    def _track(self, request: HttpRequest) -> None:
        now = time.time()
        fingerprint = self._fingerprint(request)
        recorded = request.session.get(ACTIVITY_AT)
        if (
            isinstance(recorded, list)
            and len(recorded) == 2
            and recorded[0] == fingerprint
            and isinstance(recorded[1], (int, float))
            and 0 <= now - recorded[1] < self.INTERVAL
        ):
            return
        UserSession.objects.create_from_request(request)
        request.session[ACTIVITY_AT] = [fingerprint, now]
