"""Renewal applications in the insurer's read-only admin (decisions: the back office)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from keizoku.core.admin import ReadOnlyAdmin

from .models import Application


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = (
        "acceptance_number",
        "policy_number",
        "member_email",
        "status",
        "annual_premium",
        "period_start",
        "submitted_at_display",
    )
    list_filter = ("status", "contract__group__agency")
    list_select_related = ("contract", "member")
    search_fields = ("acceptance_number", "contract__policy_number", "member__email")
    ordering = ("-updated_at", "-pk")
    readonly_fields = fields = (
        "acceptance_number",
        "policy_number",
        "member_email",
        "status",
        "period_start",
        "annual_premium",
        "accepted_premium",
        "referral_reason_list",
        "agency_message",
        "submitted_at_display",
        "decided_at_display",
        "version_number",
    )

    @admin.display(description=_("証券番号"), ordering="contract__policy_number")
    def policy_number(self, application: Application) -> str:
        return application.contract.policy_number

    @admin.display(description=_("会員のメールアドレス"), ordering="member__email")
    def member_email(self, application: Application) -> str:
        return application.member.email

    @admin.display(description=_("代理店確認の理由"))
    def referral_reason_list(self, application: Application) -> str:
        reasons = application.referral_reasons or []
        return "、".join(str(reason.get("label") or reason.get("code")) for reason in reasons)

    @admin.display(description=_("申込日時"), ordering="submitted_at")
    def submitted_at_display(self, application: Application):
        return application.submitted_at

    @admin.display(description=_("判断日時"), ordering="decided_at")
    def decided_at_display(self, application: Application):
        return application.decided_at

    @admin.display(description=_("版"))
    def version_number(self, application: Application) -> int:
        return application.version
