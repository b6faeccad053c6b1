"""Site-wide pages: the top page, health check, and the Japanese error pages."""

import logging
import sys

from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import metrics

logger = logging.getLogger(__name__)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Readiness, for the load balancer: 200 when the database answers, 503 otherwise. The mail
    outbox backlog is reported (to loopback or METRICS_TOKEN) but never fails the check: it is
    not this host's fault, and taking every host out would not send one mail more."""
    from keizoku.notifications.services import outbox_backlog

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        backlog = outbox_backlog() if metrics.observer_allowed(request) else None
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "unavailable"}, status=503)
    body: dict = {"status": "ok", "database": "ok"}
    if backlog is not None:
        body["outbox"] = backlog
    return JsonResponse(body)


@never_cache
@require_GET
def livez(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers (no database); also the constant page of the benchmarks."""
    return HttpResponse("ok", content_type="text/plain")


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text for this host's workers and the service's state; 404 to anyone but
    loopback or a bearer of METRICS_TOKEN (keizoku.core.metrics)."""
    if not metrics.observer_allowed(request):
        raise Http404
    return HttpResponse(metrics.exposition(), content_type=metrics.CONTENT_TYPE)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Django turns a session that could not be saved into a 400 ("deleted by a concurrent
    # request"), even when the cause is the database connection being cut: that is a 503.
    if _lost_database(exception):
        return _database_unavailable(request)
    return render(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """500, or 503 when the cause is the database: the customer can simply try again later."""
    # The driver's own errors too: a few escape Django's wrapping (closing a server-side cursor).
    # Each backend's wrapper carries its DB-API module as `Database`; the stubs' base class does
    # not declare it.
    driver = connection.Database  # type: ignore[attr-defined]
    if isinstance(sys.exception(), (DatabaseError, driver.Error)):
        return _database_unavailable(request)
    return render(request, "500.html", status=500)


def _database_unavailable(request: HttpRequest) -> HttpResponse:
    """The Japanese 503. The connection is gone for the rest of this request, so the page is
    drawn without anything that would query the database: the member (anonymous here), the
    session and the messages kept in it (emptied for this response, never saved)."""
    logger.error("database unavailable", extra={"path": request.path})
    request.user = AnonymousUser()
    session = getattr(request, "session", None)
    if session is not None:
        session._session_cache = {}  # loaded, empty: nothing read from the database
        session.modified = False  # and nothing written back to it
    response = render(request, "503.html", status=503)
    response["Retry-After"] = "60"
    return response


def _lost_database(exception: BaseException | None) -> bool:
    """Whether the connection to the database failed somewhere in the exception's chain."""
    driver = connection.Database  # type: ignore[attr-defined]  # as in server_error
    lost = (OperationalError, InterfaceError, driver.OperationalError, driver.InterfaceError)
    seen = 0
    while exception is not None and seen < 10:
        if isinstance(exception, lost):
            return True
        exception = exception.__cause__ or exception.__context__
        seen += 1
    return False


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form posted without a valid token: usually a page left open too long, or cookies off."""
    logger.warning("csrf failure", extra={"path": request.path, "reason": reason})
    return render(request, "403_csrf.html", status=403)
