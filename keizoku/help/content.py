"""The help content as data: FAQ entries, help pages and the chat's evaluation set.

Loaded once from the TOML files beside (content/) and validated on load, so a broken file fails
the test suite rather than a customer's page. The chat indexes the same entries
(`faq_entries()`), so an answer always names the help page it came from (`FaqEntry.url`).
"""

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.urls import reverse
from django.utils.translation import gettext, gettext_noop

from keizoku.core.l10n import is_japanese

CONTENT = Path(__file__).parent / "content"
SCREENS = Path(__file__).parent / "static" / "help" / "screens"
# The same screens in English mode (``manage.py help_screenshots --language en``).
SCREENS_EN = SCREENS / "en"

# In Japanese (the chat indexes these words); shown in the customer's language (category_label).
CATEGORIES = {
    "registration": gettext_noop("会員登録"),
    "login": gettext_noop("ログイン・パスワード"),
    "linking": gettext_noop("証券の登録"),
    "window": gettext_noop("手続きの期間"),
    "plans": gettext_noop("補償プランと保険料"),
    "grades": gettext_noop("等級と事故"),
    "payment": gettext_noop("お支払い"),
    "documents": gettext_noop("証券・書類"),
    "contact": gettext_noop("お問い合わせ"),
}


def category_label(key: str) -> str:
    """A category in the customer's language."""
    return gettext(CATEGORIES[key])


def _shown(japanese: str, english: str) -> str:
    """The text of the page's language: Japanese, or its English version in English mode."""
    return japanese if is_japanese() or not english else english


@dataclass(frozen=True, kw_only=True)
class FaqEntry:
    id: str
    category: str
    question: str
    answer: str
    # The same entry in English (required in faq.toml; the chat's own tests may leave them out).
    question_en: str = ""
    answer_en: str = ""
    keywords_en: tuple[str, ...] = ()
    page: str  # slug of the help page the answer comes from
    keywords: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return reverse("help:page", args=[self.page]) + f"#faq-{self.id}"

    @property
    def category_label(self) -> str:
        return category_label(self.category)

    @property
    def shown_question(self) -> str:
        """The question in the page's language (the help site, the chat's citations)."""
        return _shown(self.question, self.question_en)

    @property
    def shown_answer(self) -> str:
        return _shown(self.answer, self.answer_en)


@dataclass(frozen=True, kw_only=True)
class Step:
    """One step of a help page: the guide's label, what to do, and our own screen; each text
    also in English (``*_en``, required), with the English screen under screens/en/."""

    label: str  # e.g. 「手順 1」, shown before the heading
    heading: str
    text: str
    image: str = ""  # file name under static/help/screens/ (made by `manage.py help_screenshots`)
    alt: str = ""
    label_en: str = ""
    heading_en: str = ""
    text_en: str = ""
    alt_en: str = ""

    @property
    def shown_label(self) -> str:
        return _shown(self.label, self.label_en)

    @property
    def shown_heading(self) -> str:
        return _shown(self.heading, self.heading_en)

    @property
    def shown_text(self) -> str:
        return _shown(self.text, self.text_en)

    @property
    def shown_alt(self) -> str:
        return _shown(self.alt, self.alt_en)

    @property
    def image_path(self) -> str:
        """The screen in the page's language (the Japanese one in Japanese mode)."""
        if not self.image:
            return ""
        return f"help/screens/{self.image}" if is_japanese() else f"help/screens/en/{self.image}"

    @property
    def image_size(self) -> tuple[int, int] | None:
        """(width, height) from the PNG header, so the page reserves the picture's space."""
        if not self.image:
            return None
        return _png_size((SCREENS if is_japanese() else SCREENS_EN) / self.image)


@cache
def _png_size(path: Path) -> tuple[int, int] | None:
    try:
        header = path.read_bytes()[:24]
    except OSError:
        return None
    if header[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


@dataclass(frozen=True, kw_only=True)
class HelpPage:
    slug: str
    title: str
    summary: str
    steps: tuple[Step, ...]
    title_en: str = ""
    summary_en: str = ""

    @property
    def shown_title(self) -> str:
        return _shown(self.title, self.title_en)

    @property
    def shown_summary(self) -> str:
        return _shown(self.summary, self.summary_en)

    @property
    def url(self) -> str:
        return reverse("help:page", args=[self.slug])


class ContentError(ValueError):
    """A help content file that does not validate (raised on load, caught by the tests)."""


def _load(name: str) -> dict:
    return tomllib.loads((CONTENT / name).read_text(encoding="utf-8"))


@cache
def help_pages() -> tuple[HelpPage, ...]:
    """The guide's procedure, in order: each page with its steps and screenshots."""
    pages = []
    for item in _load("pages.toml")["page"]:
        steps = tuple(Step(**step) for step in item.get("step", ()))
        for step in steps:
            if step.image and not step.alt:
                raise ContentError(f"pages.toml: {item['slug']}: {step.image} has no alt text")
            english = (step.label_en, step.heading_en, step.text_en)
            if not all(text.strip() for text in english) or (step.image and not step.alt_en):
                raise ContentError(f"pages.toml: {item['slug']}: a step without its English")
        if not item.get("title_en", "").strip() or not item.get("summary_en", "").strip():
            raise ContentError(f"pages.toml: {item['slug']}: no English title_en or summary_en")
        pages.append(
            HelpPage(
                slug=item["slug"],
                title=item["title"],
                summary=item["summary"],
                title_en=item["title_en"],
                summary_en=item["summary_en"],
                steps=steps,
            )
        )
    slugs = [page.slug for page in pages]
    if "faq" in slugs:
        raise ContentError("pages.toml: the slug 'faq' is the FAQ page's own URL")
    duplicates = {s for s in slugs if slugs.count(s) > 1}
    if duplicates:
        raise ContentError(f"pages.toml: duplicate slug {sorted(duplicates)}")
    return tuple(pages)


def help_page(slug: str) -> HelpPage | None:
    return next((page for page in help_pages() if page.slug == slug), None)


@cache
def faq_entries() -> tuple[FaqEntry, ...]:
    """Every FAQ entry, validated: unique ids, known categories, existing help pages."""
    data = _load("faq.toml")
    entries = tuple(
        FaqEntry(
            **{
                **item,
                "keywords": tuple(item.get("keywords", ())),
                "keywords_en": tuple(item.get("keywords_en", ())),
            }
        )
        for item in data["entry"]
    )
    ids = [entry.id for entry in entries]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ContentError(f"faq.toml: duplicate id {sorted(duplicates)}")
    slugs = {page.slug for page in help_pages()}
    for entry in entries:
        if entry.category not in CATEGORIES:
            raise ContentError(f"faq.toml: {entry.id}: unknown category {entry.category!r}")
        if entry.page not in slugs:
            raise ContentError(f"faq.toml: {entry.id}: unknown help page {entry.page!r}")
        if not entry.question.strip() or not entry.answer.strip():
            raise ContentError(f"faq.toml: {entry.id}: empty question or answer")
        if not entry.question_en.strip() or not entry.answer_en.strip():
            raise ContentError(f"faq.toml: {entry.id}: no English question_en or answer_en")
        if not entry.keywords_en or not all(keyword.strip() for keyword in entry.keywords_en):
            raise ContentError(f"faq.toml: {entry.id}: no English keywords_en")
    return entries


def faq_by_category() -> list[tuple[str, str, list[FaqEntry]]]:
    """(category key, label in the page's language, entries) in the order of CATEGORIES."""
    entries = faq_entries()
    return [
        (key, category_label(key), [entry for entry in entries if entry.category == key])
        for key in CATEGORIES
    ]


# The evaluation set is split once into a part that retrieval may be tuned on and a held-out
# part that measures it (keizoku/chat/evaluation.py, docs/decisions.md).
EVAL_PARTS = ("tuning", "held-out")
# How a question is written, for the figures per style; "" for the first set (mixed styles).
EVAL_STYLES = ("", "spoken", "no-particles", "kana", "typo", "situation", "english")


@dataclass(frozen=True)
class EvalQuestion:
    text: str  # as a customer types it
    expected: str  # the id of the FAQ entry that answers it
    part: str  # one of EVAL_PARTS
    style: str = ""


@cache
def eval_questions() -> tuple[EvalQuestion, ...]:
    """The chat's evaluation set, validated: known entries, a part each, no question twice."""
    known = {entry.id for entry in faq_entries()}
    questions, seen = [], set()
    for item in _load("eval.toml")["question"]:
        text, expected = item["text"].strip(), item["expected"]
        part, style = item.get("part", ""), item.get("style", "")
        if not text:
            raise ContentError("eval.toml: an empty question")
        if expected not in known:
            raise ContentError(f"eval.toml: {text!r}: unknown FAQ id {expected!r}")
        if part not in EVAL_PARTS:
            raise ContentError(
                f"eval.toml: {text!r}: part must be one of {EVAL_PARTS}"
                " (`manage.py chat_eval --assign-split` assigns new questions)"
            )
        if style not in EVAL_STYLES:
            raise ContentError(f"eval.toml: {text!r}: unknown style {style!r}")
        if text in seen:
            raise ContentError(f"eval.toml: {text!r} appears twice")
        seen.add(text)
        questions.append(EvalQuestion(text=text, expected=expected, part=part, style=style))
    return tuple(questions)
