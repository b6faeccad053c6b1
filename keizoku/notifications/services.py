"""The one mail path: queue in the caller's transaction, deliver from the worker, sweep leftovers."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.tasks import TaskResultStatus
from django.tasks.exceptions import TaskResultDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone

from .models import OutboundMail

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # a worker that has not finished a send by then is presumed dead
MAX_ATTEMPTS = 20  # about 15 hours of retries with the back-off below
SWEEP_GRACE = timedelta(minutes=2)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … capped at 1 hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def mail_queue(
    *,
    key: str,
    kind: str,
    to: str,
    context: dict | None = None,
    subject: str = "",
    body: str = "",
    now: datetime | None = None,
) -> OutboundMail:
    """Queue a mail for ``to``: the template ``notifications/mail/<kind>.txt`` (first line: the
    subject) rendered with ``context``, or the ``subject`` and ``body`` given already rendered.

    Call it inside the transaction of the change that causes the mail: both commit or neither.
    Queuing an existing ``key`` again returns the first mail and sends nothing more.
    """
    now = now or timezone.now()
    if not body:
        rendered = render_to_string(
            f"notifications/mail/{kind}.txt", {**(context or {}), "BASE_URL": settings.BASE_URL}
        )
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
        if created:
            _enqueue(mail)
    return mail


def _enqueue(mail: OutboundMail, run_after: datetime | None = None) -> None:
    from .tasks import deliver_mail

    task = deliver_mail.using(run_after=run_after) if run_after else deliver_mail
    result = task.enqueue(mail.pk)
    OutboundMail.objects.filter(pk=mail.pk).update(task_id=str(result.id))


def mail_deliver(*, mail_id: int, now: datetime | None = None) -> bool:
    """Send one queued mail if it is due and nobody else holds it; True when it went out."""
    now = now or timezone.now()
    claimed = (
        OutboundMail.objects.filter(pk=mail_id)
        .filter(
            Q(status=OutboundMail.Status.QUEUED, next_attempt_at__lte=now)
            | Q(status=OutboundMail.Status.SENDING, lease_until__lt=now)
        )
        .update(status=OutboundMail.Status.SENDING, lease_until=now + LEASE)
    )
    if not claimed:
        return False
    mail = OutboundMail.objects.get(pk=mail_id)
    message = EmailMessage(
        subject=mail.subject,
        body=mail.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[mail.to],
        headers={"Message-ID": mail.message_id},
    )
    try:
        message.send(using="default")
    except Exception as error:
        attempts = mail.attempts + 1
        failed = attempts >= MAX_ATTEMPTS
        next_at = now + backoff(attempts)
        OutboundMail.objects.filter(pk=mail_id).update(
            status=OutboundMail.Status.FAILED if failed else OutboundMail.Status.QUEUED,
            attempts=attempts,
            next_attempt_at=next_at,
            lease_until=None,
            last_error=f"{type(error).__name__}: {error}"[:1000],
        )
        logger.warning(
            "mail not sent",
            extra={
                "mail_id": mail_id,
                "kind": mail.kind,
                "attempts": attempts,
                "error": type(error).__name__,
            },
        )
        if not failed:
            _enqueue(mail, run_after=next_at)
        return False
    OutboundMail.objects.filter(pk=mail_id).update(
        status=OutboundMail.Status.SENT,
        sent_at=now,
        lease_until=None,
        attempts=mail.attempts + 1,
        last_error="",
    )
    logger.info("mail sent", extra={"mail_id": mail_id, "kind": mail.kind})
    return True


def mail_sweep(*, now: datetime | None = None) -> int:
    """Re-queue mails whose task was lost: a killed worker, or a crash between commit and queue.

    A mail is due again when its lease expired while sending, or when it has been due for a
    while and its task is not waiting to run. Returns how many were re-queued.
    """
    from .tasks import deliver_mail

    now = now or timezone.now()
    due = OutboundMail.objects.filter(
        Q(status=OutboundMail.Status.SENDING, lease_until__lt=now)
        | Q(status=OutboundMail.Status.QUEUED, next_attempt_at__lt=now - SWEEP_GRACE)
    )
    requeued = 0
    for mail in due.iterator():
        if mail.status == OutboundMail.Status.QUEUED and mail.task_id:
            try:
                status = deliver_mail.get_result(mail.task_id).status
            except TaskResultDoesNotExist:
                status = None
            if status == TaskResultStatus.READY:
                continue  # waiting for a worker: nothing is lost
        _enqueue(mail)
        requeued += 1
    if requeued:
        logger.warning("mails re-queued by the sweep", extra={"count": requeued})
    return requeued
