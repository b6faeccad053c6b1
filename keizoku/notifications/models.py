"""The mail outbox (every mail Keizoku sends) and the developer's local mailbox."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


def _message_id() -> str:
    return f"<{uuid.uuid4().hex}@keizoku>"


class OutboundMail(models.Model):
    """A mail to send, written in the same transaction as the change that causes it.

    The worker claims it with a lease, sends it with a fixed Message-ID (so a resend after a
    crash is recognisable as the same message) and marks it sent; failures are retried with
    back-off. ``key`` deduplicates: queuing the same key twice sends one mail.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("送信待ち")
        SENDING = "sending", _("送信中")
        SENT = "sent", _("送信済み")
        FAILED = "failed", _("送信失敗")

    key = models.CharField(_("重複防止キー"), max_length=200, unique=True)
    kind = models.CharField(_("種類"), max_length=50)
    to = models.EmailField(_("宛先"))
    subject = models.CharField(_("件名"), max_length=255)
    body = models.TextField(_("本文"))
    message_id = models.CharField(max_length=100, default=_message_id, unique=True)
    status = models.CharField(_("状態"), max_length=8, choices=Status, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(_("送信試行回数"), default=0)
    next_attempt_at = models.DateTimeField(_("次の送信予定"))
    lease_until = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    last_error = models.TextField(_("直近のエラー"), blank=True)
    sent_at = models.DateTimeField(_("送信日時"), null=True, blank=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("送信メール")
        verbose_name_plural = _("送信メール")
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.kind} → {self.to} ({self.status})"


class MailboxMessage(models.Model):
    """A mail 'delivered' by the default EMAIL_URL (mailbox:), readable at /dev/mailbox/."""

    to = models.TextField()
    from_email = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    body = models.TextField()
    message_id = models.CharField(max_length=100, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-pk"]


class PeriodicJob(models.Model):
    """The shared schedule of one periodic job (keizoku.notifications.periodic): whichever
    ``periodic`` process claims a due period runs the job, so one per host is safe."""

    name = models.CharField(max_length=50, primary_key=True)
    next_run_at = models.DateTimeField()
    # Only without PostgreSQL's advisory locks (SQLite): the run in progress holds this lease.
    running_until = models.DateTimeField(null=True, blank=True)
    runs = models.PositiveIntegerField(default=0)
    last_runner = models.CharField(max_length=200, blank=True)  # host:pid
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name
