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

CONTENT = Path(__file__).parent / "content"
SCREENS = Path(__file__).parent / "static" / "help" / "screens"

CATEGORIES = {
    "registration": "会員登録",
    "login": "ログイン・パスワード",
    "linking": "証券の登録",
    "window": "手続きの期間",
    "plans": "補償プランと保険料",
    "grades": "等級と事故",
    "payment": "お支払い",
    "documents": "証券・書類",
    "contact": "お問い合わせ",
}


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
        return CATEGORIES[self.category]


@dataclass(frozen=True)
class Step:
    """One step of a help page: the guide's label, what to do, and our own screen."""

    label: str  # e.g. 「手順 1」, shown before the heading
    heading: str
    text: str
    image: str = ""  # file name under static/help/screens/ (made by `manage.py help_screenshots`)
    alt: str = ""

    @property
    def image_path(self) -> str:
        return f"help/screens/{self.image}" if self.image else ""

    @property
    def image_size(self) -> tuple[int, int] | None:
        """(width, height) from the PNG header, so the page reserves the picture's space."""
        return _png_size(SCREENS / self.image) if self.image else None


@cache
def _png_size(path: Path) -> tuple[int, int] | None:
    try:
        header = path.read_bytes()[:24]
    except OSError:
        return None
    if header[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


@dataclass(frozen=True)
class HelpPage:
    slug: str
    title: str
    summary: str
    steps: tuple[Step, ...]

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
        pages.append(
            HelpPage(slug=item["slug"], title=item["title"], summary=item["summary"], steps=steps)
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
    """(category key, label, entries) in the order of CATEGORIES, for the FAQ page."""
    entries = faq_entries()
    return [
        (key, label, [entry for entry in entries if entry.category == key])
        for key, label in CATEGORIES.items()
    ]


@cache
def eval_questions() -> tuple[tuple[str, str], ...]:
    """The chat's evaluation set: (question as a customer types it, expected FAQ id)."""
    known = {entry.id for entry in faq_entries()}
    questions = []
    for item in _load("eval.toml")["question"]:
        text, expected = item["text"].strip(), item["expected"]
        if not text:
            raise ContentError("eval.toml: an empty question")
        if expected not in known:
            raise ContentError(f"eval.toml: {text!r}: unknown FAQ id {expected!r}")
        questions.append((text, expected))
    return tuple(questions)
