"""manage.py quote: the renewal quote of a policy printed as JSON."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.factories import make_contract

pytestmark = pytest.mark.django_db


def run(*args: str) -> dict:
    out = StringIO()
    call_command("quote", *args, stdout=out)
    return json.loads(out.getvalue())


def test_it_prints_the_worked_example_as_json():
    make_contract(policy_number="AB-1234", claims_3down=1, claims_1down=1, claims_nocount=1)
    quote = run("ab 1234")
    assert (quote["next_grade"], quote["coef_period"], quote["grade_rate"]) == (9, 4, "-0.18")
    assert quote["annual_premium"] == 71720
    assert quote["installments"] == [5984] + [5976] * 11
    assert [line["premium"] for line in quote["lines"]] == [12790, 14910, 9590, 31700, 1820, 910]
    assert (
        sum(part["amount"] for part in quote["explanation"]["parts"])
        == (quote["explanation"]["difference"])
    )
    assert quote["projection"]["premium_without_accidents"] == 43090
    assert quote["eligible"] is False
    assert [reason["code"] for reason in quote["reasons"]] == ["not_linked"]
    assert quote["table_version"] == "giroj-grade-2023+illustrative-factors-2025"


def test_it_prints_every_key_the_issue_asks_for():
    make_contract(policy_number="P-0001")
    quote = run("P-0001")
    for key in (
        "next_grade",
        "coef_period",
        "grade_rate",
        "annual_premium",
        "installments",
        "lines",
        "explanation",
        "eligible",
        "reasons",
    ):
        assert key in quote, key
    assert len(quote["installments"]) == 12 and sum(quote["installments"]) == 43090
    assert quote["lines"][0]["factors"][0] == {"code": "grade", "label": "等級", "value": "0.48"}


def test_an_open_claim_is_counted_and_referred_to_the_agency():
    make_contract(policy_number="P-0001", open_claim=True)
    quote = run("P-0001")
    assert (quote["next_grade"], quote["coef_period"], quote["annual_premium"]) == (10, 3, 70860)
    assert "open_claim" in [reason["code"] for reason in quote["reasons"]]


def test_the_recommended_plan_adds_the_legal_rider():
    make_contract(policy_number="P-0001", riders="")
    same, recommended = run("P-0001"), run("P-0001", "--plan", "recommended")
    assert recommended["plan"] == "recommended" and recommended["plan_label"] == "おすすめプラン"
    assert "LEGAL" not in [line["code"] for line in same["lines"]]
    assert "LEGAL" in [line["code"] for line in recommended["lines"]]
    assert recommended["annual_premium"] > same["annual_premium"]


def test_a_retiree_quote_has_one_annual_installment():
    make_contract(policy_number="P-0001", member_type="retiree")
    quote = run("P-0001")
    assert quote["installments"] == [quote["annual_premium"]]


def test_an_unknown_policy_fails_with_a_message():
    with pytest.raises(CommandError, match="unknown policy number"):
        call_command("quote", "P-404", stdout=StringIO())
