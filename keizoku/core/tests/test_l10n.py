"""Amounts and dates in the customer's language: Japanese as before, English as an English
reader expects; times in JST in both."""

from datetime import UTC, date, datetime

import pytest
from django.utils import translation

from keizoku.core import l10n

MOMENT = datetime(2026, 12, 25, 6, 59, tzinfo=UTC)  # 15:59 JST, a Friday


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ja", ["71,720円", "-1,200円", "0円", "3,000万円", "1億円", "2,350,001円"]),
        ("en", ["¥71,720", "-¥1,200", "¥0", "¥30,000,000", "¥100,000,000", "¥2,350,001"]),
    ],
)
def test_amounts(language, expected):
    with translation.override(language):
        shown = [
            l10n.yen(71720),
            l10n.yen(-1200),
            l10n.yen(0),
            l10n.yen_large(30_000_000),
            l10n.yen_large(100_000_000),
            l10n.yen_large(2_350_001),
        ]
    assert shown == expected
    assert l10n.yen(None) == "" and l10n.yen("") == ""


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ja", ["2026年4月1日", "2026年12月25日 15:59", "2026年12月25日（金）15時59分"]),
        ("en", ["April 1, 2026", "December 25, 2026 15:59", "Friday, December 25, 2026, 15:59"]),
    ],
)
def test_dates_in_japan_time(language, expected):
    with translation.override(language):
        shown = [l10n.date(date(2026, 4, 1)), l10n.datetime(MOMENT), l10n.deadline(MOMENT)]
    assert shown == expected


@pytest.mark.parametrize(
    ("code", "expected"), [("en-us", "en"), ("en", "en"), ("ja-JP", "ja"), ("fr", "ja"), ("", "ja")]
)
def test_supported_language(code, expected):
    assert l10n.supported_language(code) == expected
