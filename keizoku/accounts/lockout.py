"""Login throttling per (login, source), a step-up for a login guessed from many sources (W11).

A *login* is what was typed as the ID, normalised; a *source* is the client's address as the
rate limits see it (``keizoku.core.http.client_ip``). Failed passwords are counted per pair, so
each source gets the rule of SECURITY.md — 5 failures free, then a wait of 30 s doubling with
each further failure, and at 10 a lock — while an attacker at one address locks only that
address: the owner at theirs still logs in (no denial of service for the price of ten guesses).
The lock expires, 15 minutes after the 10th failure and twice as long after each further one
(at most a day); a password reset lifts it for every source at once.

Failures from all sources together are counted too, with the number of sources they came from.
When at least 10 came from at least 3 sources (guessing spread over addresses, each below its
lock) the account is not locked — that would hand the lock to anyone again — but the password
alone no longer logs in:
allauth's login-code stage mails a one-time code to the account's address
(``AccountAdapter.is_login_by_code_required``), until a day passes without a failure or the
password is reset. The owner is mailed once per episode (``AccountAdapter``).

The counters live in the shared cache (the database cache on a laptop, Redis in production,
shared by every host) under hashes of the login and of the source, whether or not an account
has that login: an unknown address is throttled exactly like a known one, so nothing here
reveals an account. Counts are ``cache.incr`` (atomic with Redis). A reset moves the login to a
new *generation* of keys, which forgets every source at once without listing them.
"""

import hashlib
import math
import time
from dataclasses import dataclass, replace

from django.core.cache import cache
from django.http import HttpRequest

from keizoku.core.http import client_ip

FREE_FAILURES = 5  # failures from one source before the first wait
BASE_DELAY = 30  # seconds after the 5th failure, doubling per further failure
LOCK_FAILURES = 10  # failures from one source that lock the login there (SECURITY.md)
LOCK_BASE = 15 * 60  # the first lock; each further failure doubles it
LOCK_CAP = 24 * 60 * 60  # the longest lock
STEP_UP_FAILURES = 10  # failures from all sources together that make a code by mail necessary
STEP_UP_SOURCES = 3  # … when they came from this many sources (one source has its own lock)
MEMORY = 24 * 60 * 60  # counters are forgotten a day after their last failure

_PREFIX = "kz:login-throttle:"


@dataclass(frozen=True)
class Throttle:
    """Where a login stands from one source.

    ``locked`` or ``wait`` seconds before its password is checked again from there; ``step_up``
    when every source needs a code by mail; ``notice`` when this failure began an episode the
    owner must be told about (the first lock or the first step-up since the counts were clear).
    """

    failures: int  # from this source
    account_failures: int  # from all sources
    account_sources: int  # how many sources failed
    locked: bool
    wait: int
    step_up: bool
    step_up_began: bool = False  # with this failure
    notice: bool = False


def normalize_login(login: str) -> str:
    return (login or "").strip().lower()


def source_of(request: HttpRequest | None) -> str:
    """The source of a login attempt: its client address ("" when it cannot be told)."""
    return (client_ip(request) if request is not None else None) or ""


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _base(login: str) -> str:
    return f"{_PREFIX}{_digest(normalize_login(login))}"


@dataclass(frozen=True)
class _Keys:
    failures: str  # this source's count
    last: str  # this source's last failure (epoch seconds)
    account: str  # every source's count
    sources: str  # how many sources failed
    noticed: str  # the owner was told in this episode

    @classmethod
    def of(cls, login: str, source: str) -> "_Keys":
        base = _base(login)
        generation = cache.get(f"{base}:gen", 0)
        account = f"{base}:{generation}"
        pair = f"{account}:{_digest(source)[:32]}"
        return cls(
            f"{pair}:n", f"{pair}:t", f"{account}:all", f"{account}:sources", f"{account}:noticed"
        )


def hold_after(failures: int) -> int:
    """Seconds a source waits after ``failures`` consecutive failures: nothing for the first 4,
    then 30, 60, 120, 240, 480 s; from the 10th a lock of 15 min, 30 min, 1 h, … up to a day."""
    if failures < FREE_FAILURES:
        return 0
    if failures < LOCK_FAILURES:
        return BASE_DELAY * 2 ** (failures - FREE_FAILURES)
    return min(LOCK_BASE * 2 ** min(failures - LOCK_FAILURES, 16), LOCK_CAP)


def _step_up(account_failures: int, account_sources: int) -> bool:
    return account_failures >= STEP_UP_FAILURES and account_sources >= STEP_UP_SOURCES


def _state(failures: int, last: float, account: tuple[int, int], now: float) -> Throttle:
    wait = max(0, math.ceil(hold_after(failures) - (now - last)))
    return Throttle(
        failures=failures,
        account_failures=account[0],
        account_sources=account[1],
        locked=failures >= LOCK_FAILURES and wait > 0,
        wait=wait,
        step_up=_step_up(*account),
    )


def throttle_state(login: str, source: str, *, now: float | None = None) -> Throttle:
    """Whether the password of ``login`` may be checked now for ``source`` (no user lookup)."""
    now = time.time() if now is None else now
    keys = _Keys.of(login, source)
    entry = cache.get_many([keys.failures, keys.last, keys.account, keys.sources])
    return _state(
        int(entry.get(keys.failures, 0)),
        float(entry.get(keys.last, 0)),
        (int(entry.get(keys.account, 0)), int(entry.get(keys.sources, 0))),
        now,
    )


def _incr(key: str) -> int:
    cache.add(key, 0, MEMORY)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, MEMORY)
        count = 1
    cache.touch(key, MEMORY)  # forgotten a day after the last failure
    return count


def throttle_failure(login: str, source: str, *, now: float | None = None) -> Throttle:
    """Count one more failure of ``login`` from ``source``; returns the new state.

    Both counts are increments in the cache, atomic with Redis, so guesses sent in parallel are
    each counted; the time of the source's last failure is kept beside its count.
    """
    now = time.time() if now is None else now
    keys = _Keys.of(login, source)
    failures = _incr(keys.failures)
    cache.set(keys.last, now, MEMORY)
    account_failures = _incr(keys.account)
    if failures == 1:  # this source's first failure (exactly one request sees 1 with Redis)
        account_sources = _incr(keys.sources)
    else:
        account_sources = int(cache.get(keys.sources, 1))
    state = _state(failures, now, (account_failures, account_sources), now)
    began = state.step_up and not _step_up(account_failures - 1, account_sources - (failures == 1))
    # One notice per episode: the flag lives as long as the counts would without failures.
    notice = (state.locked or state.step_up) and cache.add(keys.noticed, 1, MEMORY)
    return replace(state, step_up_began=began, notice=bool(notice))


def throttle_clear_source(login: str, source: str) -> None:
    """A right password from ``source``: its waits start afresh (other sources keep theirs)."""
    keys = _Keys.of(login, source)
    cache.delete_many([keys.failures, keys.last])


def step_up_required(login: str) -> bool:
    """Whether a right password for ``login`` must be followed by a code sent by mail."""
    keys = _Keys.of(login, "")
    entry = cache.get_many([keys.account, keys.sources])
    return _step_up(int(entry.get(keys.account, 0)), int(entry.get(keys.sources, 0)))


def throttle_clear(login: str) -> None:
    """A password reset: every source of ``login`` starts afresh, and the step-up ends.

    The login moves to a new generation of keys; the old ones expire on their own.
    """
    key = f"{_base(login)}:gen"
    cache.add(key, 0, None)
    try:
        cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, None)
