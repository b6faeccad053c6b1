"""Prometheus metrics (prometheus-client), served at /metrics (keizoku.core.views.metrics).

Two kinds:

- events counted by the process that sees them (requests, logins, lockouts, overload 503s). Under
  gunicorn each worker writes them to the per-instance scratch directory PROMETHEUS_MULTIPROC_DIR
  (set by config/gunicorn.py), and a scrape of any worker sums every worker's files;
- the state of the service, read from the database at each scrape (the mail outbox, the task
  queue, applications by state, the periodic jobs): the same on every host, so aggregate them
  with ``max`` across hosts, never ``sum``.
"""

import hmac
import ipaddress
import os
from collections.abc import Iterable

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

REQUEST_SECONDS = Histogram(
    "keizoku_http_request_duration_seconds",
    "Time to answer a request, by route (URL pattern name), method and status; "
    "its _count is the number of requests.",
    ["route", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10),
)
LOGINS = Counter(
    "keizoku_logins_total",
    "Password logins by result: success, failure (wrong password or unknown login), refused "
    "(locked or throttled before the password was checked).",
    ["result"],
)
LOCKOUTS = Counter(
    "keizoku_lockouts_total", "Logins locked for one source after too many failed passwords."
)
OVERLOAD_REJECTED = Counter(
    "keizoku_overload_rejected_total",
    "Requests answered 「ただいま混雑しています」 (503) by admission control.",
)

# Audit actions (keizoku.core.audit) that are login outcomes.
_LOGIN_RESULTS = {
    "auth.login": "success",
    "auth.login_failed": "failure",
    "auth.login_refused_locked": "refused",
    "auth.login_refused_throttled": "refused",
    "auth.login_code_failed": "failure",  # a wrong code mailed at a step-up
}
_LOCKOUT_ACTIONS = {"auth.account_locked"}


def request_observe(*, route: str, method: str, status: int, seconds: float) -> None:
    method = method if method in _METHODS else "other"
    REQUEST_SECONDS.labels(route, method, str(status)).observe(seconds)


def audit_observe(action: str) -> None:
    """Count an audit event that is a login outcome or a lockout (called once it is committed)."""
    if action in _LOGIN_RESULTS:
        LOGINS.labels(_LOGIN_RESULTS[action]).inc()
    if action in _LOCKOUT_ACTIONS:
        LOCKOUTS.inc()


def overload_rejected() -> None:
    """Admission control calls this each time it sheds a request with the 503 page."""
    OVERLOAD_REJECTED.inc()


class ServiceStateCollector(Collector):
    """The state of the service as the database holds it, read at each scrape."""

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("keizoku_database_up", "1 when the database answered this scrape.")
        try:
            families = list(_state_families())
        except DatabaseError:
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        return [up, *families]


def _state_families() -> Iterable[Metric]:
    from django.db.models import Count
    from django_tasks_db.models import DBTaskResult

    from keizoku.notifications.models import PeriodicJob
    from keizoku.notifications.services import outbox_backlog
    from keizoku.renewals.models import Application

    backlog = outbox_backlog()
    mails = GaugeMetricFamily(
        "keizoku_mail_outbox_mails",
        "Mails not sent: pending (first try), retrying (failed before, waiting for the "
        "back-off), failed (gave up after 20 tries: for staff).",
        labels=["state"],
    )
    for state in ("pending", "retrying", "failed"):
        mails.add_metric([state], backlog[state])
    yield mails
    oldest = GaugeMetricFamily(
        "keizoku_mail_outbox_oldest_pending_age_seconds",
        "Age of the oldest mail not sent yet and not given up (0 when none).",
    )
    oldest.add_metric([], backlog["oldest_pending_age_seconds"])
    yield oldest

    queued = GaugeMetricFamily(
        "keizoku_tasks_queued", "Background tasks waiting for a worker, by queue.", labels=["queue"]
    )
    rows = (
        DBTaskResult.objects.filter(status="READY")
        .values_list("queue_name")
        .annotate(n=Count("id"))
    )
    for queue, count in rows:
        queued.add_metric([queue], count)
    yield queued

    applications = GaugeMetricFamily(
        "keizoku_applications", "Applications by state.", labels=["state"]
    )
    counts = dict(Application.objects.values_list("status").annotate(n=Count("id")))
    for state in Application.Status.values:
        applications.add_metric([state], counts.get(state, 0))
    yield applications

    last = GaugeMetricFamily(
        "keizoku_periodic_job_last_success_timestamp_seconds",
        "When each periodic job last finished without error (Unix time).",
        labels=["job"],
    )
    for name, finished in PeriodicJob.objects.exclude(last_success_at=None).values_list(
        "name", "last_success_at"
    ):
        assert finished is not None  # excluded above
        last.add_metric([name], finished.timestamp())
    yield last


def exposition() -> bytes:
    """The text a scrape gets: every worker's counters, then the service's state."""
    state = CollectorRegistry(auto_describe=False)
    state.register(ServiceStateCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        workers = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(workers)
        events = generate_latest(workers)
    else:
        events = generate_latest(REGISTRY)
    return events + generate_latest(state)


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def observer_allowed(request: HttpRequest) -> bool:
    """Who may read /metrics and the details of /healthz: a request from this host that no proxy
    relayed (Prometheus or an operator on the host), or one bearing METRICS_TOKEN."""
    token = settings.METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "")
        scheme, _, value = sent.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(value.encode(), token.encode()):
            return True
    relayed = "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    return not relayed and _loopback(request.META.get("REMOTE_ADDR", ""))
