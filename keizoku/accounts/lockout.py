"""Per-account login throttling: growing delays after 5 failures, a lock after 10 (SECURITY.md).

The counter is kept in the shared cache (database cache, or Redis when REDIS_URL is set) under
a hash of the normalised login, whether or not an account has that address: an unknown address
is throttled and locked exactly like a known one, so the lock reveals nothing. A password reset
(or the lock's timeout) clears it; a successful login clears the delays.
"""

import hashlib
import math
import time
from dataclasses import dataclass

from django.core.cache import cache

FREE_FAILURES = 5  # failures before the first delay
BASE_DELAY = 30  # seconds after the 5th failure, doubling per further failure
LOCK_FAILURES = 10  # failures that lock the login until a password reset
LOCK_TIMEOUT = 24 * 60 * 60  # the lock (and the counter) also ends after a day without failures

_PREFIX = "kz:login-throttle:"


@dataclass(frozen=True)
class Throttle:
    """Where a login stands: ``locked``, or ``wait`` seconds before the next try is checked."""

    failures: int
    locked: bool
    wait: int


def normalize_login(login: str) -> str:
    return (login or "").strip().lower()


def _key(login: str) -> str:
    digest = hashlib.sha256(normalize_login(login).encode()).hexdigest()
    return f"{_PREFIX}{digest}"


def delay_after(failures: int) -> int:
    """Seconds to wait after ``failures`` consecutive failures: 0, …, 30, 60, 120, 240, 480."""
    if failures < FREE_FAILURES:
        return 0
    return BASE_DELAY * 2 ** (failures - FREE_FAILURES)


def throttle_state(login: str, *, now: float | None = None) -> Throttle:
    """Whether the password of ``login`` may be checked now (never touches the user table)."""
    now = time.time() if now is None else now
    key = _key(login)
    entry = cache.get_many([f"{key}:n", f"{key}:t"])
    failures = int(entry.get(f"{key}:n", 0))
    if failures >= LOCK_FAILURES:
        return Throttle(failures=failures, locked=True, wait=0)
    wait = delay_after(failures) - (now - float(entry.get(f"{key}:t", 0)))
    return Throttle(failures=failures, locked=False, wait=max(0, math.ceil(wait)))


def throttle_failure(login: str, *, now: float | None = None) -> Throttle:
    """Count one more failed password for ``login``; returns the new state.

    The count is an increment in the cache, atomic with Redis, so guesses sent in parallel are
    each counted; the time of the last failure is kept beside it.
    """
    now = time.time() if now is None else now
    key = _key(login)
    cache.add(f"{key}:n", 0, LOCK_TIMEOUT)
    try:
        failures = cache.incr(f"{key}:n")
    except ValueError:  # expired between add and incr
        cache.set(f"{key}:n", 1, LOCK_TIMEOUT)
        failures = 1
    cache.touch(f"{key}:n", LOCK_TIMEOUT)  # a day without failures, counted from the last one
    cache.set(f"{key}:t", now, LOCK_TIMEOUT)
    locked = failures >= LOCK_FAILURES
    return Throttle(failures=failures, locked=locked, wait=0 if locked else delay_after(failures))


def throttle_clear(login: str) -> None:
    """A successful login or a password reset: the login starts afresh."""
    key = _key(login)
    cache.delete_many([f"{key}:n", f"{key}:t"])
