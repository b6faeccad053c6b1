"""keizoku.core.ja: one definition of the characters no field takes (W7, Trojan Source)."""

import sys
import unicodedata

import pytest

from keizoku.core import ja

# Every code point Python's Unicode database calls a control (Cc), a format character (Cf: bidi
# embeddings, overrides, isolates and marks, zero-width characters, tags) or a line or paragraph
# separator (Zl, Zp). A Python upgrade that adds one fails here until ja._FORMAT lists it.
INVISIBLE = [
    chr(cp)
    for cp in range(sys.maxunicode + 1)
    if unicodedata.category(chr(cp)) in ("Cc", "Cf", "Zl", "Zp")
]
BIDI = [*"\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"]


def test_the_list_holds_every_bidi_control_of_trojan_source():
    assert set(BIDI) <= set(INVISIBLE)


def test_a_one_line_field_refuses_every_control_and_format_character():
    accepted = []
    for char in INVISIBLE:
        try:
            ja.clean_text(f"継続{char}太郎")
        except ja.JaInputError:
            continue
        accepted.append(f"U+{ord(char):04X}")
    assert accepted == []


def test_a_message_keeps_tabs_and_newlines_and_refuses_every_other_one():
    assert ja.clean_multiline(" 一行目\r\n\t二行目\n") == "一行目\n\t二行目"
    accepted = []
    for char in INVISIBLE:
        if char in "\t\n\r":
            continue
        try:
            ja.clean_multiline(f"ご確認{char}ください")
        except ja.JaInputError:
            continue
        accepted.append(f"U+{ord(char):04X}")
    assert accepted == []


@pytest.mark.parametrize(
    "text",
    [
        "葛\U000e0100飾",  # an ideographic variation selector (異体字): a mark, not a format char
        "髙橋 𠮷",
        "1️⃣ ❤️",  # emoji variation selector and keycap
    ],
)
def test_what_japanese_text_needs_is_kept(text):
    assert ja.clean_text(text) == ja.nfkc(text)
    assert ja.clean_multiline(text) == text


def test_a_soft_hyphen_in_an_address_counts_as_a_hyphen_not_as_nothing():
    assert ja.normalize_address("丸の内1\u00ad2-3") == ja.normalize_address("丸の内1-2-3")
