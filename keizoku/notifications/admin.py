"""The mail outbox in the insurer's read-only admin: what was sent to whom, and what failed."""

from django.contrib import admin

from keizoku.core.admin import ReadOnlyAdmin

from .models import OutboundMail


@admin.register(OutboundMail)
class OutboundMailAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "to", "subject", "status", "attempts", "sent_at")
    list_filter = ("status", "kind")
    search_fields = ("to", "subject", "key")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")
    fields = (
        "created_at",
        "kind",
        "to",
        "subject",
        "body",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
        "key",
    )
    readonly_fields = fields
