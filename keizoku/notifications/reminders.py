"""Reminder mails before a date: the thresholds, daytime sending, each reminder queued once.

Who is due a reminder is the business of the app that owns the data (the contracts' expiry:
``keizoku.backoffice.services.reminders_send``, registered as a periodic job by its app); this
module decides when a reminder may go out and queues it — one mail per ``DueReminder``, never
twice for one key, in chunks of one transaction each — and imports no other app of ours.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import batched
from typing import Any

from django.db import IntegrityError, transaction

from keizoku.core.l10n import JST

from .models import OutboundMail
from .services import mail_enqueue_many, mail_queue

logger = logging.getLogger(__name__)

# Days before expiry (PRODUCT.md: 60, 30, 14, 7 and 3).
REMINDER_THRESHOLDS: tuple[int, ...] = (60, 30, 14, 7, 3)
SENDING_HOURS = (9, 20)  # JST: reminders go out in the daytime only
REMINDER_CHUNK = 100  # reminders queued per transaction


def reminder_threshold(days_left: int) -> int | None:
    """The threshold a date is at: the smallest one not below the days left (a contract
    imported late gets the reminder it would have had last, not all the missed ones)."""
    due = [threshold for threshold in REMINDER_THRESHOLDS if threshold >= days_left]
    return min(due) if due and days_left >= 0 else None


def reminders_sending_hours(now: datetime) -> bool:
    """True in the daytime (JST), when reminders may go out: none in the middle of the night."""
    return SENDING_HOURS[0] <= now.astimezone(JST).hour < SENDING_HOURS[1]


@dataclass(frozen=True)
class DueReminder:
    """One reminder mail to queue: ``key`` makes it once-only; ``about`` is the caller's own
    object, handed back to its ``record`` function."""

    key: str
    kind: str  # the mail template: notifications/mail/<kind>.txt
    to: str
    language: str
    context: dict[str, Any] = field(hash=False)
    about: Any = None


@dataclass
class ReminderRun:
    queued: int = 0
    skipped: int = 0


def reminders_queue(
    due: Iterable[DueReminder],
    *,
    now: datetime,
    record: Callable[[DueReminder, OutboundMail], object],
    run: ReminderRun | None = None,
) -> ReminderRun:
    """Queue the mails of ``due`` (an iterable, consumed a chunk at a time).

    One transaction per chunk (one commit, not one per mail), a savepoint per reminder, in which
    ``record(reminder, mail)`` writes the caller's row that says it was sent: a reminder another
    run queued meanwhile (an ``IntegrityError`` from that row) is skipped alone, and a crash
    leaves no mail without its row nor the reverse. Each chunk's mails go out as batches over
    one SMTP connection each (``mail_enqueue_many``).
    """
    run = run if run is not None else ReminderRun()
    for chunk in batched(due, REMINDER_CHUNK, strict=False):
        queued: list[int] = []
        with transaction.atomic():
            for reminder in chunk:
                try:
                    with transaction.atomic():
                        mail = mail_queue(
                            key=reminder.key,
                            kind=reminder.kind,
                            to=reminder.to,
                            language=reminder.language,
                            now=now,
                            context=reminder.context,
                            enqueue=False,
                        )
                        record(reminder, mail)
                except IntegrityError:
                    run.skipped += 1  # another run queued it a moment ago
                    continue
                run.queued += 1
                queued.append(mail.pk)
            mail_enqueue_many(queued)
    if run.queued:
        logger.info("reminders queued", extra={"count": run.queued})
    return run
