"""The help content as data: FAQ entries and help pages, loaded once from the TOML files beside.

The chat indexes the same entries (`faq_entries()`), so an answer always names the help page
it came from (`FaqEntry.url`).
"""

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.urls import reverse

CONTENT = Path(__file__).parent / "content"

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


@dataclass(frozen=True)
class FaqEntry:
    id: str
    category: str
    question: str
    answer: str
    page: str  # slug of the help page the answer comes from
    keywords: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return reverse("help:page", args=[self.page]) + f"#faq-{self.id}"


@cache
def faq_entries() -> tuple[FaqEntry, ...]:
    """Every FAQ entry, validated: unique ids, known categories."""
    data = tomllib.loads((CONTENT / "faq.toml").read_text(encoding="utf-8"))
    entries = tuple(
        FaqEntry(**{**item, "keywords": tuple(item.get("keywords", ()))})
        for item in data["entry"]
    )
    ids = [entry.id for entry in entries]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"faq.toml: duplicate id {sorted(duplicates)}")
    for entry in entries:
        if entry.category not in CATEGORIES:
            raise ValueError(f"faq.toml: {entry.id}: unknown category {entry.category!r}")
    return entries
