"""Who may enter the back office: staff login, two-step authentication, roles and refusals."""

import functools
import logging
from collections.abc import Callable
from typing import NoReturn, cast
from urllib.parse import urlencode

from allauth.account.views import LoginView
from allauth.mfa.utils import is_mfa_enabled
from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from keizoku.accounts import allauth_bridge
from keizoku.accounts.forms import LoginForm
from keizoku.accounts.models import User
from keizoku.core.audit import audit_record
from keizoku.core.http import client_ip

from .models import StaffProfile

logger = logging.getLogger(__name__)

Role = StaffProfile.Role
STAFF_HOME = "backoffice:dashboard"


class StaffRequest(HttpRequest):
    """The request of a view behind ``staff_required``, for type checking (django-stubs'
    documented pattern; Django never builds one): the decorator has checked the user and set
    ``staff``, the active profile."""

    user: User
    staff: StaffProfile


def staff_profile(user) -> StaffProfile | None:
    """The active staff profile of a logged-in staff user, or None."""
    if not user.is_authenticated or user.kind != User.Kind.STAFF:
        return None
    try:
        profile = user.staff_profile
    except StaffProfile.DoesNotExist:
        return None
    return profile if profile.is_active else None


def mfa_used_in_session(request: HttpRequest) -> bool:
    """allauth records each authentication step of this session; a second factor must be one."""
    records = allauth_bridge.authentication_records(request, request.user)
    return any(record.get("method") == "mfa" for record in records)


def refuse(request: HttpRequest, reason: str, **details) -> NoReturn:
    """Log and audit a refused back-office access, then answer 403."""
    logger.warning(
        "backoffice access refused",
        extra={"reason": reason, "path": request.path, "user_id": request.user.pk},
    )
    audit_record(
        action="backoffice.denied",
        request=request,
        details={"reason": reason, "path": request.path[:200], **details},
    )
    raise PermissionDenied(reason)


def not_found(request: HttpRequest, obj_type: str, obj_id) -> NoReturn:
    """An object outside the staff member's agency: 404, as if it did not exist, but logged."""
    logger.warning(
        "backoffice object outside the agency",
        extra={"path": request.path, "user_id": request.user.pk, "object": obj_type},
    )
    audit_record(
        action="backoffice.not_found",
        request=request,
        details={"path": request.path[:200], "object_type": obj_type, "object_id": str(obj_id)},
    )
    raise Http404


def login_redirect(request: HttpRequest) -> HttpResponseRedirect:
    url = reverse("backoffice:login")
    return HttpResponseRedirect(f"{url}?{urlencode({'next': request.get_full_path()})}")


def staff_required(
    view: Callable | None = None,
    *,
    roles: tuple[str, ...] | None = None,
    mfa: bool = True,
    read_only_post: bool = False,
):
    """Every back-office view: a logged-in staff user with an active profile, two-step login
    done in this session (or sent to set it up), the role allowed, and auditors never POST.

    ``read_only_post`` lets auditors POST too (their own two-step setup, nothing else).
    Sets ``request.staff`` (the StaffProfile) for the view.
    """

    def decorator(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                # Logged, not audited: anonymous requests must not be able to fill the trail.
                logger.warning(
                    "backoffice login required",
                    extra={"path": request.path[:200], "ip": client_ip(request)},
                )
                return login_redirect(request)
            profile = staff_profile(request.user)
            if profile is None:
                refuse(request, "not_staff")
            if mfa:
                if not is_mfa_enabled(request.user):
                    return HttpResponseRedirect(reverse("backoffice:mfa_setup"))
                if not mfa_used_in_session(request):
                    # Logged in with the password only (the TOTP step was skipped somewhere):
                    # log in again through the staff login, which asks for the second factor.
                    from django.contrib.auth import logout

                    logout(request)
                    return login_redirect(request)
            if roles is not None and profile.role not in roles:
                refuse(request, "role", role=profile.role)
            if (
                profile.read_only
                and not read_only_post
                and request.method not in ("GET", "HEAD", "OPTIONS")
            ):
                refuse(request, "read_only", role=profile.role)
            cast(StaffRequest, request).staff = profile
            response = func(request, *args, **kwargs)
            response.headers.setdefault("Cache-Control", "no-store")
            return response

        # A marker the URL test checks every view carries; the stubs type the wrapper without it.
        wrapped.staff_required = True  # type: ignore[attr-defined]
        return wrapped

    return decorator(view) if view is not None else decorator


class StaffLoginForm(LoginForm):
    """The MyPage login form (allauth's) for staff: the same checks and throttling, staff accounts
    only."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["login"].label = _("メールアドレス")
        self.fields["password"].widget.attrs.pop("placeholder", None)
        self.fields.pop("remember", None)

    def clean(self):
        cleaned = super().clean()
        user = getattr(self, "user", None)
        if user is not None and user.kind != User.Kind.STAFF:
            # A member's right password here gets the same answer as a wrong one.
            self.user = None
            raise forms.ValidationError(_("メールアドレスまたはパスワードが正しくありません。"))
        return cleaned


class StaffLoginView(LoginView):
    template_name = "backoffice/login.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and staff_profile(request.user) is None:
            refuse(request, "not_staff")
        return super().dispatch(request, *args, **kwargs)

    def get_form_class(self):
        return StaffLoginForm

    def get_success_url(self) -> str:
        url = self.request.POST.get("next") or self.request.GET.get("next") or ""
        if url.startswith(("/backoffice/", "/admin/")) and url_has_allowed_host_and_scheme(
            url, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        ):
            return url
        return resolve_url(STAFF_HOME)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["next"] = self.get_success_url()
        return context


staff_login = StaffLoginView.as_view()


def guard_admin_site() -> None:
    """Django admin for insurer admins only, behind the staff login (password + second factor)."""
    site = admin.site

    def has_permission(request: HttpRequest) -> bool:
        # Asked by every model of the admin, several times a page: answered once per request.
        allowed = getattr(request, "_keizoku_admin_allowed", None)
        if allowed is None:
            profile = staff_profile(request.user)
            allowed = (
                profile is not None
                and profile.role == Role.INSURER_ADMIN
                and request.user.is_active
                and is_mfa_enabled(request.user)
                and mfa_used_in_session(request)
            )
            request._keizoku_admin_allowed = allowed  # type: ignore[attr-defined]
        return allowed

    def login(request: HttpRequest, extra_context=None) -> HttpResponse:
        if request.user.is_authenticated:
            profile = staff_profile(request.user)
            if profile is None or profile.role != Role.INSURER_ADMIN:
                refuse(request, "admin")
            if mfa_used_in_session(request):
                return HttpResponseRedirect("/admin/")
            from django.contrib.auth import logout

            logout(request)  # the password alone is not enough: log in again with the second factor
        url = reverse("backoffice:login")
        next_url = request.GET.get("next", "/admin/")
        if not next_url.startswith("/admin/"):
            next_url = "/admin/"
        return HttpResponseRedirect(f"{url}?{urlencode({'next': next_url})}")

    # The default site's own instance, on which every app registers: its methods are replaced on
    # it rather than a subclass swapped in. The stubs forbid assigning to a method.
    site.has_permission = has_permission  # type: ignore[method-assign]
    site.login = login  # type: ignore[method-assign]
