"""Agencies, employer groups and contracts in the insurer's read-only admin (changes: CSV import)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from keizoku.core.admin import ReadOnlyAdmin

from .models import Agency, Contract, Group


@admin.register(Agency)
class AgencyAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "contact_phone", "contact_hours", "contact_email")
    search_fields = ("code", "name")
    ordering = ("code",)


@admin.register(Group)
class GroupAdmin(ReadOnlyAdmin):
    list_display = (
        "code",
        "name",
        "agency_name",
        "group_discount_percent",
        "collection_discount_percent",
        "renewal_window_days",
        "retiree_keeps_discount",
    )
    list_filter = ("agency", "retiree_keeps_discount")
    list_select_related = ("agency",)
    search_fields = ("code", "name", "agency__code", "agency__name")
    ordering = ("code",)
    readonly_fields = fields = (*list_display, "created_at", "updated_at")

    @admin.display(description=_("代理店"), ordering="agency__code")
    def agency_name(self, group: Group) -> str:
        return f"{group.agency.code} {group.agency.name}"


def _contract_fields() -> tuple[str, ...]:
    """Every stored field of a contract, the group by its name."""
    names = [field.name for field in Contract._meta.fields if field.editable]
    names = [name for name in names if name not in ("id", "created_batch", "version")]
    names[names.index("group")] = "group_name"
    return (*names, "version")


@admin.register(Contract)
class ContractAdmin(ReadOnlyAdmin):
    list_display = (
        "policy_number",
        "holder_name",
        "group_name",
        "period_end",
        "grade",
        "annual_premium",
        "open_claim",
        "midterm_change_pending",
    )
    list_filter = ("group__agency", "member_type", "open_claim", "midterm_change_pending")
    list_select_related = ("group__agency",)
    search_fields = ("policy_number", "holder_name", "holder_kana", "email", "group__code")
    date_hierarchy = "period_end"
    ordering = ("period_end", "policy_number")
    readonly_fields = fields = _contract_fields()

    @admin.display(description=_("団体"), ordering="group__code")
    def group_name(self, contract: Contract) -> str:
        group = contract.group
        return f"{group.code} {group.name}（{group.agency.name}）"
