"""The Django admin as the insurer's read-only window on the data, and the audit trail in it.

Insurer admins (``insurer_admin``, behind the staff login with its second factor:
``keizoku.backoffice.auth.guard_admin_site``) look here; nobody changes anything here. Every
change goes through the services, which write the audit row, the version and the mails — an
admin form would bypass all three (docs/decisions.md, issue 13).
"""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import AuditEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists, search, filters and a detail page; no add, change or delete, no bulk action.
    Only who may enter the admin site (insurer admins) may look."""

    actions = None
    list_per_page = 50
    show_full_result_count = False  # no COUNT(*) of the whole table beside the filtered one

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.admin_site.has_permission(request)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.admin_site.has_permission(request)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor_label", "action", "object_type", "object_id", "ip")
    list_filter = ("action", "object_type")
    search_fields = ("action", "actor_label", "object_id", "ip")
    date_hierarchy = "at"
    fields = ("at", "actor_label", "action", "object_type", "object_id", "ip", "details_text")
    readonly_fields = fields

    @admin.display(description=_("詳細"))
    def details_text(self, event: AuditEvent) -> str:
        return ", ".join(f"{key}={value}" for key, value in event.details.items())
