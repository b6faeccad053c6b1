"""Admission control: a bounded amount of work in progress per web process, and a calm
「ただいま混雑しています」 (503 with Retry-After) instead of slow pages for everyone when overloaded.

gunicorn runs gthread workers with many threads (``config/gunicorn.py``), so every request that
reaches a process is seen here instead of waiting unseen in the kernel's accept queue. The
``Gate`` lets ``ADMISSION_SLOTS`` requests run at once; the others queue in arrival order.
A request whose expected wait (the requests ahead of it × the recent time per request ÷ slots)
exceeds the wait budget is turned away at once; one that waits out its budget all the same is
turned away then. The budget is ``ADMISSION_MAX_WAIT_MS`` for a burst, and the shorter
``ADMISSION_OVERLOAD_WAIT_MS`` once the queue has not emptied for a second (sustained overload:
pages that are served stay quick, as CoDel does for packets).

Behind a proxy that stamps ``X-Request-Start`` (HAProxy, nginx), the time a request already
spent in the kernel's accept queue or in gunicorn counts against its budget too.

The refusal happens before the session, the login or the view: nothing is read or written, so
the customer's reload of the same URL (the busy page is served in place, a POST's reload sends
the same form again) resumes exactly where they were. ``shed`` is the one place a refusal is
made, for the metrics to count.
"""

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import translation

from . import metrics

logger = logging.getLogger(__name__)
SUSTAINED = 1.0  # seconds the queue must stay non-empty before the short budget applies
SECRET_FIELDS = ("code", "credential")  # one-time codes, passkey assertions: never on a page


def _secret(name: str) -> bool:
    """A field never written into the busy page: any password, a one-time code, a passkey."""
    return "password" in name or name in SECRET_FIELDS


@dataclass(frozen=True)
class Decision:
    admitted: bool
    waited: float  # seconds spent queueing
    reason: str = ""  # why not: "queue" (turned away at once) or "timeout" (waited its budget)


class _Waiter:
    __slots__ = ("event", "granted")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.granted = False  # a leaving holder handed its slot to this waiter


class Gate:
    """At most ``slots`` holders at once; a FIFO queue bounded by the expected wait. A leaving
    holder hands its slot to the oldest waiter directly (one wake-up, no stampede)."""

    def __init__(self, slots: int, max_wait: float, overload_wait: float) -> None:
        self.slots = max(1, slots)
        self.max_wait = max_wait
        self.overload_wait = overload_wait
        self._lock = threading.Lock()
        self._running = 0
        self._queue: deque[_Waiter] = deque()  # oldest first
        self._service = 0.05  # seconds per request, moving average (a guess until measured)
        self._busy_since: float | None = None  # when the queue last became non-empty

    def budget(self, now: float) -> float:
        """Seconds a newcomer may wait: the burst budget, or the short one under sustained
        overload (the queue has not emptied for ``SUSTAINED`` seconds)."""
        sustained = self._busy_since is not None and now - self._busy_since >= SUSTAINED
        return min(self.max_wait, self.overload_wait) if sustained else self.max_wait

    def enter(self, waited: float = 0.0) -> Decision:
        """Take a slot, waiting if it is worth it. ``waited``: seconds the request already
        queued before reaching this process (the proxy's X-Request-Start)."""
        started = time.monotonic()
        with self._lock:
            if self._running < self.slots and not self._queue:
                self._running += 1
                return Decision(True, 0.0)
            budget = self.budget(started) - waited
            expected = (len(self._queue) + 1) * self._service / self.slots
            if expected > budget:
                return Decision(False, 0.0, "queue")
            waiter = _Waiter()
            self._queue.append(waiter)
            if self._busy_since is None:
                self._busy_since = started
        waiter.event.wait(budget)
        with self._lock:
            if waiter.granted:
                return Decision(True, time.monotonic() - started)
            self._queue.remove(waiter)
            if not self._queue:
                self._busy_since = None
        return Decision(False, time.monotonic() - started, "timeout")

    def leave(self, seconds: float) -> None:
        """A holder is done after ``seconds`` of service: its slot goes to the oldest waiter."""
        with self._lock:
            self._service += (seconds - self._service) * 0.1
            if self._queue:
                waiter = self._queue.popleft()
                if not self._queue:
                    self._busy_since = None
                waiter.granted = True
                waiter.event.set()
            else:
                self._running -= 1

    def state(self) -> dict:
        with self._lock:
            return {"running": self._running, "waiting": len(self._queue), "slots": self.slots}


_gate: Gate | None = None
_gate_lock = threading.Lock()


def gate() -> Gate:
    """This process's gate, built from the settings at first use."""
    global _gate
    if _gate is None:
        with _gate_lock:
            if _gate is None:
                _gate = Gate(
                    settings.ADMISSION_SLOTS,
                    settings.ADMISSION_MAX_WAIT_MS / 1000,
                    settings.ADMISSION_OVERLOAD_WAIT_MS / 1000,
                )
    return _gate


def gate_reset() -> None:
    """Forget the gate (tests that change the settings)."""
    global _gate
    with _gate_lock:
        _gate = None


def shed(request: HttpRequest, decision: Decision) -> HttpResponse:
    """The refusal: 「ただいま混雑しています」 at the requested URL, 503 with Retry-After.

    Nothing of the request was processed. A GET offers the same URL again; a POST of a form
    offers the same fields again (never a password or a one-time code), and its reload sends them
    too.
    """
    retry_after = settings.ADMISSION_RETRY_AFTER
    with translation.override(translation.get_language_from_request(request)):
        if request.headers.get("HX-Request"):
            body = render_to_string("core/busy_fragment.html", {"retry_after": retry_after})
        else:
            body = render_to_string(
                "busy.html",
                {
                    "retry_after": retry_after,
                    "method": request.method,
                    "path": request.get_full_path(),
                    "fields": _resendable(request),
                    "LANGUAGE_CODE": translation.get_language(),
                },
            )
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(retry_after)
    # Django's own flag (django.utils.log.log_response), which the stubs do not declare: not one
    # error line per refusal, _log_shed summarises.
    response._has_been_logged = True  # type: ignore[attr-defined]
    _log_shed(decision)
    metrics.overload_rejected()
    return response


_shed_log = {"count": 0, "since": 0.0}
_shed_log_lock = threading.Lock()


def _log_shed(decision: Decision) -> None:
    """One warning per 10 seconds of shedding, with the count, rather than one line each."""
    now = time.monotonic()
    with _shed_log_lock:
        _shed_log["count"] += 1
        if now - _shed_log["since"] < 10:
            return
        count, _shed_log["count"], _shed_log["since"] = _shed_log["count"], 0, now
    logger.warning(
        "overloaded: requests answered with the busy page",
        extra={"count": count, "reason": decision.reason, **gate().state()},
    )


def _resendable(request: HttpRequest) -> list[tuple[str, str]] | None:
    """The posted fields to send again from the busy page, or None when the form cannot be
    offered again (not a plain form, a password in it, a file)."""
    if request.method != "POST":
        return None
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return None
    try:
        items = list(request.POST.lists())
        files = bool(request.FILES)
    except Exception:  # a body over the limits: the reload still sends it
        return None
    if files or any(_secret(name) for name, _values in items):
        return None
    return [(name, value) for name, values in items for value in values]


def queued_before(request: HttpRequest) -> float:
    """Seconds the request waited before this process saw it (the accept queue, the proxy), from
    the proxy's ``X-Request-Start: t=<epoch seconds, ms or µs>``; 0 without a trusted proxy or
    with an implausible value (clocks out of step)."""
    raw = request.headers.get("X-Request-Start", "")
    if not raw or not settings.ALLAUTH_TRUSTED_PROXY_COUNT:
        return 0.0
    try:
        stamp = float(raw.removeprefix("t="))
    except ValueError:
        return 0.0
    if stamp > 1e14:
        stamp /= 1e6
    elif stamp > 1e11:
        stamp /= 1e3
    waited = time.time() - stamp
    return waited if 0 <= waited <= 60 else 0.0


class AdmissionMiddleware:
    """Place after the security headers and CSP, before the session: the busy page gets every
    header, and a refused request costs no database work."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.exempt = frozenset(settings.ADMISSION_EXEMPT_PATHS)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path in self.exempt:
            return self.get_response(request)
        the_gate = gate()
        decision = the_gate.enter(queued_before(request))
        if not decision.admitted:
            return shed(request, decision)
        started = time.monotonic()
        try:
            return self.get_response(request)
        finally:
            the_gate.leave(time.monotonic() - started)
