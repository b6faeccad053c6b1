"""Grade transition at renewal: every test vector of RATING.md §2, the tables and the projection."""

from datetime import date
from decimal import Decimal

import pytest

from keizoku.rating.grades import format_rate, next_grade, projection
from keizoku.rating.tables import grade_table_for, tables_for

GRADES_2023 = tables_for(date(2026, 12, 25)).grades

# (current grade, period), (3-down, 1-down, no-count) → (next grade, period), rate
VECTORS = [
    ((13, 0), (1, 1, 1), (9, 4), "−18%"),
    ((13, 0), (0, 0, 0), (14, 0), "−52%"),
    ((20, 0), (0, 0, 0), (20, 0), "−63%"),
    ((20, 2), (0, 0, 0), (20, 1), "−51%"),
    ((15, 0), (2, 0, 0), (9, 6), "−18%"),
    ((10, 5), (1, 0, 0), (7, 6), "−14%"),
    ((2, 0), (1, 0, 0), (1, 3), "+108%"),
    ((6, 0), (0, 0, 0), (7, 0), "−27%"),  # 6S (new contract) renewed without accident
    ((6, 3), (0, 0, 0), (7, 2), "−14%"),
    ((12, 0), (0, 1, 0), (11, 1), "−20%"),
    ((20, 0), (0, 0, 1), (20, 0), "−63%"),  # a no-count accident counts as none
]


@pytest.mark.parametrize(("current", "accidents", "expected", "rate"), VECTORS)
def test_the_vectors_of_rating_md(current, accidents, expected, rate):
    n3, n1, _nocount = accidents  # no-count accidents are not passed: they do not count
    grade, period = next_grade(*current, n3, n1)
    assert (grade, period) == expected
    assert format_rate(GRADES_2023.rate(grade, period)) == rate


def test_the_2023_table_is_the_real_one():
    assert GRADES_2023.version == "giroj-grade-2023" and not GRADES_2023.illustrative
    assert GRADES_2023.rate(1, 0) == Decimal("1.08")
    assert GRADES_2023.rate(9, 4) == Decimal("-0.18")
    assert GRADES_2023.rate(20, 0) == Decimal("-0.63")
    assert GRADES_2023.rate(20, 1) == Decimal("-0.51")
    assert GRADES_2023.rate(6, 3) == GRADES_2023.rate(6, 0) == Decimal("-0.13")


def test_a_start_before_2023_uses_the_2013_table():
    old = grade_table_for(date(2022, 12, 31))
    assert old.version == "giroj-grade-2013"
    assert old.rate(1, 0) == Decimal("0.64")
    assert old.rate(20, 2) == Decimal("-0.44")
    assert grade_table_for(date(2023, 1, 1)).version == "giroj-grade-2023"


def test_the_grade_stays_within_1_and_20_and_the_period_within_0_and_6():
    assert next_grade(1, 6, 5, 5) == (1, 6)
    assert next_grade(20, 6, 0, 0) == (20, 5)


@pytest.mark.parametrize("args", [(0, 0, 0, 0), (21, 0, 0, 0), (10, 7, 0, 0), (10, 0, -1, 0)])
def test_impossible_inputs_are_refused(args):
    with pytest.raises(ValueError):
        next_grade(*args)


def test_the_projection_runs_five_renewals_without_further_accident():
    rows = projection(GRADES_2023, 9, 4)
    assert [(r.year, r.grade, r.coef_period) for r in rows] == [
        (1, 9, 4),
        (2, 10, 3),
        (3, 11, 2),
        (4, 12, 1),
        (5, 13, 0),
    ]
    assert [format_rate(r.rate) for r in rows] == ["−18%", "−19%", "−20%", "−22%", "−51%"]


def test_rates_are_shown_with_a_true_minus_sign():
    assert format_rate(Decimal("-0.18")) == "−18%"
    assert format_rate(Decimal("1.08")) == "+108%"
    assert format_rate(Decimal("0")) == "0%"
