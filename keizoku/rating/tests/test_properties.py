"""Properties over many contracts (hypothesis): bounds, monotony, instalments and explanations."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from keizoku.rating.engine import Coverages, RatingInput, quote
from keizoku.rating.explain import explain
from keizoku.rating.grades import next_grade
from keizoku.rating.plans import DEDUCTIBLES, PERSONAL_INJURY, PROPERTY_DAMAGE, RIDERS

CLASS_COUNT = {"futsu": 17, "kogata": 17, "kei": 7}


def months(start: date, end: date) -> st.SearchStrategy[date]:
    return st.dates(start, end).map(lambda d: d.replace(day=1))


@st.composite
def coverages(draw) -> tuple[Coverages, int]:
    cover = draw(st.sampled_from(["none", "general", "economy"]))
    value = 0 if cover == "none" else draw(st.integers(300_000, 15_000_000))
    return (
        Coverages(
            personal_injury=draw(st.sampled_from(PERSONAL_INJURY)),
            property_damage=draw(st.sampled_from(PROPERTY_DAMAGE)),
            vehicle_cover=cover,
            deductible="" if cover == "none" else draw(st.sampled_from(DEDUCTIBLES)),
            riders=tuple(sorted(draw(st.sets(st.sampled_from(RIDERS))))),
        ),
        value,
    )


@st.composite
def rating_inputs(draw) -> RatingInput:
    use_class = draw(st.sampled_from(sorted(CLASS_COUNT)))
    rate_class = st.integers(1, CLASS_COUNT[use_class])
    cover, value = draw(coverages())
    return RatingInput(
        start=draw(st.dates(date(2025, 1, 1), date(2030, 12, 31))),
        grade=draw(st.integers(1, 20)),
        coef_period=draw(st.integers(0, 6)),
        claims_3down=draw(st.integers(0, 3)),
        claims_1down=draw(st.integers(0, 3)),
        open_claims=draw(st.integers(0, 1)),
        age_condition=draw(st.sampled_from(["all", "21", "26", "35"])),
        driver_scope=draw(st.sampled_from(["any", "self_spouse", "self"])),
        use=draw(st.sampled_from(["leisure", "commute", "business"])),
        gold_license=draw(st.booleans()),
        vehicle_use_class=use_class,
        class_bi=draw(rate_class),
        class_pd=draw(rate_class),
        class_pi=draw(rate_class),
        class_vh=draw(rate_class),
        first_registration=draw(months(date(2015, 1, 1), date(2030, 12, 1))),
        model_launch=draw(months(date(2012, 1, 1), date(2030, 12, 1))),
        asv=draw(st.booleans()),
        vehicle_value=value,
        coverages=cover,
        group_discount_percent=Decimal(draw(st.integers(0, 500))) / 10,
        collection_discount_percent=Decimal(draw(st.integers(0, 100))) / 10,
        member_type=draw(st.sampled_from(["employee", "retiree"])),
        retiree_keeps_discount=draw(st.booleans()),
        paperless=draw(st.booleans()),
    )


@given(st.integers(1, 20), st.integers(0, 6), st.integers(0, 10), st.integers(0, 10))
def test_the_next_grade_stays_within_1_20_and_the_period_within_0_6(grade, period, n3, n1):
    new_grade, new_period = next_grade(grade, period, n3, n1)
    assert 1 <= new_grade <= 20 and 0 <= new_period <= 6
    if n3 == n1 == 0:
        assert new_grade == min(grade + 1, 20) and new_period == max(period - 1, 0)
    else:
        assert new_grade <= grade


@settings(max_examples=300)
@given(rating_inputs(), st.sampled_from(["claims_3down", "claims_1down", "open_claims"]))
def test_a_counted_accident_never_lowers_the_premium(inp, field):
    worse = replace(inp, **{field: getattr(inp, field) + 1})
    assert quote(worse).annual_premium >= quote(inp).annual_premium


@settings(max_examples=300)
@given(rating_inputs())
def test_instalments_always_sum_to_the_annual_premium(inp):
    q = quote(inp)
    assert sum(q.installments) == q.annual_premium
    assert len(q.installments) == (1 if inp.member_type == "retiree" else 12)
    assert all(0 <= amount <= q.installments[0] for amount in q.installments)
    assert sum(line.premium for line in q.lines) == q.annual_premium > 0
    assert all(line.premium % 10 == 0 for line in q.lines)


@settings(max_examples=200)
@given(rating_inputs(), rating_inputs(), st.integers(0, 500_000))
def test_the_explanation_always_sums_to_the_difference(last, new, previous):
    # Last year's situation: any other contract state a year before the renewal.
    last = replace(last, start=date(new.start.year - 1, 1, 1))
    explanation = explain(previous_premium=previous, last=last, new=new)
    assert explanation.new == quote(new).annual_premium
    assert sum(part.amount for part in explanation.parts) == explanation.new - previous
    assert all(isinstance(part.amount, int) for part in explanation.parts)


@settings(max_examples=200)
@given(rating_inputs())
def test_every_line_is_reproduced_from_its_trace(inp):
    """The back office can recompute each line from base and trace, factor by factor."""
    for line in quote(inp).lines:
        if line.code == "PAPERLESS":
            assert line.premium == line.base == -500 and line.factors == ()
            continue
        rating = [f for f in line.factors if f.code not in ("group", "collection")]
        group = [f for f in line.factors if f.code in ("group", "collection")]
        amount = Decimal(line.base)
        for factor in rating:  # in the table's order
            amount *= factor.value
        premium = int(amount) // 10 * 10
        if group:
            amount = Decimal(premium)
            for factor in group:
                amount *= factor.value
            premium = int(amount) // 10 * 10
        assert premium == line.premium
