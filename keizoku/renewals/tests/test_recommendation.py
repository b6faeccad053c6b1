"""「補償内容の選択」 through HTTP: 「おすすめの理由」 for each change against last year, priced by the
rating engine; one card when last year's cover already meets the recommendation."""

import re

import pytest

from keizoku.accounts.models import PolicyLink
from keizoku.rating.plans import recommendation_changes
from keizoku.renewals import labels, pricing
from keizoku.renewals.models import Application
from tests.factories import make_contract

from .conftest import login, make_member, step_url, walk

pytestmark = pytest.mark.django_db

THIN = {
    "personal_injury": "30000000",
    "property_damage": "30000000",
    "deductible": "0-10",
    "riders": "liability",
}


def plan_page(client, contract) -> str:
    user = make_member(f"{contract.policy_number.lower()}@example.jp")
    PolicyLink.objects.create(member=user, contract=contract)
    login(client, user)
    walk(client, contract, until="plan")
    response = client.get(step_url(contract, "plan"))
    assert response.status_code == 200
    return response.content.decode()


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def reasons_of(html: str) -> str:
    """The text of the 「おすすめの理由」 section."""
    match = re.search(r'<section class="reasons".*?</section>', html, re.S)
    assert match, "no 「おすすめの理由」"
    return text_of(match.group())


def test_the_recommendation_lists_one_reason_per_change_with_its_monthly_cost(client, group):
    contract = make_contract(group=group, policy_number="P-0101", **THIN)
    html = plan_page(client, contract)
    reasons = reasons_of(html)
    assert "おすすめの理由" in reasons
    titles = [
        "弁護士費用特約を追加",
        "人身傷害を3,000万円から5,000万円に",
        "対物賠償を3,000万円から無制限に",
        "車両保険の免責金額を「1回目0万円・2回目以降10万円」から「1回目5万円・2回目以降10万円」に",
    ]
    positions = [reasons.index(title) for title in titles]
    assert positions == sorted(positions)  # in the engine's order
    assert "もらい事故" in reasons  # why, not only what
    # Each figure is the rating engine's: the change priced on the renewal's own situation.
    application = Application.objects.get(contract=contract)
    quotes = pricing.plan_quotes(application, custom=pricing.coverages_of(application, "same"))
    changes = labels.quote_shown(quotes["recommended"], vehicle_value=contract.vehicle_value)[
        "changes"
    ]
    assert [c["title"] for c in changes] == titles
    for change in changes:
        monthly = f"{change['monthly']:+,}円".replace("+0円", "0円")
        annual = f"{change['annual']:+,}円".replace("+0円", "0円")
        assert f"毎月の給与天引き {monthly}（年間 {annual}）" in reasons
    # ... and they add up to the difference between the two cards.
    same, recommended = quotes["same"], quotes["recommended"]
    assert sum(c["annual"] for c in changes) == (
        recommended["annual_premium"] - same["annual_premium"]
    )
    assert sum(c["monthly"] for c in changes) == (
        recommended["installments"][-1] - same["installments"][-1]
    )
    assert html.count('class="price"') == 3


def test_the_reasons_are_priced_for_this_customer_not_written_in(group):
    """Two customers, the same change, different grades: different figures on the page."""
    costs = []
    for number, grade in (("P-0201", 20), ("P-0202", 5)):
        contract = make_contract(group=group, policy_number=number, grade=grade, **THIN)
        application = Application(contract=contract, member=make_member(f"{number}@x.jp"))
        application.period_start = contract.period_end
        changes = pricing.plan_quotes(
            application, custom=pricing.coverages_of(application, "same")
        )["recommended"]["changes"]
        costs.append(next(c["annual"] for c in changes if c["code"] == "personal_injury"))
    assert costs[1] > costs[0] > 0


def test_a_retiree_sees_the_yearly_cost_first(client, group):
    contract = make_contract(group=group, policy_number="P-0301", member_type="retiree", **THIN)
    reasons = reasons_of(plan_page(client, contract))
    assert "毎月の給与天引き" not in reasons
    assert re.search(r"年間 \+[\d,]+円（1か月あたり \+[\d,]+円）", reasons)


def test_when_last_years_cover_meets_the_recommendation_one_card_says_so(client, contract):
    # The default contract already has 弁護士費用特約, 人身傷害 5,000万円, 対物 無制限, 免責 5-10.
    html = plan_page(client, contract)
    assert "現在のご契約の補償内容は、おすすめプランの内容をすでに満たしています。" in html
    assert html.count('class="price"') == 2  # 前年同等プラン (= おすすめプラン) and カスタマイズ
    assert 'value="recommended"' not in html
    assert "おすすめの理由" not in html
    for label in ["前年同等プラン", "おすすめプラン", "カスタマイズ"]:  # PRODUCT.md's three labels
        assert label in text_of(html)
    assert 'aria-describedby="plan-same-note"' in html


def test_choosing_the_one_card_moves_on_with_last_years_cover(client, contract):
    plan_page(client, contract)
    response = client.post(step_url(contract, "plan"), {"plan": "same"})
    assert response.status_code == 302 and response["Location"] == step_url(contract, "premium")
    application = Application.objects.get(contract=contract)
    assert application.answers["plan"]["plan"] == "same"


def test_the_engine_and_the_page_agree_with_the_plans_rule(group):
    """The reasons come from rating.plans: the page shows exactly recommendation_changes."""
    contract = make_contract(group=group, policy_number="P-0401", **THIN)
    application = Application(contract=contract, member=make_member("rule@x.jp"))
    application.period_start = contract.period_end
    shown = pricing.plan_quotes(application, custom=pricing.coverages_of(application, "same"))
    renewal = pricing._rating_input(
        contract,
        conditions=pricing._conditions(application),
        coverages=pricing._contract_coverages(contract),
        paperless=pricing._paperless(application),
    )
    expected = [change.as_dict() for change in recommendation_changes(renewal)]
    assert [
        {key: c[key] for key in ("code", "before", "after", "annual", "monthly")}
        for c in shown["recommended"]["changes"]
    ] == expected
