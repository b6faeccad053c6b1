"""Questions the chat could not answer with confidence, kept for the staff who write the FAQ.

Only the question's text is kept, with personal data masked (``privacy.mask``), counted per
distinct masked text; never who asked (no member, no session, no address), so the log holds
nothing that points to a person.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class UnansweredQuestion(models.Model):
    text = models.CharField(_("質問（個人情報を伏せたもの）"), max_length=200)
    key = models.CharField(max_length=64, unique=True)  # sha256 of the masked, normalised text
    language = models.CharField(_("言語"), max_length=2, default="ja")
    count = models.PositiveIntegerField(_("回数"), default=1)
    first_asked_at = models.DateTimeField(_("最初の質問"))
    last_asked_at = models.DateTimeField(_("最後の質問"), db_index=True)
    suggestions = models.JSONField(_("案内したFAQ"), default=list)  # entry ids, best first
    confidence = models.FloatField(_("確信度"), default=0.0)
    # Set by staff once handled (an FAQ entry written or the question judged out of scope);
    # cleared when the question is asked again.
    resolved_at = models.DateTimeField(_("対応済み"), null=True, blank=True)

    class Meta:
        verbose_name = _("回答できなかった質問")
        verbose_name_plural = _("回答できなかった質問")
        indexes = [models.Index(fields=["resolved_at", "-count"], name="chat_unanswered_open")]

    def __str__(self) -> str:
        return self.text
