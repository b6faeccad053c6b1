"""Personal data out of a question before it is kept: ``mask`` replaces what could point to a
person with a placeholder that still tells staff what kind of thing was there.

What is masked, in this order (an earlier pattern hides what a later one would cut wrongly):
email addresses, web addresses, postal codes, phone numbers, policy and acceptance numbers
(letters and digits joined by hyphens, e.g. P-0001 or K-1234-5678-901), then every remaining
digit; and the names of people and places that SudachiPy recognises as proper nouns (氏名,
住所). Text is NFKC-normalised first, so full-width digits and ＠ are caught too.
"""

from __future__ import annotations

import re

from keizoku.core import ja

from . import text

EMAIL = "［メール］"
URL = "［URL］"
POSTAL_CODE = "［郵便番号］"
PHONE = "［電話番号］"
NUMBER = "［番号］"
NAME = "［氏名］"
PLACE = "［地名］"
DIGIT = "＊"

_PATTERNS = (
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII), EMAIL),
    (re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE), URL),
    (re.compile(r"〒?\s*(?<!\d)\d{3}-?\d{4}(?![\d-])"), POSTAL_CODE),
    (
        re.compile(
            r"(?<![A-Za-z0-9-])(?:\+81[-\s]?|0)\d{1,4}[-\s()]*\d{1,4}[-\s)]*\d{3,4}(?![A-Za-z0-9-])"
        ),
        PHONE,
    ),
    (
        re.compile(r"(?<![A-Za-z0-9-])[A-Za-z]{1,4}(?:-?\d+)+(?:-[A-Za-z0-9]+)*(?![A-Za-z0-9-])"),
        NUMBER,
    ),
    (re.compile(r"\d"), DIGIT),
)
_PROPER_NOUNS = {"人名": NAME, "地名": PLACE}


def mask(question: str) -> str:
    """The question with personal data replaced by placeholders (see the module's docstring)."""
    masked = ja.nfkc(question)
    for pattern, placeholder in _PATTERNS:
        masked = pattern.sub(placeholder, masked)
    return _mask_names(masked)


def _mask_names(masked: str) -> str:
    parts: list[str] = []
    for morpheme in text.tokenize(masked):
        pos = morpheme.part_of_speech()
        placeholder = _PROPER_NOUNS.get(pos[2]) if pos[1] == "固有名詞" else None
        if placeholder and not (parts and parts[-1] == placeholder):
            parts.append(placeholder)
        elif not placeholder:
            parts.append(morpheme.surface())
    return "".join(parts)
