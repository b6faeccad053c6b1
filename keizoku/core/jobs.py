"""The periodic jobs: each app registers its own in ``AppConfig.ready()``; one scheduler runs them.

The scheduler (``keizoku.notifications.periodic``, ``manage.py periodic``) reads this registry
and knows no app; an app that needs something done every few minutes registers a ``Job`` here,
so the dependency runs from the app to ``core``, never from the scheduler to the app.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class Job:
    name: str  # the key of its schedule row (PeriodicJob): unique in the project
    every: timedelta
    run: Callable[[], object]

    @property
    def lease(self) -> timedelta:
        """Without advisory locks: how long a run may hold the job before it is presumed dead."""
        return max(2 * self.every, timedelta(minutes=5))


_REGISTRY: dict[str, Job] = {}


def periodic_job_register(*, name: str, every: timedelta, run: Callable[[], object]) -> Job:
    """Register ``run`` to be run every ``every`` by the scheduler (once per period over all
    processes). Registering the same function under the same name again is harmless; another
    function under a name already taken is a configuration error."""
    job = Job(name, every, run)
    known = _REGISTRY.get(name)
    if known is not None and known != job:
        raise ImproperlyConfigured(f"periodic job {name!r} is registered twice")
    _REGISTRY[name] = job
    return job


def periodic_jobs() -> list[Job]:
    """Every registered job, in the order the apps registered them (INSTALLED_APPS)."""
    return list(_REGISTRY.values())
