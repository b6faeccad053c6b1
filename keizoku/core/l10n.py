"""Amounts and dates in the customer's language: the one place that formats them.

Japanese is the reference: 71,720円, 3,000万円, 2026年4月1日. English: ¥71,720, ¥30,000,000,
April 1, 2026. Dates use the format modules of ``keizoku.core.formats`` (FORMAT_MODULE_PATH), so
templates write ``|date:"DATE_FORMAT"``; Python calls ``date`` or ``datetime`` here. Times are shown
in JST whatever the language (the service's times are Japan time).
"""

from datetime import date as Date
from datetime import datetime as DateTime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import dateformat, formats, timezone, translation
from django.utils.translation import gettext as _

JST = ZoneInfo("Asia/Tokyo")  # the service's times are Japan time, in every language


def supported_language(code: str | None) -> str:
    """One of settings.LANGUAGES for ``code`` ("en-us" → "en"), Japanese when unknown."""
    try:
        return translation.get_supported_language_variant(code or "")
    except LookupError:
        return settings.LANGUAGE_CODE


def is_japanese() -> bool:
    return (translation.get_language() or "ja").startswith("ja")


def yen(amount: int | str | None) -> str:
    """71720 → 「71,720円」, in English "¥71,720"; -1200 → 「-1,200円」 / "-¥1,200"."""
    if amount is None or amount == "":
        return ""
    value = int(amount)
    text = _("%(amount)s円") % {"amount": f"{abs(value):,}"}
    return f"-{text}" if value < 0 else text


def yen_large(amount: int) -> str:
    """Limits and sums insured: 「3,000万円」 and 「1億円」 in Japanese, "¥30,000,000" in English."""
    if not is_japanese():
        return yen(amount)
    # Japanese counts in 万 (10⁴) and 億 (10⁸): no other language does, so no catalogue entry.
    if amount >= 100_000_000 and amount % 100_000_000 == 0:
        return f"{amount // 100_000_000:,}億円"
    if amount and amount % 10_000 == 0:
        return f"{amount // 10_000:,}万円"
    return yen(amount)


def _local(value: Date | DateTime) -> Date | DateTime:
    if isinstance(value, DateTime) and timezone.is_aware(value):
        return value.astimezone(JST)
    return value


def date(value: Date | DateTime) -> str:
    """2026年4月1日 / April 1, 2026."""
    return formats.date_format(_local(value), "DATE_FORMAT")


def datetime(value: DateTime) -> str:
    """2026年4月1日 15:59 / April 1, 2026 15:59 (JST)."""
    return formats.date_format(_local(value), "DATETIME_FORMAT")


def deadline(value: DateTime) -> str:
    """The day of the week too: 2026年12月25日（金）15時59分 / Friday, December 25, 2026, 15:59."""
    return dateformat.format(_local(value), _own_format("DEADLINE_FORMAT"))


def _own_format(name: str) -> str:
    """A format of our own format modules (Django's ``get_format`` knows only its own names)."""
    for module in formats.get_format_modules(translation.get_language()):
        if hasattr(module, name):
            return getattr(module, name)
    raise LookupError(f"no {name} for {translation.get_language()!r}")
