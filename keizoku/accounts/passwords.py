"""The MyPage password rule (guide step 2) and its compensating checks (SECURITY.md).

6 to 32 printable ASCII characters (no space), case-sensitive, verified exactly as typed.
Refused, with the reason in Japanese: full-width or other non-ASCII characters (never silently
converted), common passwords, and passwords built from the email's local part, the member's
name, the group or the brand. Mixing letters and digits is advice, never enforced.
"""

import gzip
import os
import re
from collections.abc import Iterable
from functools import lru_cache

import django
import jaconv
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

MIN_LENGTH = 6
MAX_LENGTH = 32
BRAND_WORDS = ("keizoku", "clickar", "mypage", "hoken", "sompo", "jidosha")
_PRINTABLE = re.compile(r"[\x21-\x7e]*")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """Django's list of 20,000 common passwords, filtered to those our rule would accept."""
    path = os.path.join(
        os.path.dirname(django.__file__), "contrib", "auth", "common-passwords.txt.gz"
    )
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        words = (line.strip() for line in lines)
        return frozenset(
            word.lower()
            for word in words
            if MIN_LENGTH <= len(word) <= MAX_LENGTH and _PRINTABLE.fullmatch(word)
        )


def _context_words(email: str, kana: str, extra: Iterable[str]) -> list[tuple[str, str]]:
    """(word, reason) pairs a password must not be built from; words shorter than 3 are ignored."""
    words: list[tuple[str, str]] = []
    local = email.rpartition("@")[0] if "@" in email else email
    for part in [*re.split(r"[._+\-]", local.lower()), local.lower()]:
        words.append((part, _("メールアドレスの一部を含むパスワードは使用できません。")))
    for part in jaconv.kata2alphabet(jaconv.hira2kata(kana)).lower().split():
        words.append((part, _("お名前を含むパスワードは使用できません。")))
        words.append(
            (
                part.replace("ou", "o").replace("uu", "u"),
                _("お名前を含むパスワードは使用できません。"),
            )
        )
    for word in list(extra) + list(BRAND_WORDS):
        words.append(
            (
                re.sub(r"[^a-z0-9]", "", word.lower()),
                _("サービス名や団体名を含むパスワードは使用できません。"),
            )
        )
    return [(word, reason) for word, reason in words if len(word) >= 3]


def password_problems(
    password: str, *, email: str = "", kana: str = "", extra_words: Iterable[str] = ()
) -> list[str]:
    """Every reason the password is refused, in Japanese; an empty list when it is acceptable."""
    if any(ord(ch) > 0x7E for ch in password):
        return [_("パスワードは半角の英数字・記号で入力してください（全角文字は使用できません）。")]
    if not _PRINTABLE.fullmatch(password):
        return [_("パスワードにスペースや制御文字は使用できません。")]
    if len(password) < MIN_LENGTH:
        return [_("パスワードは6文字以上で入力してください。")]
    if len(password) > MAX_LENGTH:
        return [_("パスワードは32文字以内で入力してください。")]
    problems = []
    if password.lower() in common_passwords():
        problems.append(_("よく使われているパスワードのため使用できません。"))
    lowered = password.lower()
    for word, reason in _context_words(email, kana, extra_words):
        if word in lowered and reason not in problems:
            problems.append(reason)
    return problems


HELP_TEXT = gettext_noop(
    "半角英数字・記号で6文字以上32文字以内。大文字・小文字は区別されます。英数字混在をおすすめします。"
)


class KeizokuPasswordValidator:
    """AUTH_PASSWORD_VALIDATORS entry, so that reset and change apply the same rule."""

    def validate(self, password: str, user=None) -> None:
        problems = password_problems(
            password,
            email=getattr(user, "email", "") or "",
            kana=getattr(user, "kana", "") or "",
        )
        if problems:
            raise ValidationError(problems, code="password_rule")

    def get_help_text(self) -> str:
        return _(HELP_TEXT)
