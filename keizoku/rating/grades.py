"""Non-fleet grade transition at renewal (RATING.md §2) and the five-year projection."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .tables import GradeTable

MIN_GRADE, MAX_GRADE = 1, 20
MAX_COEF_PERIOD = 6


def next_grade(grade: int, coef_period: int, n3: int, n1: int) -> tuple[int, int]:
    """(grade, 事故有係数適用期間) of the renewal after n3 3-down and n1 1-down paid accidents.

    No-count accidents (ノーカウント事故) are not passed: they count as no accident.
    """
    if not MIN_GRADE <= grade <= MAX_GRADE:
        raise ValueError(f"grade must be 1–20, got {grade}")
    if not 0 <= coef_period <= MAX_COEF_PERIOD:
        raise ValueError(f"coef_period must be 0–6, got {coef_period}")
    if n3 < 0 or n1 < 0:
        raise ValueError("accident counts must be ≥ 0")
    if n3 == 0 and n1 == 0:
        new_grade = min(grade + 1, MAX_GRADE)
    else:
        new_grade = max(grade - 3 * n3 - n1, MIN_GRADE)
    period = min(max(coef_period - 1, 0) + 3 * n3 + n1, MAX_COEF_PERIOD)
    return new_grade, period


@dataclass(frozen=True, slots=True)
class ProjectedYear:
    year: int  # 1 = the renewal being quoted
    grade: int
    coef_period: int
    rate: Decimal


def projection(
    table: GradeTable, grade: int, coef_period: int, *, years: int = 5
) -> list[ProjectedYear]:
    """The grade path from the renewed (grade, period), assuming no further accident."""
    rows = []
    for year in range(1, years + 1):
        rows.append(ProjectedYear(year, grade, coef_period, table.rate(grade, coef_period)))
        grade, coef_period = next_grade(grade, coef_period, 0, 0)
    return rows


def format_rate(rate: Decimal) -> str:
    """−18% / +108% / 0% for the customer (U+2212 minus sign, as printed by insurers)."""
    percent = (rate * 100).normalize()
    text = f"{abs(percent):f}"
    if percent < 0:
        return f"−{text}%"
    if percent > 0:
        return f"+{text}%"
    return "0%"
