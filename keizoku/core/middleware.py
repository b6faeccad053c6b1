"""Response headers every page gets (SECURITY.md), and the language of each request."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import add_never_cache_headers

PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)


class SecurityHeadersMiddleware:
    """no-store on every dynamic page unless the view chose otherwise; permissions and CORP."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Cache-Control" not in response:
            # Personal data must never sit in a shared or back-button cache; public pages are
            # cheap to render, so the safe default holds everywhere.
            add_never_cache_headers(response)  # no-cache, no-store, must-revalidate, private
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response


class LanguageMiddleware:
    """The language of the page once the user is known (after AuthenticationMiddleware).

    Django's LocaleMiddleware has chosen from the 「English / 日本語」 cookie or Accept-Language;
    a logged-in member's own choice (``User.language``) wins over both, whatever browser they
    use; the back office is Japanese for staff.
    """

    STAFF_PREFIXES = ("/backoffice/",)

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.languages = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = self._language(request)
        if language and language != translation.get_language():
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)

    def _language(self, request: HttpRequest) -> str | None:
        if request.path.startswith(self.STAFF_PREFIXES):
            return settings.LANGUAGE_CODE
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or getattr(user, "kind", "") != "member":
            return None
        language = getattr(user, "language", None)
        return language if language in self.languages else None
