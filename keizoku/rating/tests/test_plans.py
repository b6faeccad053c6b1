"""前年同等プラン, おすすめプラン (the documented rule) and カスタマイズ with its refusals."""

import pytest

from keizoku.rating.engine import Coverages
from keizoku.rating.plans import PlanError, custom_plan, recommended_plan, same_plan

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
