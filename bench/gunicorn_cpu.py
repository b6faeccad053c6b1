"""The production gunicorn settings (config/gunicorn.py) plus hooks for the benchmarks
(``-c bench/gunicorn_cpu.py``): the CPU each request costs.

Each request's thread CPU (``time.thread_time``, so neither other threads' work nor waiting for
the GIL counts) from ``pre_request`` to ``post_request`` — the application and the response
write — is appended as ``METHOD path status cpu_ms`` to ``$KEIZOKU_BENCH_CPU_LOG.<pid>``.
Not used in production.
"""

import os
import threading
import time

from config.gunicorn import *  # noqa: F403 - the production settings, measured as they run

_local = threading.local()
_files: dict[int, object] = {}


def pre_request(worker, req):
    _local.started = time.thread_time()


def post_request(worker, req, environ, resp):
    prefix = os.environ.get("KEIZOKU_BENCH_CPU_LOG")
    started = getattr(_local, "started", None)
    if not prefix or started is None:
        return
    cpu_ms = (time.thread_time() - started) * 1000
    pid = os.getpid()
    log = _files.get(pid)
    if log is None:
        log = _files[pid] = open(f"{prefix}.{pid}", "a", buffering=1)
    status = getattr(resp, "status_code", 0) if resp is not None else 0
    method = req.method + ("(htmx)" if environ.get("HTTP_HX_REQUEST") else "")
    log.write(f"{method} {req.path} {status} {cpu_ms:.3f}\n")
