"""Periodic jobs: what runs every few minutes beside the worker (make run, or cron with --once)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from . import services


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[], object]


def _purge_registrations() -> int:
    from keizoku.accounts.services import registration_purge_expired

    return registration_purge_expired()


def _send_reminders() -> int:
    from keizoku.backoffice.services import reminders_send

    return reminders_send().queued


def _purge_unanswered_questions() -> int:
    from keizoku.chat.unanswered import purge

    return purge()


JOBS: list[Job] = [
    Job("mail_sweep", timedelta(minutes=1), lambda: services.mail_sweep()),
    Job("registration_purge", timedelta(minutes=10), _purge_registrations),
    Job("reminders", timedelta(minutes=15), _send_reminders),
    Job("chat_unanswered_purge", timedelta(hours=24), _purge_unanswered_questions),
]
