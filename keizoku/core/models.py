"""The audit trail: every authentication event, staff action and application state change."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """Who did what to which object, when and from where (details never hold secrets)."""

    at = models.DateTimeField(_("日時"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作者"),
    )
    # kept when the user is deleted
    actor_label = models.CharField(_("操作者（記録時）"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=60, db_index=True)
    object_type = models.CharField(_("対象の種類"), max_length=60, blank=True)
    object_id = models.CharField(_("対象ID"), max_length=64, blank=True)
    details = models.JSONField(_("詳細"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IPアドレス"), null=True, blank=True)

    class Meta:
        verbose_name = _("監査ログ")
        verbose_name_plural = _("監査ログ")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}:{self.object_id}"
