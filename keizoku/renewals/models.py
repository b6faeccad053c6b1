"""Renewal applications (Clickar): one per policy and renewed period, saved at every step."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Application(models.Model):
    """The customer's renewal of one expiring contract, from the first step to the agency's decision.

    ``answers`` holds what each wizard step saved; ``quote`` the engine's last result (with the
    table versions it used) and ``quoted_contract_version`` the contract version it was priced
    on: a staff change of the contract in the middle invalidates it.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("手続き中")
        SUBMITTED = "submitted", _("申込済み")
        ACCEPTED = "accepted", _("受付完了")
        REFERRED = "referred", _("代理店確認中")
        WITHDRAWN = "withdrawn", _("取下げ")

    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.PROTECT, related_name="applications"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="applications"
    )
    period_start = models.DateField(_("更改後の始期"))  # the expiring contract's period_end
    status = models.CharField(_("状態"), max_length=10, choices=Status, default=Status.DRAFT)
    answers = models.JSONField(default=dict, blank=True)
    completed_steps = models.JSONField(default=list, blank=True)
    quote = models.JSONField(null=True, blank=True)
    quoted_contract_version = models.PositiveIntegerField(null=True, blank=True)
    referral_reasons = models.JSONField(default=list, blank=True)
    agency_message = models.TextField(_("代理店からのメッセージ"), blank=True)
    acceptance_number = models.CharField(
        _("受付番号"), max_length=20, unique=True, null=True, blank=True
    )
    # The key of the submit that wrote the 受付番号: a repeat of it on this application returns
    # the first result. Scoped to the row, so not unique across applications.
    idempotency_key = models.CharField(max_length=64, blank=True, default="")
    annual_premium = models.PositiveIntegerField(_("年間保険料"), null=True, blank=True)
    accepted_premium = models.PositiveIntegerField(_("確定保険料"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)  # optimistic lock for staff vs customer
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("更改申込")
        verbose_name_plural = _("更改申込")
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "period_start"],
                condition=~Q(status="withdrawn"),
                name="one_live_application_per_policy_and_period",
            ),
        ]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return self.acceptance_number or f"draft {self.pk}"
