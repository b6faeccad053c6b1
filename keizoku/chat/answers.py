"""The chat's answer to one question: a curated FAQ entry (or the best three), plus personal facts.

Nothing is generated: the text shown is an FAQ entry written by the help site's authors, or a
sentence about the member's own policies filled from their data (``personal``). Every answer
names the help page it came from; below ``CONFIDENCE_THRESHOLD`` the chat offers the three best
entries and the agency's contact instead of guessing.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _

from keizoku.accounts.models import User
from keizoku.accounts.selectors import member_agencies
from keizoku.core import ja
from keizoku.help import content
from keizoku.help.content import FaqEntry

from . import retrieval, text
from .personal import PersonalAnswer, detect_intents, personal_answers

logger = logging.getLogger(__name__)

MAX_LENGTH = 200  # characters of a question
# Calibrated with ``manage.py chat_eval --calibrate`` on the tuning part of the evaluation set
# and our off-topic questions (offtopic.toml): the lowest threshold from which on the answers
# given with confidence are right at least 95% of the time and no off-topic question gets one.
# Cross-validated: each of 5 folds calibrated on the other four gives the same value.
CONFIDENCE_THRESHOLD = 0.45
_LINE_BREAKS = re.compile(r"[\t\r\n]")


class QuestionError(ValueError):
    """A question the chat cannot take; ``str(error)`` is a Japanese message for the customer."""


def clean_question(value: str) -> str:
    """The question as one line of text, or ``QuestionError`` (empty, too long, control chars)."""
    # Newlines and tabs of a pasted question become spaces; ja.clean_text refuses other controls.
    try:
        question = ja.clean_text(_LINE_BREAKS.sub(" ", value or ""))
    except ja.JaInputError as error:
        raise QuestionError(str(error)) from None
    if not question:
        raise QuestionError(_("質問を入力してください。"))
    if len(question) > MAX_LENGTH:
        raise QuestionError(
            _("質問は%(max)s文字以内で入力してください（いまは%(length)s文字です）。")
            % {"max": MAX_LENGTH, "length": len(question)}
        )
    return question


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str
    hours: str
    email: str


@dataclass(frozen=True)
class Answer:
    question: str
    entry: FaqEntry | None  # the answer, when the chat is confident
    suggestions: tuple[FaqEntry, ...]  # the best three, when it is not
    confidence: float
    personal: tuple[PersonalAnswer, ...] = ()
    login_invitation: bool = False  # a personal question from someone not logged in
    contacts: tuple[Contact, ...] = ()  # the member's agencies (empty: the general message)
    language: str = retrieval.JA  # of the entries' texts shown: English questions get English

    @property
    def confident(self) -> bool:
        return self.entry is not None

    def _question(self, entry: FaqEntry) -> str:
        return entry.question_en if self.language == retrieval.EN else entry.question

    @property
    def entry_question(self) -> str:
        return self._question(self.entry) if self.entry else ""

    @property
    def entry_answer(self) -> str:
        if not self.entry:
            return ""
        return self.entry.answer_en if self.language == retrieval.EN else self.entry.answer

    @property
    def suggestion_links(self) -> list[tuple[str, str]]:
        """(url, question) of each suggested entry, in the answer's language."""
        return [(entry.url, self._question(entry)) for entry in self.suggestions]

    @property
    def page_title(self) -> str:
        """The title of the help page the answer comes from."""
        page = content.help_page(self.entry.page) if self.entry else None
        if not page:
            return _("WEB更改サービスご説明サイト")
        return page.title_en if self.language == retrieval.EN else page.title


def _contacts(member: User) -> tuple[Contact, ...]:
    return tuple(
        Contact(
            name=agency.name,
            phone=agency.contact_phone,
            hours=agency.contact_hours,
            email=agency.contact_email,
        )
        for agency in member_agencies(member=member)
    )


def answer(
    *,
    question: str,
    member: User | AnonymousUser | None = None,
    now: datetime,
    page_language: str = retrieval.JA,
) -> Answer:
    """Answer a cleaned question (``clean_question``) for ``member`` (None when not logged in),
    asked on a page in ``page_language``."""
    language, ranking = retrieval.rank(question, page_language)
    intents = detect_intents(text.normalize(question))
    known = member if isinstance(member, User) and member.is_authenticated else None
    logged_in = known is not None
    personal = personal_answers(member=known, intents=intents, now=now) if known else ()
    contacts = _contacts(known) if known else ()
    shown = ranking.top(3)
    entry = shown[0] if shown else None
    # A personal question is answered from the member's data; its general entry goes with it.
    confident = entry is not None and (bool(intents) or ranking.confidence >= CONFIDENCE_THRESHOLD)
    # Logged without the question: it may hold personal data.
    logger.info(
        "chat answer",
        extra={
            "entry": entry.id if entry else None,
            "confidence": ranking.confidence,
            "confident": confident,
            "intents": [str(i) for i in intents],
        },
    )
    return Answer(
        question=question,
        entry=entry if confident else None,
        suggestions=() if confident else shown,
        confidence=ranking.confidence,
        personal=personal,
        login_invitation=bool(intents) and not logged_in,
        contacts=contacts,
        language=language,
    )
