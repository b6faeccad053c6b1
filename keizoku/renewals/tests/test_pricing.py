"""The wizard's pricing adapter: quotes from contracts and answers, plans, eligibility, payment."""

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from keizoku.accounts.models import PolicyLink, User
from keizoku.renewals import pricing
from keizoku.renewals.models import Application
from tests.factories import make_agency, make_contract, make_group

pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")
# The worked example of RATING.md: grade 13, period 0, a 3-down, a 1-down and a no-count accident.
EXAMPLE = {"claims_3down": 1, "claims_1down": 1, "claims_nocount": 1}


def application_for(contract, *, linked: bool = True, answers: dict | None = None) -> Application:
    member = User.objects.create_user(
        email=f"{contract.policy_number.lower()}@example.jp", password="x9Lq2!zz", name="継続 太郎"
    )
    if linked:
        PolicyLink.objects.create(member=member, contract=contract)
    return Application.objects.create(
        contract=contract, member=member, period_start=contract.period_end, answers=answers or {}
    )


def inside_window(contract) -> datetime:
    return datetime.combine(contract.period_end - timedelta(days=10), datetime.min.time(), JST)


def test_the_worked_example_is_reproduced_to_the_yen():
    application = application_for(make_contract(**EXAMPLE))
    quote = pricing.application_quote(application)
    assert quote["plan"] == "same" and quote["plan_label"] == "前年同等プラン"
    assert (quote["current_grade"], quote["current_coef_period"]) == (13, 0)
    assert (quote["next_grade"], quote["coef_period"]) == (9, 4)
    assert quote["grade_rate"] == "-0.18" and quote["grade_rate_percent"] == "−18%"
    assert [(line["code"], line["base"], line["premium"]) for line in quote["lines"]] == [
        ("BI", 24000, 12790),
        ("PD", 28000, 14910),
        ("PI", 18000, 9590),
        ("VH", 70000, 31700),
        ("LEGAL", 2400, 1820),
        ("LIABILITY", 1200, 910),
    ]
    assert quote["annual_premium"] == 71720
    assert quote["installments"] == [5984] + [5976] * 11
    assert quote["payment_method"] == "payroll"
    bi = quote["lines"][0]
    assert bi["label"] == "対人賠償" and bi["limit_label"] == "無制限"
    assert [(f["label"], f["value"]) for f in bi["factors"]] == [
        ("等級", "0.82"),
        ("運転者年齢条件", "0.95"),
        ("運転者限定", "0.93"),
        ("使用目的", "1.10"),
        ("ゴールド免許割引", "0.88"),
        ("団体割引", "0.80"),
        ("団体扱割引", "0.95"),
    ]
    assert quote["lines"][3]["factors"][5] == {
        "code": "vehicle_cover",
        "label": "車両保険の種類・免責金額",
        "value": "0.85",
    }
    json.dumps(quote)  # stored as is in Application.quote


def test_without_accidents_the_same_choices_cost_43090():
    quote = pricing.application_quote(application_for(make_contract()))
    assert (quote["next_grade"], quote["coef_period"], quote["grade_rate_percent"]) == (
        14,
        0,
        "−52%",
    )
    assert quote["annual_premium"] == 43090


def test_the_explanation_adds_up_to_the_difference_from_last_year():
    contract = make_contract(annual_premium=69_000, **EXAMPLE)
    explanation = pricing.application_quote(application_for(contract))["explanation"]
    assert explanation["previous"] == 69_000 and explanation["new"] == 71_720
    assert explanation["difference"] == 2_720
    assert sum(part["amount"] for part in explanation["parts"]) == 2_720
    causes = {part["cause"]: part for part in explanation["parts"]}
    assert causes["grade"]["label"] == "等級の変更" and causes["grade"]["amount"] > 0
    assert causes["age"]["amount"] == causes["coverages"]["amount"] == 0


def test_the_projection_shows_five_years_with_and_without_this_years_accidents():
    projection = pricing.application_quote(application_for(make_contract(**EXAMPLE)))["projection"]
    assert [(r["year"], r["grade"], r["coef_period"]) for r in projection["with_accidents"]] == [
        (1, 9, 4),
        (2, 10, 3),
        (3, 11, 2),
        (4, 12, 1),
        (5, 13, 0),
    ]
    assert projection["with_accidents"][0]["rate_percent"] == "−18%"
    assert projection["without_accidents"][0] == {
        "year": 1,
        "grade": 14,
        "coef_period": 0,
        "rate": "-0.52",
        "rate_percent": "−52%",
    }
    assert projection["without_accidents"][4]["grade"] == 18
    assert projection["premium_without_accidents"] == 43090  # RATING.md's comparison


def test_the_answers_of_the_conditions_step_reprice():
    contract = make_contract()
    base = pricing.application_quote(application_for(contract))
    application = Application.objects.get(contract=contract)
    application.answers = {
        "conditions": {
            "age_condition": "26",
            "driver_scope": "self_spouse",
            "use": "commute",
            "gold_license": False,
            "same_vehicle": True,
        }
    }
    quote = pricing.application_quote(application)
    assert quote["conditions"]["age_condition"] == "26"
    assert quote["conditions"]["gold_license"] is False
    assert quote["annual_premium"] > base["annual_premium"]
    parts = {part["cause"]: part["amount"] for part in quote["explanation"]["parts"]}
    assert parts["age"] > 0 and parts["discounts"] > 0  # lost the gold licence discount


def test_web_delivery_takes_the_paperless_discount_as_its_own_line():
    contract = make_contract(paperless=False)
    paper = pricing.application_quote(application_for(contract))
    application = Application.objects.get(contract=contract)
    application.answers = {"delivery": {"delivery": "web"}}
    web = pricing.application_quote(application)
    assert web["paperless_discount"] == 500 and paper["paperless_discount"] == 0
    assert web["lines"][-1]["code"] == "PAPERLESS" and web["lines"][-1]["label"] == "Web証券割引"
    assert web["annual_premium"] == paper["annual_premium"] - 500
    assert sum(line["premium"] for line in web["lines"]) == web["annual_premium"]


def test_retirees_pay_annually_and_keep_the_group_discount_only_if_the_group_says_so():
    agency = make_agency()
    keeps = make_contract(group=make_group(agency, code="G-KEEP"), member_type="retiree")
    loses = make_contract(
        group=make_group(agency, code="G-LOSE", retiree_keeps_discount=False),
        member_type="retiree",
        policy_number="P-0002",
    )
    employee = pricing.application_quote(
        application_for(
            make_contract(group=make_group(agency, code="G-EMP"), policy_number="P-0003")
        )
    )
    kept = pricing.application_quote(application_for(keeps))
    lost = pricing.application_quote(application_for(loses))
    assert pricing.payment_method(Application.objects.get(contract=keeps)) == "transfer"
    assert kept["payment_method"] == "transfer"
    assert kept["installments"] == [kept["annual_premium"]]
    assert kept["annual_premium"] == employee["annual_premium"] == 43090
    assert all(f["code"] not in ("group", "collection") for f in lost["lines"][0]["factors"])
    assert lost["annual_premium"] > kept["annual_premium"]


def test_the_plans_side_by_side_and_a_refused_custom_combination():
    contract = make_contract(
        riders="liability",
        personal_injury="30000000",
        deductible="0-10",
        property_damage="30000000",
    )
    application = application_for(contract)
    same = pricing.coverages_of(application, "same")
    recommended = pricing.coverages_of(application, "recommended")
    assert same == {
        "personal_injury": "30000000",
        "property_damage": "30000000",
        "vehicle_cover": "general",
        "deductible": "0-10",
        "riders": ["liability"],
    }
    assert recommended == {
        "personal_injury": "50000000",
        "property_damage": "unlimited",
        "vehicle_cover": "general",
        "deductible": "5-10",
        "riders": ["legal", "liability"],
    }
    custom = {**same, "vehicle_cover": "none", "deductible": "", "riders": []}
    quotes = pricing.plan_quotes(application, custom=custom)
    assert quotes["same"]["plan_label"] == "前年同等プラン"
    assert quotes["recommended"]["plan_label"] == "おすすめプラン"
    assert quotes["custom"]["plan_label"] == "カスタマイズ"
    assert quotes["custom"]["coverages"] == custom
    assert [line["code"] for line in quotes["custom"]["lines"]] == ["BI", "PD", "PI"]
    assert quotes["custom"]["annual_premium"] < quotes["same"]["annual_premium"]
    refused = pricing.plan_quotes(application, custom={**same, "deductible": ""})
    assert refused["custom"] == "車両保険を付ける場合は、免責金額を選択してください。"
    assert isinstance(refused["same"], dict)
    # The live re-pricing of the custom plan prices only that plan, to the same figures.
    alone = pricing.plan_quotes(application, custom=custom, plans_shown=("custom",))
    assert list(alone) == ["custom"]
    assert alone["custom"] == quotes["custom"]


def test_a_vehicle_cover_cannot_be_added_online_without_a_vehicle_value():
    contract = make_contract(vehicle_cover="none", vehicle_value=0, deductible="")
    application = application_for(contract)
    custom = {
        **pricing.coverages_of(application, "same"),
        "vehicle_cover": "general",
        "deductible": "5-10",
    }
    reason = pricing.plan_quotes(application, custom=custom)["custom"]
    assert "車両保険の追加は代理店でのお手続き" in reason


def test_the_chosen_custom_plan_is_the_one_quoted():
    contract = make_contract()
    coverages = {
        "personal_injury": "unlimited",
        "property_damage": "unlimited",
        "vehicle_cover": "economy",
        "deductible": "10-10",
        "riders": ["family_bike", "legal", "road"],
    }
    application = application_for(
        contract, answers={"plan": {"plan": "custom", "coverages": coverages, "custom": coverages}}
    )
    quote = pricing.application_quote(application)
    assert quote["plan"] == "custom" and quote["coverages"] == coverages
    assert [line["code"] for line in quote["lines"]] == [
        "BI",
        "PD",
        "PI",
        "VH",
        "LEGAL",
        "FAMILY_BIKE",
        "ROAD",
    ]
    assert quote["lines"][2]["limit_label"] == "無制限"
    assert quote["lines"][3]["limit_label"] == "200万円（エコノミー・免責10-10万円）"


def test_coverages_from_form_normalises():
    assert pricing.coverages_from_form(
        {
            "personal_injury": "50000000",
            "property_damage": "unlimited",
            "vehicle_cover": "none",
            "deductible": "5-10",
            "riders": ["road", "legal", "road"],
        }
    ) == {
        "personal_injury": "50000000",
        "property_damage": "unlimited",
        "vehicle_cover": "none",
        "deductible": "",
        "riders": ["legal", "road"],
    }


def test_an_eligible_application_has_no_reason():
    contract = make_contract()
    application = application_for(contract)
    assert pricing.eligibility_reasons(application, now=inside_window(contract)) == []


def test_every_ineligibility_reason_is_given_in_japanese():
    contract = make_contract(
        open_claim=True,
        midterm_change_pending=True,
        member_type="retiree",
        birth_date=date(1950, 1, 1),
    )
    application = application_for(contract, linked=False)
    before = datetime.combine(contract.period_end - timedelta(days=61), datetime.min.time(), JST)
    reasons = pricing.eligibility_reasons(application, now=before)
    assert [reason["code"] for reason in reasons] == [
        "not_linked",
        "outside_window",
        "open_claim",
        "midterm_change",
        "retiree_age",
    ]
    assert all(reason["text"].endswith("。") for reason in reasons)
    assert "75歳以上" in reasons[-1]["text"]


def test_an_open_claim_is_quoted_as_if_paid_and_makes_the_renewal_ineligible():
    # No paid accident, one claim still open: quoted as one 3-down accident (13 → 10, period 3).
    quote = pricing.application_quote(application_for(make_contract(open_claim=True)))
    assert (quote["next_grade"], quote["coef_period"], quote["grade_rate_percent"]) == (
        10,
        3,
        "−19%",
    )
    assert quote["annual_premium"] == 70860
    assert quote["projection"]["premium_without_accidents"] == 43090
    assert quote["eligible"] is False
    assert [reason["code"] for reason in quote["reasons"]] == ["open_claim"]


def test_a_retiree_turning_75_on_the_new_start_is_referred_but_not_the_day_before():
    contract = make_contract(member_type="retiree")
    start = contract.period_end
    contract.birth_date = date(start.year - 75, start.month, start.day)
    contract.save()
    application = application_for(contract)
    now = inside_window(contract)
    assert [r["code"] for r in pricing.eligibility_reasons(application, now=now)] == ["retiree_age"]
    contract.birth_date = contract.birth_date + timedelta(days=1)
    contract.save()
    assert pricing.eligibility_reasons(application, now=now) == []


def test_contract_quote_prices_the_contract_on_its_own_values():
    contract = make_contract(**EXAMPLE)
    quote = pricing.contract_quote(contract, plan="recommended", now=inside_window(contract))
    assert quote["plan"] == "recommended" and quote["annual_premium"] == 71720
    assert quote["eligible"] is False and quote["reasons"][0]["code"] == "not_linked"
    assert quote["table_version"] == "giroj-grade-2023+illustrative-factors-2025"
    assert Decimal(quote["grade_rate"]) == Decimal("-0.18")
