"""前年同等プラン, おすすめプラン (the documented rule) and カスタマイズ with its refusals."""

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keizoku.rating.engine import Coverages, quote
from keizoku.rating.plans import (
    DEDUCTIBLES,
    PERSONAL_INJURY,
    PROPERTY_DAMAGE,
    RIDERS,
    PlanError,
    custom_plan,
    recommendation_changes,
    recommended_plan,
    same_plan,
)

from .inputs import example_input

THIN = Coverages("30000000", "30000000", "general", "0-10", ("road",))
VALID = {
    "personal_injury": "50000000",
    "property_damage": "unlimited",
    "vehicle_cover": "general",
    "deductible": "5-10",
    "riders": ["road", "legal"],
}


def test_the_same_plan_keeps_last_years_coverages():
    assert same_plan(THIN) == THIN


def test_a_property_damage_limit_not_offered_goes_up_to_the_next_one():
    assert same_plan(Coverages("50000000", "20000000", "none", "", ())).property_damage == (
        "30000000"
    )
    assert same_plan(Coverages("50000000", "80000000", "none", "", ())).property_damage == (
        "unlimited"
    )


def test_the_recommended_plan_closes_the_usual_gaps():
    assert recommended_plan(THIN) == Coverages(
        "50000000", "unlimited", "general", "5-10", ("legal", "road")
    )


def test_the_recommended_plan_keeps_what_is_already_better():
    rich = Coverages("unlimited", "unlimited", "general", "5-10", ("legal", "liability"))
    assert recommended_plan(rich) == rich
    economy = Coverages("100000000", "unlimited", "economy", "10-10", ())
    assert recommended_plan(economy) == Coverages(
        "100000000", "unlimited", "economy", "10-10", ("legal",)
    )
    none = Coverages("50000000", "unlimited", "none", "", ())
    assert recommended_plan(none).deductible == ""


def test_any_valid_custom_combination_is_accepted_and_normalised():
    assert custom_plan(VALID, vehicle_value=2_000_000) == Coverages(
        "50000000", "unlimited", "general", "5-10", ("legal", "road")
    )
    no_vehicle = {**VALID, "vehicle_cover": "none", "deductible": "", "riders": []}
    assert custom_plan(no_vehicle, vehicle_value=0).vehicle_cover == "none"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"deductible": ""}, "車両保険を付ける場合は、免責金額を選択してください。"),
        ({"vehicle_cover": "none"}, "車両保険を付けない場合、免責金額は選択できません。"),
        ({"personal_injury": "20000000"}, "人身傷害の保険金額を選択してください。"),
        ({"property_damage": "100000000"}, "対物賠償の限度額を選択してください。"),
        ({"vehicle_cover": "full"}, "車両保険の種類を選択してください。"),
        ({"deductible": "3-10"}, "車両保険を付ける場合は、免責金額を選択してください。"),
        ({"riders": ["legal", "pet"]}, "選択できない特約が含まれています。"),
    ],
)
def test_an_invalid_custom_combination_is_refused_with_a_reason(change, reason):
    with pytest.raises(PlanError) as error:
        custom_plan({**VALID, **change}, vehicle_value=2_000_000)
    assert str(error.value) == reason


def test_vehicle_cover_cannot_be_added_without_a_vehicle_value():
    with pytest.raises(PlanError, match="車両保険の追加は代理店でのお手続き"):
        custom_plan(VALID, vehicle_value=0)


# --- 「おすすめの理由」: the changes from 前年同等プラン to おすすめプラン, each priced ------------------


def _premium(inp, coverages: Coverages) -> int:
    return quote(replace(inp, coverages=coverages)).annual_premium


def test_each_change_of_the_recommendation_is_listed_in_order_and_priced_by_the_engine():
    inp = example_input(coverages=THIN)
    changes = recommendation_changes(inp)
    assert [(c.code, c.before, c.after) for c in changes] == [
        ("legal", "", "legal"),
        ("personal_injury", "30000000", "50000000"),
        ("property_damage", "30000000", "unlimited"),
        ("deductible", "0-10", "5-10"),
    ]
    # Each change is priced on top of the ones before it: the first is 前年同等 + 弁護士費用特約.
    same = same_plan(THIN)
    with_legal = replace(same, riders=("legal", "road"))
    assert changes[0].annual == _premium(inp, with_legal) - _premium(inp, same)
    assert changes[0].annual > 0
    assert changes[-1].annual < 0  # 5-10 instead of 0-10 costs less
    assert changes[0].monthly == _premium(inp, with_legal) // 12 - _premium(inp, same) // 12


def test_the_changes_add_up_to_the_difference_between_the_two_plans():
    inp = example_input(coverages=THIN)
    changes = recommendation_changes(inp)
    same, recommended = _premium(inp, same_plan(THIN)), _premium(inp, recommended_plan(THIN))
    assert sum(c.annual for c in changes) == recommended - same
    assert sum(c.monthly for c in changes) == recommended // 12 - same // 12


def test_the_price_of_a_change_follows_the_situation_it_is_priced_in():
    """Not a fixed figure: the same change costs more at a worse grade."""
    good = recommendation_changes(
        example_input(coverages=THIN, grade=20, claims_3down=0, claims_1down=0)
    )
    bad = recommendation_changes(
        example_input(coverages=THIN, grade=3, claims_3down=0, claims_1down=0)
    )
    assert good[1].code == bad[1].code == "personal_injury"
    assert bad[1].annual > good[1].annual > 0


def test_no_change_when_last_years_cover_already_meets_the_recommendation():
    assert recommendation_changes(example_input()) == ()


@settings(max_examples=60, deadline=None)
@given(
    personal_injury=st.sampled_from(PERSONAL_INJURY),
    property_damage=st.sampled_from(PROPERTY_DAMAGE),
    vehicle=st.sampled_from(
        [("none", ""), *((c, d) for c in ("general", "economy") for d in DEDUCTIBLES)]
    ),
    riders=st.sets(st.sampled_from(RIDERS)),
)
def test_for_any_cover_the_changes_lead_exactly_from_one_plan_to_the_other(
    personal_injury, property_damage, vehicle, riders
):
    current = Coverages(personal_injury, property_damage, *vehicle, tuple(sorted(riders)))
    inp = example_input(coverages=current, vehicle_value=2_000_000 if vehicle[0] != "none" else 0)
    changes = recommendation_changes(inp)
    same, recommended = same_plan(current), recommended_plan(current)
    assert (changes == ()) == (same == recommended)
    assert sum(c.annual for c in changes) == _premium(inp, recommended) - _premium(inp, same)
    assert len({c.code for c in changes}) == len(changes)
