"""Writing to the audit trail: one function, called inside the transaction of the change."""

from typing import Any

from django.db import models, transaction
from django.http import HttpRequest

from . import metrics
from .http import client_ip
from .models import AuditEvent


def audit_record(
    *,
    action: str,
    actor=None,
    obj: models.Model | None = None,
    details: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    transaction.on_commit(lambda: metrics.audit_observe(action))
    return AuditEvent.objects.create(
        action=action,
        actor=actor if actor is not None and actor.pk else None,
        actor_label=str(actor) if actor is not None else "",
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        details=details or {},
        ip=client_ip(request) if request is not None else None,
    )
