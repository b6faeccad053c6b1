"""Staff roles (代理店スタッフ・保険会社管理者・監査担当), the reminder mails already sent, and the
CSV files uploaded for import."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from keizoku.contracts.models import ImportBatch


class StaffProfile(models.Model):
    """What a staff user may see and do in the back office."""

    class Role(models.TextChoices):
        AGENCY_STAFF = "agency_staff", _("代理店スタッフ")
        INSURER_ADMIN = "insurer_admin", _("保険会社管理者")
        AUDITOR = "auditor", _("監査担当（閲覧のみ）")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    role = models.CharField(_("役割"), max_length=16, choices=Role)
    agency = models.ForeignKey(
        "contracts.Agency",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("代理店"),
    )
    is_active = models.BooleanField(_("有効"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("スタッフ")
        verbose_name_plural = _("スタッフ")
        constraints = [
            # Agency staff belong to exactly one agency; the insurer's roles to none.
            models.CheckConstraint(
                condition=(Q(role="agency_staff") & Q(agency__isnull=False))
                | (~Q(role="agency_staff") & Q(agency__isnull=True)),
                name="staff_agency_matches_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} ({self.role})"

    @property
    def sees_all_agencies(self) -> bool:
        return self.role != self.Role.AGENCY_STAFF

    def own_agency_id(self) -> int:
        """The one agency an agency clerk sees (set for them: staff_agency_matches_role)."""
        if self.agency_id is None:
            raise ValueError(f"staff profile {self.pk} has no agency: it sees all agencies")
        return self.agency_id

    @property
    def read_only(self) -> bool:
        return self.role == self.Role.AUDITOR


class Reminder(models.Model):
    """A reminder mail queued for one policy, period, threshold and recipient: never twice."""

    class Recipient(models.TextChoices):
        MEMBER = "member", _("会員（未申込）")
        HOLDER = "holder", _("契約者（未登録）")

    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.CASCADE, related_name="reminders"
    )
    period_end = models.DateField()
    threshold = models.PositiveSmallIntegerField()  # days before expiry: 60, 30, 14, 7, 3
    recipient = models.CharField(max_length=8, choices=Recipient)
    to = models.EmailField()
    mail = models.ForeignKey(
        "notifications.OutboundMail", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("リマインダー")
        verbose_name_plural = _("リマインダー")
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "period_end", "threshold", "recipient"],
                name="reminder_once_per_policy_threshold",
            )
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.period_end} -{self.threshold}d {self.recipient}"


class ImportJob(models.Model):
    """A CSV file uploaded in the back office: previewed, then imported once confirmed — in the
    clerk's request when small, by the worker otherwise. The file is kept here (not on the web
    host, not in the session: the service runs on several hosts) until the import ends."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("確認待ち")
        QUEUED = "queued", _("順番待ち")
        RUNNING = "running", _("取込中")
        DONE = "done", _("完了")
        FAILED = "failed", _("失敗")

    token = models.CharField(max_length=64, unique=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=ImportBatch.Kind)
    source = models.CharField(_("ファイル名"), max_length=255)
    data = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField(default=0)  # the rows the preview found importable
    status = models.CharField(max_length=10, choices=Status, default=Status.PREVIEWED)
    phase = models.CharField(max_length=8, blank=True)  # keizoku.contracts.services.Phase
    percent = models.PositiveSmallIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)  # [[row, column, reason], …], capped
    error_count = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=300, blank=True)
    batch = models.ForeignKey(ImportBatch, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("取込ジョブ")
        verbose_name_plural = _("取込ジョブ")
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.source} ({self.status})"

    @property
    def in_progress(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
