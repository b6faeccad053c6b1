"""The one mail path: queue in the caller's transaction, deliver from the worker, sweep leftovers."""

import logging
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.db import transaction
from django.db.models import Count, F, Min, Q
from django.tasks import TaskResultStatus, default_task_backend
from django.tasks.exceptions import TaskResultDoesNotExist
from django.template import Context, Engine
from django.utils import timezone, translation

from .models import OutboundMail

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)  # a worker that has not finished sending one mail by then is dead
MAX_ATTEMPTS = 20  # about 15 hours of retries with the back-off below
SWEEP_GRACE = timedelta(minutes=2)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … capped at 1 hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


class Recipient(Protocol):
    """Whom a personal mail goes to: a member or a staff user (``accounts.User``)."""

    email: str
    language: str
    name: str


def mail_to(recipient: Recipient, *, key: str, kind: str, context: dict[str, Any]) -> OutboundMail:
    """Queue a personal mail: to the recipient's address, in their language, addressed by name."""
    return mail_queue(
        key=key,
        kind=kind,
        to=recipient.email,
        language=recipient.language,
        context={"name": recipient.name, **context},
    )


def mail_queue(
    *,
    key: str,
    kind: str,
    to: str,
    context: dict | None = None,
    subject: str = "",
    body: str = "",
    language: str | None = None,
    now: datetime | None = None,
    enqueue: bool = True,
) -> OutboundMail:
    """Queue a mail for ``to``: the template ``notifications/mail/<kind>.txt`` (first line: the
    subject) rendered with ``context`` in ``language`` (the recipient's: a member's
    ``User.language``; Japanese when None), or the ``subject`` and ``body`` given already rendered.

    Call it inside the transaction of the change that causes the mail: both commit or neither.
    Queuing an existing ``key`` again returns the first mail and sends nothing more. Bulk
    producers pass ``enqueue=False`` and then hand the new mails to ``mail_enqueue_many``.
    """
    now = now or timezone.now()
    if not body:
        # Rendered now, in the recipient's language, whoever queues it (a request in another
        # language, the worker, the reminders): the outbox keeps the text that is sent.
        with translation.override(language or settings.LANGUAGE_CODE):
            rendered = mail_render(f"notifications/mail/{kind}.txt", context or {})
        subject, _, body = rendered.lstrip().partition("\n")
    with transaction.atomic():
        mail, created = OutboundMail.objects.get_or_create(
            key=key,
            defaults={
                "kind": kind,
                "to": to,
                "subject": " ".join(subject.split()),
                "body": body.strip() + "\n",
                "next_attempt_at": now,
            },
        )
        if created and enqueue:
            _enqueue(mail)
    return mail


def mail_render(template_name: str, context: dict) -> str:
    """A plain-text mail template rendered with autoescape off: a mail is not HTML, so
    ``O'Brien & "quote"`` must arrive as typed, not as ``O&#x27;Brien &amp; …`` (docs/security.md,
    W10). Every ``.txt`` mail of ours goes through here; the HTML pages keep autoescape on."""
    template = Engine.get_default().get_template(template_name)
    return template.render(Context(context, autoescape=False))


def _enqueue(mail: OutboundMail, run_after: datetime | None = None) -> None:
    from .tasks import deliver_mail

    task = deliver_mail.using(run_after=run_after) if run_after else deliver_mail
    result = task.enqueue(mail.pk)
    OutboundMail.objects.filter(pk=mail.pk).update(task_id=str(result.id))


def mail_enqueue_many(mail_ids: list[int], *, size: int = 100) -> None:
    """For bulk producers (the reminders): one delivery task per ``size`` mails queued with
    ``mail_queue(..., enqueue=False)``. Call it in the same transaction as the queuing."""
    from .tasks import deliver_mails

    for start in range(0, len(mail_ids), size):
        chunk = mail_ids[start : start + size]
        result = deliver_mails.enqueue(chunk)
        OutboundMail.objects.filter(pk__in=chunk).update(task_id=str(result.id))


def mail_deliver(*, mail_id: int, now: datetime | None = None) -> bool:
    """Send one queued mail if it is due and nobody else holds it; True when it went out."""
    return mail_deliver_many(mail_ids=[mail_id], now=now) == 1


def _claim(mail_id: int, now: datetime) -> bool:
    """Take the mail for this worker: one conditional UPDATE, so two workers never both get it."""
    return bool(
        OutboundMail.objects.filter(pk=mail_id)
        .filter(
            Q(status=OutboundMail.Status.QUEUED, next_attempt_at__lte=now)
            | Q(status=OutboundMail.Status.SENDING, lease_until__lt=now)
        )
        .update(status=OutboundMail.Status.SENDING, lease_until=now + LEASE)
    )


def _message(mail: OutboundMail) -> EmailMessage:
    return EmailMessage(
        subject=mail.subject,
        body=mail.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[mail.to],
        headers={"Message-ID": mail.message_id},
    )


def mail_deliver_many(*, mail_ids: list[int], now: datetime | None = None) -> int:
    """Send the due mails among ``mail_ids`` over one SMTP connection; returns how many went.

    Each mail is claimed just before it is sent and marked sent just after, so a worker killed
    in the middle of a batch leaves at most the one mail it was sending (re-queued after its
    lease, with the same Message-ID); the rest stay queued for the sweep. A mail that fails (or
    every mail not tried yet when the connection itself fails) goes back to the queue with the
    back-off, or to ``failed`` after MAX_ATTEMPTS; the others are not held up.
    """
    clock = (lambda: now) if now is not None else timezone.now
    mails = list(OutboundMail.objects.filter(pk__in=mail_ids).order_by("pk"))
    tried: set[int] = set()
    sent = 0
    try:
        with mailers["default"] as connection:
            for mail in mails:
                tried.add(mail.pk)
                moment = clock()
                if not _claim(mail.pk, moment):
                    continue  # not due, already sent, or another worker has it
                try:
                    connection.send_messages([_message(mail)])
                except Exception as error:
                    _retry_later(mail, error, moment)
                else:
                    _mark_sent(mail, moment)
                    sent += 1
    except Exception as error:  # opening or closing the connection: the rest waits for a retry
        for mail in mails:
            if mail.pk not in tried and _claim(mail.pk, clock()):
                _retry_later(mail, error, clock())
    return sent


def _mark_sent(mail: OutboundMail, now: datetime) -> None:
    OutboundMail.objects.filter(pk=mail.pk).update(
        status=OutboundMail.Status.SENT,
        sent_at=now,
        lease_until=None,
        attempts=F("attempts") + 1,
        last_error="",
    )
    logger.info("mail sent", extra={"mail_id": mail.pk, "kind": mail.kind})


def _retry_later(mail: OutboundMail, error: Exception, now: datetime) -> None:
    mail.refresh_from_db(fields=["attempts"])  # another worker may have tried it since we read it
    attempts = mail.attempts + 1
    gave_up = attempts >= MAX_ATTEMPTS
    next_at = now + backoff(attempts)
    OutboundMail.objects.filter(pk=mail.pk).update(
        status=OutboundMail.Status.FAILED if gave_up else OutboundMail.Status.QUEUED,
        attempts=attempts,
        next_attempt_at=next_at,
        lease_until=None,
        last_error=f"{type(error).__name__}: {error}"[:1000],
    )
    logger.warning(
        "mail not sent",
        extra={
            "mail_id": mail.pk,
            "kind": mail.kind,
            "attempts": attempts,
            "error": type(error).__name__,
        },
    )
    if not gave_up:
        _enqueue(mail, run_after=next_at)


def mail_sweep(*, now: datetime | None = None) -> int:
    """Re-queue mails whose task was lost: a killed worker, or a crash between commit and queue.

    A mail is due again when its lease expired while sending, or when it has been due for a
    while and its task is not waiting to run. Returns how many were re-queued.
    """
    now = now or timezone.now()
    due = OutboundMail.objects.filter(
        Q(status=OutboundMail.Status.SENDING, lease_until__lt=now)
        | Q(status=OutboundMail.Status.QUEUED, next_attempt_at__lt=now - SWEEP_GRACE)
    )
    requeued = 0
    for mail in due.iterator():
        if mail.status == OutboundMail.Status.QUEUED and mail.task_id:
            try:
                # deliver_mail or deliver_mails: whichever task holds it
                status = default_task_backend.get_result(mail.task_id).status
            except TaskResultDoesNotExist:
                status = None
            if status == TaskResultStatus.READY:
                continue  # waiting for a worker: nothing is lost
        _enqueue(mail)
        requeued += 1
    if requeued:
        logger.warning("mails re-queued by the sweep", extra={"count": requeued})
    return requeued


def outbox_backlog(*, now: datetime | None = None) -> dict[str, int]:
    """The mails not sent yet, for /healthz and /metrics: ``pending`` (first try), ``retrying``
    (tried before), ``failed`` (gave up), and the age of the oldest not sent nor given up."""
    now = now or timezone.now()
    unsent = OutboundMail.objects.filter(
        status__in=[OutboundMail.Status.QUEUED, OutboundMail.Status.SENDING]
    ).aggregate(
        pending=Count("pk", filter=Q(attempts=0)),
        retrying=Count("pk", filter=Q(attempts__gt=0)),
        oldest=Min("created_at"),
    )
    oldest = unsent["oldest"]
    return {
        "pending": unsent["pending"],
        "retrying": unsent["retrying"],
        "failed": OutboundMail.objects.filter(status=OutboundMail.Status.FAILED).count(),
        "oldest_pending_age_seconds": max(0, int((now - oldest).total_seconds())) if oldest else 0,
    }


def mail_requeue_failed(*, now: datetime | None = None) -> int:
    """Give the mails that gave up (``failed`` after MAX_ATTEMPTS) a new round of tries, once the
    cause is fixed (docs/operations.md, "The SMTP relay is down"). Returns how many."""
    now = now or timezone.now()
    count = 0
    with transaction.atomic():
        for mail in OutboundMail.objects.select_for_update().filter(
            status=OutboundMail.Status.FAILED
        ):
            OutboundMail.objects.filter(pk=mail.pk).update(
                status=OutboundMail.Status.QUEUED, attempts=0, next_attempt_at=now
            )
            _enqueue(mail)
            count += 1
    if count:
        logger.warning("failed mails re-queued", extra={"count": count})
    return count
