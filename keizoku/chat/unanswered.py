"""The log of questions the chat could not answer with confidence, for the staff who write the
FAQ: recorded masked and counted (``record``), listed and marked handled in the back office,
and purged a year after they were last asked."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from . import privacy, text
from .models import UnansweredQuestion

KEEP_FOR = timedelta(days=365)


def _key(masked: str) -> str:
    return hashlib.sha256(text.normalize(masked).encode()).hexdigest()


def record(
    question: str,
    *,
    language: str,
    suggestions: Sequence[str],
    confidence: float,
    now: datetime,
) -> UnansweredQuestion:
    """Count one more asking of ``question`` (masked first; the same masked text is one row).
    Asked again after staff marked it handled, it is open again."""
    masked = privacy.mask(question)[: UnansweredQuestion._meta.get_field("text").max_length]
    key = _key(masked)
    changes = {
        "count": F("count") + 1,
        "last_asked_at": now,
        "suggestions": list(suggestions),
        "confidence": confidence,
        "resolved_at": None,
    }
    if not UnansweredQuestion.objects.filter(key=key).update(**changes):
        try:
            with transaction.atomic():
                return UnansweredQuestion.objects.create(
                    key=key,
                    text=masked,
                    language=language,
                    first_asked_at=now,
                    last_asked_at=now,
                    suggestions=list(suggestions),
                    confidence=confidence,
                )
        except IntegrityError:  # the same question, recorded meanwhile by another request
            UnansweredQuestion.objects.filter(key=key).update(**changes)
    return UnansweredQuestion.objects.get(key=key)


def unanswered_questions(*, include_resolved: bool = False) -> QuerySet[UnansweredQuestion]:
    """Most asked first, then most recent."""
    questions = UnansweredQuestion.objects.all()
    if not include_resolved:
        questions = questions.filter(resolved_at__isnull=True)
    return questions.order_by("-count", "-last_asked_at", "pk")


def resolve(question: UnansweredQuestion, *, now: datetime | None = None) -> None:
    question.resolved_at = now or timezone.now()
    question.save(update_fields=["resolved_at"])


def purge(*, now: datetime | None = None) -> int:
    """Delete the questions nobody asked for ``KEEP_FOR``."""
    cutoff = (now or timezone.now()) - KEEP_FOR
    deleted, _ = UnansweredQuestion.objects.filter(last_asked_at__lt=cutoff).delete()
    return deleted
