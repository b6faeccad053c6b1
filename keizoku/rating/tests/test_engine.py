"""The premium line by line (RATING.md §3): the worked example to the yen and each factor's rule."""

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from keizoku.rating.engine import (
    Coverages,
    RatingError,
    Rounding,
    asv_applies,
    installments,
    price,
    quote,
)
from keizoku.rating.tables import tables_for

from .inputs import EXAMPLE_COVERAGES, example_input

FACTORS = tables_for(date(2026, 12, 25)).factors


def premiums(q) -> dict[str, int]:
    return {line.code: line.premium for line in q.lines}


def factor_codes(line) -> list[str]:
    return [entry.code for entry in line.factors]


def test_the_worked_example_to_the_yen():
    q = quote(example_input())
    assert (q.next_grade, q.coef_period, q.grade_rate) == (9, 4, Decimal("-0.18"))
    assert [(line.code, line.base) for line in q.lines] == [
        ("BI", 24000),
        ("PD", 28000),
        ("PI", 18000),
        ("VH", 70000),
        ("LEGAL", 2400),
        ("LIABILITY", 1200),
    ]
    assert premiums(q) == {
        "BI": 12790,
        "PD": 14910,
        "PI": 9590,
        "VH": 31700,
        "LEGAL": 1820,
        "LIABILITY": 910,
    }
    assert q.annual_premium == 71720
    assert q.installments == (5984,) + (5976,) * 11
    assert q.table_version == "giroj-grade-2023+illustrative-factors-2025"


def test_the_trace_names_every_factor_in_the_tables_order():
    bi, _pd, _pi, vh, legal, _liability = quote(example_input()).lines
    assert [(e.code, e.label, e.value) for e in bi.factors] == [
        ("grade", "等級", Decimal("0.82")),
        ("age_condition", "運転者年齢条件", Decimal("0.95")),
        ("driver_scope", "運転者限定", Decimal("0.93")),
        ("use", "使用目的", Decimal("1.10")),
        ("gold_license", "ゴールド免許割引", Decimal("0.88")),
        ("group", "団体割引", Decimal("0.80")),
        ("collection", "団体扱割引", Decimal("0.95")),
    ]
    assert factor_codes(vh)[5:] == ["vehicle_cover", "group", "collection"]
    assert vh.factors[5].label == "車両保険の種類・免責金額" and vh.factors[5].value == Decimal(
        "0.85"
    )
    assert factor_codes(legal) == ["group", "collection"]
    assert [line.label for line in quote(example_input()).lines] == [
        "対人賠償",
        "対物賠償",
        "人身傷害",
        "車両保険",
        "弁護士費用特約",
        "個人賠償責任特約",
    ]


def test_the_same_choices_without_a_counted_accident_give_43090():
    q = quote(example_input(claims_3down=0, claims_1down=0))
    assert (q.next_grade, q.grade_rate, q.annual_premium) == (14, Decimal("-0.52"), 43090)


def test_an_open_claim_is_quoted_as_if_paid_as_a_3_down_accident():
    open_claim = quote(example_input(claims_3down=0, claims_1down=0, open_claims=1))
    paid = quote(example_input(claims_3down=1, claims_1down=0))
    assert (open_claim.next_grade, open_claim.coef_period) == (10, 3)
    assert open_claim.grade_rate == Decimal("-0.19")
    assert open_claim.annual_premium == paid.annual_premium == 70860
    assert open_claim.open_claims == 1 and paid.open_claims == 0
    assert json.loads(open_claim.to_json())["open_claims"] == 1
    with_both = quote(example_input(open_claims=1))  # 13 − 3 − 1 − 3 = 6, period capped at 6
    assert (with_both.next_grade, with_both.coef_period, with_both.annual_premium) == (6, 6, 75930)


def test_rounding_floors_each_line_then_again_after_the_group_factor():
    # BI: 24000 × .82 × .95 × .93 × 1.10 × .88 = 16830.88 → 16830; × .76 = 12790.8 → 12790.
    assert premiums(quote(example_input()))["BI"] == 12790
    half_up = quote(example_input(), rounding=Rounding(unit=1, mode="half_up"))
    assert premiums(half_up)["BI"] == 12792  # 16831 × 0.76 = 12791.56
    ceiling = quote(example_input(), rounding=Rounding(unit=10, mode="ceiling"))
    assert premiums(ceiling)["BI"] == 12800  # 16840 × 0.76 = 12798.4
    assert sum(premiums(half_up).values()) == half_up.annual_premium


def test_instalments_put_the_remainder_on_the_first_and_retirees_pay_once():
    assert installments(71720, 12) == (5984,) + (5976,) * 11
    assert installments(120000, 12) == (10000,) * 12
    assert installments(71720, 1) == (71720,)
    retiree = quote(example_input(member_type="retiree"))
    assert retiree.installments == (retiree.annual_premium,)
    assert quote(example_input(), installment_times=6).installments == (11955,) + (11953,) * 5


def test_a_retiree_loses_the_group_factors_only_if_the_group_says_so():
    kept = quote(example_input(member_type="retiree", retiree_keeps_discount=True))
    lost = quote(example_input(member_type="retiree", retiree_keeps_discount=False))
    assert kept.annual_premium == 71720
    assert "group" not in factor_codes(lost.lines[0])
    assert premiums(lost)["BI"] == 16830 and premiums(lost)["LEGAL"] == 2400
    employee = quote(example_input(retiree_keeps_discount=False))
    assert employee.annual_premium == 71720  # the setting is about retirees only


def test_a_group_without_discount_leaves_the_group_factors_out():
    q = quote(example_input(group_discount_percent=Decimal(0), collection_discount_percent=0))
    assert premiums(q)["BI"] == 16830 and "collection" not in factor_codes(q.lines[0])
    half = quote(example_input(group_discount_percent=Decimal("12.5")))
    assert half.lines[0].factors[-2].value == Decimal("0.875")


def test_paperless_is_a_fixed_amount_off_as_its_own_line():
    q = quote(example_input(paperless=True))
    assert q.lines[-1].code == "PAPERLESS" and q.lines[-1].label == "Web証券割引"
    assert q.lines[-1].premium == -500 and q.paperless_discount == 500
    assert q.annual_premium == 71220
    assert sum(line.premium for line in q.lines) == q.annual_premium


def test_the_asv_discount_applies_up_to_three_years_after_the_launch_year():
    launched = date(2023, 6, 1)
    last_year = example_input(model_launch=launched, start=date(2026, 12, 31))
    assert asv_applies(last_year, FACTORS)
    assert not asv_applies(replace(last_year, start=date(2027, 1, 1)), FACTORS)
    assert not asv_applies(replace(last_year, asv=False), FACTORS)
    q = quote(last_year)
    assert "asv" in factor_codes(q.lines[0]) and q.lines[0].factors[5].label == "ASV割引"
    assert q.annual_premium < quote(replace(last_year, asv=False)).annual_premium


def test_the_new_car_discount_applies_up_to_the_49th_month():
    # Registered 2022-12: December 2022 is month 1, December 2026 month 49, January 2027 month 50.
    inp = example_input(first_registration=date(2022, 12, 1), start=date(2026, 12, 25))
    assert "new_car" in factor_codes(quote(inp).lines[0])
    assert quote(inp).lines[0].factors[-3].label == "新車割引"
    assert "new_car" not in factor_codes(quote(replace(inp, start=date(2027, 1, 4))).lines[0])


def test_the_illustrative_bases_scale_sensibly():
    def base(code: str, **overrides) -> int:
        q = quote(example_input(**overrides))
        return next(line.base for line in q.lines if line.code == code)

    vh_by_value = [base("VH", vehicle_value=v) for v in (800_000, 2_000_000, 3_500_000, 12_000_000)]
    assert vh_by_value == sorted(vh_by_value) and vh_by_value[1] == 70000
    assert base("VH", class_vh=8) > base("VH") > base("VH", vehicle_use_class="kei", class_vh=7)
    pd = [
        base("PD", coverages=replace(EXAMPLE_COVERAGES, property_damage=p))
        for p in ("30000000", "50000000", "unlimited")
    ]
    assert pd == sorted(pd) and pd[-1] == 28000 and len(set(pd)) == 3
    pi = [
        base("PI", coverages=replace(EXAMPLE_COVERAGES, personal_injury=p))
        for p in ("30000000", "50000000", "100000000", "unlimited")
    ]
    assert pi == sorted(pi) and pi[1] == 18000 and len(set(pi)) == 4
    economy = quote(example_input(coverages=replace(EXAMPLE_COVERAGES, vehicle_cover="economy")))
    assert premiums(economy)["VH"] < 31700


def test_without_vehicle_cover_there_is_no_vehicle_line():
    cover = Coverages("50000000", "unlimited", "none", "", ())
    q = quote(example_input(coverages=cover, vehicle_value=0))
    assert [line.code for line in q.lines] == ["BI", "PD", "PI"]
    assert q.annual_premium == 12790 + 14910 + 9590


def test_inputs_the_tables_cannot_price_are_refused():
    with pytest.raises(RatingError):
        quote(example_input(vehicle_use_class="kei", class_bi=8))  # kei has classes 1–7
    with pytest.raises(RatingError):
        quote(example_input(vehicle_value=0))
    with pytest.raises(RatingError):
        quote(example_input(coverages=replace(EXAMPLE_COVERAGES, property_damage="20000000")))
    with pytest.raises(RatingError):
        quote(example_input(coverages=replace(EXAMPLE_COVERAGES, riders=("legal", "pet"))))


def test_price_at_a_given_grade_applies_no_transition():
    inp = example_input()
    tables = tables_for(inp.start)
    assert price(inp, grade=9, coef_period=4, tables=tables).annual_premium == 71720
    assert price(inp, grade=14, coef_period=0, tables=tables).annual_premium == 43090


def test_a_quote_never_changes_without_an_input_change_and_serialises_to_json():
    first, second = quote(example_input()), quote(example_input())
    assert first == second
    data = json.loads(first.to_json())
    assert data["annual_premium"] == 71720 and data["grade_rate"] == "-0.18"
    assert data["grade_rate_percent"] == "−18%"
    assert data["lines"][0]["factors"][0] == {"code": "grade", "label": "等級", "value": "0.82"}
    assert data["installments"][0] == 5984
