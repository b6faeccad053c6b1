"""gunicorn's settings for every web host: ``gunicorn config.wsgi -c config/gunicorn.py``
(Procfile, README, docs/operations.md; the benchmarks load it too).

The environment sets what differs between hosts (HOST, PORT, WEB_CONCURRENCY, WEB_THREADS,
FORWARDED_ALLOW_IPS).

gthread workers with many threads: every request a process accepts reaches Django at once, where
the admission gate (``keizoku.core.admission``) lets ``ADMISSION_SLOTS`` of them work and makes
the others wait a bounded time or answers them 「ただいま混雑しています」 at once. With sync
workers (or as few threads as slots) the waiting would happen in the kernel's accept queue,
unseen and unbounded; docs/performance.md explains the numbers.

Logs are JSON lines on stderr like the application's: gunicorn's own messages and one access
line per request with its X-Request-ID and route (never the raw path, which can hold one-time
keys). Metrics: each worker writes its counters to a scratch directory of this instance, wiped
at start and read whole by /metrics (docs/operations.md).
"""

import os
import shutil
import tempfile
from pathlib import Path

from gunicorn import glogging

bind = [f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"]
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
# Requests a process holds at once: the working ones plus those queued at the gate (its budget ×
# the process's throughput). Blocked threads cost no CPU; the database pool stays small.
threads = int(os.environ.get("WEB_THREADS", "100"))
keepalive = 5  # seconds a browser's idle connection is kept for its next page
# gunicorn ≥ 25 opens a control socket at a fixed path ($HOME/.gunicorn/gunicorn.ctl): two
# instances on one host would overwrite each other's. We do not use gunicornc: off (W14).
control_socket_disable = True
# Only the load balancer's (or a local proxy's) X-Forwarded-Proto is believed.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Longer than the load balancer's idle timeout would cut requests; shorter than a stuck worker.
timeout = 30
graceful_timeout = 20
accesslog = "-"
errorlog = "-"

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "keizoku.core.logging.JsonFormatter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"handlers": ["stderr"], "level": "INFO"},
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


class JsonAccessLogger(glogging.Logger):
    """One JSON object per request, with the fields the application put in the WSGI environ
    (keizoku.core.observability): its request id and route."""

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        self.access_log.info(
            "request",
            extra={
                "request_id": environ.get("keizoku.request_id", "-"),
                "method": environ.get("REQUEST_METHOD"),
                "route": environ.get("keizoku.route", "-"),
                "status": int(status),
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "bytes": getattr(resp, "sent", None),
                "remote_addr": environ.get("REMOTE_ADDR"),
                "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR"),
                "pid": os.getpid(),
            },
        )


logger_class = JsonAccessLogger


def on_starting(server):
    """A scratch directory for this instance's metrics, empty at start: counters of a previous
    run must not be added to this one's. Set before any worker imports prometheus-client."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True)
    else:
        directory = tempfile.mkdtemp(prefix="keizoku-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        server.keizoku_metrics_created = directory
    server.log.info("metrics scratch directory", extra={"directory": directory})


def child_exit(server, worker):
    """A worker ended (or was killed): its live gauges go; its counters stay in the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    created = getattr(server, "keizoku_metrics_created", None)
    if created:
        shutil.rmtree(created, ignore_errors=True)
