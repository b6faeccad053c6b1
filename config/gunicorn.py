"""gunicorn's production settings: ``gunicorn config.wsgi -c config/gunicorn.py`` (Procfile, README).

gthread workers with many threads: every request a process accepts reaches Django at once, where
the admission gate (``keizoku.core.admission``) lets ``ADMISSION_SLOTS`` of them work and makes
the others wait a bounded time or answers them 「ただいま混雑しています」 at once. With sync
workers (or as few threads as slots) the waiting would happen in the kernel's accept queue,
unseen and unbounded. Bind address and the number of processes come from the command line
(``--bind``, ``--workers``); docs/performance.md explains the numbers.
"""

import os

worker_class = "gthread"
# Requests a process holds at once: the working ones plus those queued at the gate (its budget ×
# the process's throughput). Blocked threads cost no CPU; the database pool stays small.
threads = int(os.environ.get("WEB_THREADS", "100"))
keepalive = 5  # seconds a browser's idle connection is kept for its next page
