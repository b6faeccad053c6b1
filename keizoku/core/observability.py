"""Following a request: its id (X-Request-ID) on every log line and on the response, and its
count and latency by route for /metrics (keizoku.core.metrics)."""

import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from . import metrics
from .logging import request_id

HEADER = "X-Request-ID"
# What we accept from the proxy: letters, digits and . _ : - only, 8 to 128 of them (a UUID,
# HAProxy's unique-id, a hex digest). Anything else is replaced by an id of our own.
_VALID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
# The WSGI environ is the dict gunicorn hands its access logger (config/gunicorn.py).
ENVIRON_REQUEST_ID = "keizoku.request_id"
ENVIRON_ROUTE = "keizoku.route"


def request_id_of(request: HttpRequest) -> str:
    """The proxy's id when a trusted proxy is in front (TRUSTED_PROXY_COUNT ≥ 1, so the header
    was set by it) and well formed; otherwise a new one."""
    if settings.TRUSTED_PROXY_COUNT > 0:
        sent = request.headers.get(HEADER, "")
        if _VALID.fullmatch(sent):
            return sent
    return uuid.uuid4().hex


def route_of(request: HttpRequest) -> str:
    """The URL pattern's name (never the raw path, which holds ids and one-time keys)."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or match.route
    if request.path.startswith(settings.STATIC_URL):
        return "static"
    return "<unmatched>"


class ObservabilityMiddleware:
    """First in MIDDLEWARE: every response, static files and error pages included, carries the
    request id and is counted under its route and status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        current = request_id_of(request)
        token = request_id.set(current)
        request.META[ENVIRON_REQUEST_ID] = current
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        route = route_of(request)
        request.META[ENVIRON_ROUTE] = route
        response[HEADER] = current
        metrics.request_observe(
            route=route,
            method=request.method or "",
            status=response.status_code,
            seconds=time.perf_counter() - started,
        )
        return response
