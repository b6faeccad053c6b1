"""Clickar, steps 10–21 through HTTP: order, server-side state and prices, referrals, the window."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from keizoku.accounts.models import PolicyLink
from keizoku.core.models import AuditEvent
from keizoku.renewals import steps
from keizoku.renewals.models import Application
from tests.factories import make_contract

from .conftest import STEP_DATA, login, make_member, step_url, walk

pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")


def application_of(contract) -> Application:
    return Application.objects.get(contract=contract)


def test_the_wizard_requires_login(client, contract):
    response = client.get(f"/clickar/{contract.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/mypage/login/")


def test_the_start_creates_one_draft_and_opens_the_consent_step(client, member, contract):
    response = client.get(f"/clickar/{contract.pk}/")
    assert response["Location"] == step_url(contract, "consent")
    client.get(f"/clickar/{contract.pk}/")
    application = application_of(contract)
    assert application.status == "draft" and application.period_start == contract.period_end
    page = client.get(step_url(contract, "consent")).content.decode()
    assert "個人情報の取扱いについて" in page and "同意する" in page and "次へ" in page
    assert "戻る" in page


def test_consent_is_required_and_the_refusal_is_in_japanese(client, member, contract):
    client.get(f"/clickar/{contract.pk}/")
    response = client.post(step_url(contract, "consent"), {})
    assert response.status_code == 400
    assert "個人情報の取扱いに同意いただく必要があります。" in response.content.decode()
    assert application_of(contract).completed_steps == []


@pytest.mark.parametrize("slug", ["notes", "plan", "premium", "confirm"])
def test_a_later_step_cannot_be_reached_by_typing_its_url(client, member, contract, slug):
    client.get(f"/clickar/{contract.pk}/")
    response = client.get(step_url(contract, slug))
    assert response.status_code == 302 and response["Location"] == step_url(contract, "consent")
    response = client.post(step_url(contract, slug), STEP_DATA.get(slug, {}))
    assert response["Location"] == step_url(contract, "consent")
    assert application_of(contract).completed_steps == []


def test_an_unknown_step_is_a_404(client, member, contract):
    client.get(f"/clickar/{contract.pk}/")
    assert client.get(step_url(contract, "payment-now")).status_code == 404


def test_resume_returns_to_the_first_incomplete_step(client, member, contract):
    walk(client, contract, until="plan")
    response = client.get(f"/clickar/{contract.pk}/")
    assert response["Location"] == step_url(contract, "plan")
    assert "手続きを再開" in client.get("/mypage/renewals/").content.decode()


def test_every_step_shows_its_guide_label(client, member, contract):
    walk(client, contract, until="confirm")
    labels = {
        "consent": "個人情報の取扱いについて",
        "notes": "ご利用にあたっての注意事項",
        "disclosure": "重要事項説明書の確認",
        "current": "現在のご契約内容",
        "conditions": "ご契約条件の確認",
        "plan": "補償内容の選択",
        "premium": "保険料の確認",
        "declarations": "告知事項の確認",
        "payment": "お支払方法",
        "delivery": "証券・約款の受け取り方法",
        "confirm": "お申込内容の最終確認",
    }
    for slug, label in labels.items():
        response = client.get(step_url(contract, slug))
        assert response.status_code == 200, slug
        assert f"<h1>{label}</h1>" in response.content.decode(), slug


def test_the_step_bar_names_every_step_and_tells_where_the_customer_is(client, member, contract):
    walk(client, contract, until="plan")
    html = client.get(step_url(contract, "plan")).content.decode()
    bar = re.search(r'<nav class="progress".*?</nav>', html, re.S).group()
    items = re.findall(r"<li.*?</li>", bar, re.S)
    assert len(items) == len(steps.STEPS) == 11
    for item, step in zip(items, steps.STEPS, strict=True):
        assert f'<span class="progress__title">{step.title}</span>' in item
        assert f"{step.number}</span>" in item
    # 15 is the current step, for eyes and for screen readers; 10–14 are done; 16–20 are not.
    [current] = [item for item in items if 'aria-current="step"' in item]
    assert "補償内容の選択" in current and "（現在の手順）" in current
    assert all("（完了）" in item for item in items[:5])
    assert not any("（完了）" in item for item in items[5:])
    # Above the bar: 「手順 15／20 補償内容の選択」, and "step 15 of 20" in words for screen readers.
    now = re.search(r'<p class="progress__now".*?</p>', bar, re.S).group()
    assert re.sub(r"<[^>]+>", "", now).startswith("手順 15／20")
    assert '<span aria-hidden="true">手順 15／20</span>' in now
    assert '<span class="visually-hidden">全20手順のうち手順15</span>' in now
    assert '<span class="progress__now-title">補償内容の選択</span>' in now


def test_the_current_contract_is_shown_as_it_stands(client, member, contract):
    walk(client, contract, until="current")
    html = client.get(step_url(contract, "current")).content.decode()
    for text in ["13等級", "35歳以上補償", "本人・配偶者限定", "弁護士費用特約", "71,720円"]:
        assert text in html


def test_the_plan_step_shows_three_plans_side_by_side_each_with_a_premium(client, group):
    thin = make_contract(group=group, policy_number="P-0003", personal_injury="30000000")
    user = make_member("thin@example.jp")
    PolicyLink.objects.create(member=user, contract=thin)
    login(client, user)
    walk(client, thin, until="plan")
    html = client.get(step_url(thin, "plan")).content.decode()
    for label in ["前年同等プラン", "おすすめプラン", "カスタマイズ"]:
        assert label in html
    assert html.count('class="price"') == 3


def test_the_custom_plan_reprices_live_with_htmx(client, member, contract):
    walk(client, contract, until="plan")
    data = {
        "plan": "custom",
        "custom-personal_injury": "unlimited",
        "custom-property_damage": "unlimited",
        "custom-vehicle_cover": "none",
        "custom-deductible": "",
        "custom-riders": ["legal"],
    }
    response = client.post(step_url(contract, "plan"), data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    fragment = response.content.decode()
    assert 'id="custom-premium"' in fragment and "円" in fragment and "<html" not in fragment
    assert application_of(contract).completed_steps.count("plan") == 0


def test_the_custom_plan_reprices_without_javascript(client, member, contract):
    walk(client, contract, until="plan")
    data = {
        "plan": "custom",
        "reprice": "1",
        "custom-personal_injury": "30000000",
        "custom-property_damage": "unlimited",
        "custom-vehicle_cover": "none",
        "custom-deductible": "",
    }
    response = client.post(step_url(contract, "plan"), data)
    assert response.status_code == 200
    assert "補償内容の選択" in response.content.decode()
    assert "plan" not in application_of(contract).completed_steps


def test_an_invalid_custom_combination_is_refused_with_a_reason(client, member, contract):
    walk(client, contract, until="plan")
    data = {
        "plan": "custom",
        "custom-personal_injury": "30000000",
        "custom-property_damage": "unlimited",
        "custom-vehicle_cover": "general",
        "custom-deductible": "",
    }
    response = client.post(step_url(contract, "plan"), data)
    assert response.status_code == 400
    assert "免責" in response.content.decode()
    assert "plan" not in application_of(contract).completed_steps


def test_a_posted_premium_is_ignored_and_recomputed_on_the_server(client, member, contract):
    walk(client, contract, until="premium")
    client.post(step_url(contract, "premium"), {"annual_premium": "1", "quote": "1"})
    application = application_of(contract)
    assert application.quote["annual_premium"] > 1000
    assert application.annual_premium == application.quote["annual_premium"]
    assert sum(application.quote["installments"]) == application.annual_premium


def test_the_premium_step_explains_the_change_and_projects_five_years(client, member, contract):
    walk(client, contract, until="premium")
    html = client.get(step_url(contract, "premium")).content.decode()
    assert "14等級" in html  # grade 13 with no accident → 14
    assert "毎月の給与天引き額" in html
    assert "昨年の年間保険料" in html
    assert "5年後" in html
    assert "今回の事故がなかった場合、継続後の年間保険料は" not in html  # no accident this year


def test_after_an_accident_the_premium_step_shows_the_premium_without_it(client, group):
    contract = make_contract(group=group, policy_number="P-0002", claims_3down=1)
    user = make_member("accident@example.jp")
    PolicyLink.objects.create(member=user, contract=contract)
    login(client, user)
    walk(client, contract, until="declarations")  # the quote is stored when 16 is confirmed
    html = client.get(step_url(contract, "premium")).content.decode()
    quote = application_of(contract).quote
    without = quote["projection"]["premium_without_accidents"]
    assert without < quote["annual_premium"]
    assert f"今回の事故がなかった場合、継続後の年間保険料は {without:,}円 でした。" in html


def test_declarations_have_nothing_preselected_and_all_must_be_answered(client, member, contract):
    walk(client, contract, until="declarations")
    html = client.get(step_url(contract, "declarations")).content.decode()
    assert "checked" not in html
    assert html.count('value="yes"') == 5 and html.count('value="no"') == 5
    response = client.post(step_url(contract, "declarations"), {"other_insurance": "no"})
    assert response.status_code == 400
    assert "「はい」または「いいえ」を選択してください。" in response.content.decode()


def test_retirees_pay_annually_by_transfer(client, group):
    retiree_contract = make_contract(
        group=group,
        policy_number="P-0200",
        member_type="retiree",
        birth_date=datetime(1955, 6, 1).date(),
    )
    user = make_member("retiree@example.jp")
    PolicyLink.objects.create(member=user, contract=retiree_contract)
    login(client, user)
    walk(client, retiree_contract, until="payment")
    html = client.get(step_url(retiree_contract, "payment")).content.decode()
    assert "口座振替（年払い）" in html and "給与天引き" not in html
    client.post(step_url(retiree_contract, "payment"), {"confirmed": "on"})
    application = application_of(retiree_contract)
    assert application.answers["payment"]["method"] == "transfer"
    assert application.quote["installments"] == [application.quote["annual_premium"]]


def test_an_ineligible_policy_ends_at_the_notes_with_the_agency_contact(client, group):
    blocked = make_contract(group=group, policy_number="P-0300", open_claim=True)
    user = make_member("claim@example.jp")
    PolicyLink.objects.create(member=user, contract=blocked)
    login(client, user)
    client.get(f"/clickar/{blocked.pk}/")
    client.post(step_url(blocked, "consent"), {"agree": "on"})
    html = client.get(step_url(blocked, "notes")).content.decode()
    assert "このご契約はWEBでは継続手続きができません" in html
    assert group.agency.contact_phone in html
    # Flagged once shown, even if the customer closes the page here.
    assert application_of(blocked).status == "referred"
    response = client.post(step_url(blocked, "notes"), {})
    assert response["Location"] == f"/clickar/{blocked.pk}/referred/"
    application = application_of(blocked)
    assert application.status == "referred"
    assert [r["code"] for r in application.referral_reasons] == ["open_claim"]
    page = client.get(response["Location"]).content.decode()
    assert "代理店でのお手続きになります" in page and group.agency.contact_phone in page
    # The flagged case cannot be continued online by typing a URL.
    assert client.get(step_url(blocked, "disclosure"))["Location"].endswith("/referred/")
    assert AuditEvent.objects.filter(action="application.status").exists()


def test_a_vehicle_change_refers_the_application_to_the_agency(client, member, contract):
    walk(client, contract, until="conditions")
    data = {**STEP_DATA["conditions"], "same_vehicle": "no"}
    response = client.post(step_url(contract, "conditions"), data)
    assert response["Location"].endswith("/referred/")
    assert application_of(contract).status == "referred"


def test_a_changed_condition_reprices_and_must_be_confirmed_again(client, member, contract):
    walk(client, contract, until="confirm")
    before = application_of(contract).quote["annual_premium"]
    data = {**STEP_DATA["conditions"], "age_condition": "all"}
    client.post(step_url(contract, "conditions") + "?return=confirm", data)
    application = application_of(contract)
    assert "plan" not in application.completed_steps
    walk_rest = ["plan", "premium"]
    for slug in walk_rest:
        client.post(step_url(contract, slug), STEP_DATA[slug])
    after = application_of(contract).quote["annual_premium"]
    assert after > before  # 全年齢補償 costs more than 35歳以上


def test_another_members_application_answers_404(client, member, contract, other_member):
    walk(client, contract, until="plan")
    client.logout()
    login(client, other_member)
    for url in [
        f"/clickar/{contract.pk}/",
        step_url(contract, "consent"),
        f"/clickar/{contract.pk}/complete/",
        f"/clickar/{contract.pk}/moushikomi.pdf",
        f"/clickar/{contract.pk}/referred/",
    ]:
        assert client.get(url).status_code == 404, url
    assert client.post(step_url(contract, "plan"), {"plan": "same"}).status_code == 404


def test_the_wizard_refuses_after_the_window_closes_at_1559_jst(client, member, contract):
    walk(client, contract, until="confirm")
    closing = datetime.combine(contract.period_end, time(15, 59), tzinfo=JST)
    with time_machine.travel(closing - timedelta(seconds=1), tick=False):
        login(client, member)  # the session of 30 days ago has long expired
        assert client.get(step_url(contract, "confirm")).status_code == 200
    with time_machine.travel(closing, tick=False):
        login(client, member)
        response = client.get(step_url(contract, "confirm"))
        assert response.status_code == 410
        assert "受付期間が終了しました" in response.content.decode()


def test_a_staff_change_of_the_contract_invalidates_the_quote(client, member, contract):
    walk(client, contract, until="confirm")
    contract.version += 1
    contract.use = "business"
    contract.save()
    response = client.get(step_url(contract, "confirm"))
    assert response.status_code == 302
    application = application_of(contract)
    assert application.quote is None and "plan" not in application.completed_steps
    page = client.get(response["Location"], follow=True).content.decode()
    assert "ご契約内容が変更されたため" in page


def test_every_saved_step_is_in_the_audit_trail(client, member, contract):
    walk(client, contract, until="premium")
    steps = (
        AuditEvent.objects.filter(action="application.step_saved")
        .order_by("pk")
        .values_list("details", flat=True)
    )
    assert [d["step"] for d in steps] == [
        "consent",
        "notes",
        "disclosure",
        "current",
        "conditions",
        "plan",
    ]
