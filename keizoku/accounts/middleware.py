"""Session limits (SECURITY.md): idle and absolute timeouts per kind of user, enforced here."""

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from keizoku.core.audit import audit_record

from . import authn
from .redirects import is_own_path

EXPIRED_MESSAGES = {
    "idle": _("一定時間操作がなかったため、ログアウトしました。もう一度ログインしてください。"),
    "absolute": _(
        "ログインしてからの時間が上限を超えたため、ログアウトしました。もう一度ログインしてください。"
    ),
}


class SessionTimeoutMiddleware:
    """Ends a session idle too long or logged in too long ago; also sends the browser cookie.

    Place after the authentication and message middleware, before allauth's UserSessions one.
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
        staff = user.kind == user.Kind.STAFF
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
