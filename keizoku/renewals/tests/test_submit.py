"""【申し込む】 once: re-authentication, the 受付番号, the mail, the PDF, and every way of submitting twice."""

import re
import subprocess
import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client

from keizoku.accounts.models import PolicyLink
from keizoku.notifications.models import OutboundMail
from keizoku.renewals.models import Application
from tests.factories import make_contract

from .conftest import PASSWORD, STEP_DATA, login, step_url, walk

JST = ZoneInfo("Asia/Tokyo")
NUMBER = re.compile(r"K-\d{4}-\d{4}-\d{3}")


def confirm_form(client, contract) -> dict:
    html = client.get(step_url(contract, "confirm")).content.decode()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)
    return {"intent": "on", "idempotency_key": key}


@pytest.mark.django_db
def test_the_final_confirmation_shows_everything_with_a_fix_link_per_section(
    client, member, contract
):
    walk(client, contract)
    html = client.get(step_url(contract, "confirm")).content.decode()
    assert "お申込内容の最終確認" in html
    assert html.count(">修正する<") == 5
    assert "申込内容が意向に沿っていることを確認しました" in html
    assert ">申し込む</button>" in html
    assert "前年同等プラン" in html and "Web証券・Web約款" in html


@pytest.mark.django_db
def test_the_intent_checkbox_is_required(client, member, contract):
    walk(client, contract)
    data = confirm_form(client, contract)
    del data["intent"]
    response = client.post(step_url(contract, "confirm"), data)
    assert response.status_code == 400
    assert "申込内容が意向に沿っていることをご確認ください。" in response.content.decode()
    assert Application.objects.get().acceptance_number is None


@pytest.mark.django_db
def test_submitting_completes_with_an_acceptance_number_and_one_mail(client, member, contract):
    walk(client, contract)
    response = client.post(step_url(contract, "confirm"), confirm_form(client, contract))
    assert response["Location"] == f"/clickar/{contract.pk}/complete/"
    application = Application.objects.get()
    assert application.status == "submitted"
    assert NUMBER.fullmatch(application.acceptance_number)
    html = client.get(response["Location"]).content.decode()
    assert "お申込み完了" in html and application.acceptance_number in html
    assert "申込内容控え（PDF）" in html
    mails = OutboundMail.objects.filter(kind="application_submitted")
    assert mails.count() == 1
    mail = mails.get()
    assert mail.to == member.email
    assert application.acceptance_number in mail.subject
    assert f"{application.annual_premium:,}円" in mail.body


@pytest.mark.django_db
def test_an_old_login_must_reauthenticate_before_submitting(client, member, contract):
    walk(client, contract)
    data = confirm_form(client, contract)
    with time_machine.travel(datetime.now(tz=JST) + timedelta(minutes=6)):
        response = client.post(step_url(contract, "confirm"), data)
        assert response.status_code == 302
        assert response["Location"].startswith("/mypage/reauthenticate/")
        assert Application.objects.get().acceptance_number is None
        response = client.post(response["Location"], {"password": PASSWORD})
        assert response["Location"] == step_url(contract, "confirm")
        response = client.post(step_url(contract, "confirm"), data)
    assert response["Location"] == f"/clickar/{contract.pk}/complete/"
    assert Application.objects.get().status == "submitted"


@pytest.mark.django_db
def test_a_reload_the_back_button_and_a_second_tab_show_the_same_acceptance_number(
    client, member, contract
):
    walk(client, contract)
    first_tab = confirm_form(client, contract)
    second_tab = confirm_form(client, contract)
    client.post(step_url(contract, "confirm"), first_tab)
    number = Application.objects.get().acceptance_number
    # Reload of the POST (same key), the back button then 【申し込む】 again, the second tab.
    for data in (first_tab, first_tab, second_tab):
        response = client.post(step_url(contract, "confirm"), data)
        assert response["Location"] == f"/clickar/{contract.pk}/complete/"
    assert client.get(step_url(contract, "confirm"))["Location"].endswith("/complete/")
    assert Application.objects.count() == 1
    assert Application.objects.get().acceptance_number == number
    assert OutboundMail.objects.filter(kind="application_submitted").count() == 1
    assert number in client.get(f"/clickar/{contract.pk}/complete/").content.decode()


@pytest.mark.django_db
def test_a_declaration_answered_yes_submits_but_refers_to_the_agency(client, member, contract):
    overrides = {"declarations": {"other_insurance": "yes"}}
    walk(client, contract, overrides=overrides)
    client.post(step_url(contract, "confirm"), confirm_form(client, contract))
    application = Application.objects.get()
    assert application.status == "referred" and application.acceptance_number
    assert [r["code"] for r in application.referral_reasons] == ["other_insurance"]
    html = client.get(f"/clickar/{contract.pk}/complete/").content.decode()
    assert "代理店がお申込内容を確認してからお手続きを進めます" in html


@pytest.mark.django_db
def test_submitting_after_1559_jst_on_the_expiry_day_is_refused(client, member, contract):
    walk(client, contract)
    data = confirm_form(client, contract)
    closing = datetime.combine(contract.period_end, time(15, 59), tzinfo=JST)
    with time_machine.travel(closing, tick=False):
        login(client, member)
        response = client.post(step_url(contract, "confirm"), data)
    assert response.status_code == 410
    assert Application.objects.get().acceptance_number is None
    assert not OutboundMail.objects.filter(kind="application_submitted").exists()


@pytest.mark.django_db
def test_the_receipt_pdf_holds_the_acceptance_number_and_the_premium(
    client, member, contract, tmp_path
):
    walk(client, contract)
    client.post(step_url(contract, "confirm"), confirm_form(client, contract))
    application = Application.objects.get()
    response = client.get(f"/clickar/{contract.pk}/moushikomi.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = tmp_path / "receipt.pdf"
    pdf.write_bytes(b"".join(response.streaming_content))
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert application.acceptance_number in text
    assert f"{application.annual_premium:,}円" in text
    assert "申込内容控え" in text and contract.policy_number in text
    fonts = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, check=True, text=True
    ).stdout
    assert "Noto-Sans-CJK-JP" in fonts and "Serif" not in fonts
    assert all(" yes " in line for line in fonts.splitlines()[2:])  # every font embedded
    # The MyPage top links to the same receipt.
    assert f"/clickar/{contract.pk}/moushikomi.pdf" in client.get("/mypage/").content.decode()


@pytest.mark.django_db
def test_there_is_no_pdf_before_submitting(client, member, contract):
    walk(client, contract)
    assert client.get(f"/clickar/{contract.pk}/moushikomi.pdf").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_posts_make_exactly_one_application(client, member, contract):
    walk(client, contract)
    tabs = [confirm_form(client, contract) for _ in range(4)]
    cookies = client.cookies
    results: list[str] = []
    errors: list[BaseException] = []

    def press(data):
        try:
            other = Client()
            other.cookies = cookies
            response = other.post(step_url(contract, "confirm"), data)
            results.append(response["Location"])
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=press, args=(tabs[i % 4],)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert results == [f"/clickar/{contract.pk}/complete/"] * 20
    assert Application.objects.count() == 1
    assert Application.objects.exclude(acceptance_number=None).count() == 1
    assert OutboundMail.objects.filter(kind="application_submitted").count() == 1


@pytest.mark.django_db
def test_the_renewable_list_shows_the_status_once_applied(client, member, contract):
    walk(client, contract)
    client.post(step_url(contract, "confirm"), confirm_form(client, contract))
    number = Application.objects.get().acceptance_number
    html = client.get("/mypage/renewals/").content.decode()
    assert "申込済み" in html and number in html
    assert "契約の更改" not in html and "手続きを再開" not in html


@pytest.mark.django_db
def test_another_members_idempotency_key_reveals_nothing_of_their_application(
    client, member, contract, other_member
):
    other = Client()
    login(other, other_member)
    theirs = other_member.policy_links.get().contract
    walk(other, theirs)
    other.post(step_url(theirs, "confirm"), stolen := confirm_form(other, theirs))
    their_number = Application.objects.get(contract=theirs).acceptance_number

    walk(client, contract)
    response = client.post(step_url(contract, "confirm"), stolen)

    # The key belongs to an application: on mine it submits mine, and nothing of theirs shows.
    assert response["Location"] == f"/clickar/{contract.pk}/complete/"
    html = client.get(response["Location"]).content.decode()
    assert their_number not in html
    mine = Application.objects.get(contract=contract)
    assert mine.status == Application.Status.SUBMITTED
    assert mine.acceptance_number not in (None, their_number)
    assert Application.objects.get(contract=theirs).acceptance_number == their_number


@pytest.mark.django_db
def test_the_same_key_on_two_applications_submits_both_and_a_replay_changes_nothing(
    client, member, contract
):
    second = make_contract(group=contract.group, policy_number="P-0002")
    PolicyLink.objects.create(member=member, contract=second)
    walk(client, contract)
    walk(client, second)
    data = confirm_form(client, contract)

    first = client.post(step_url(contract, "confirm"), data)
    other = client.post(step_url(second, "confirm"), data)  # the same key, another application

    assert first["Location"] == f"/clickar/{contract.pk}/complete/"
    assert other["Location"] == f"/clickar/{second.pk}/complete/"
    one, two = (Application.objects.get(contract=c) for c in (contract, second))
    assert one.status == two.status == Application.Status.SUBMITTED
    assert one.acceptance_number != two.acceptance_number
    assert two.acceptance_number in client.get(other["Location"]).content.decode()
    # A replay of the same POST on the first application returns the first result.
    replay = client.post(step_url(contract, "confirm"), data)
    assert replay["Location"] == f"/clickar/{contract.pk}/complete/"
    assert Application.objects.get(pk=one.pk).acceptance_number == one.acceptance_number
    assert Application.objects.get(pk=one.pk).version == one.version
    assert OutboundMail.objects.filter(kind="application_submitted").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("slug", "data"),
    [
        ("plan", {"plan": "platinum"}),
        ("delivery", {"delivery": "fax"}),
        ("conditions", {**STEP_DATA["conditions"], "age_condition": "18"}),
    ],
)
def test_a_tampered_choice_is_refused_in_japanese_and_nothing_is_saved(
    client, member, contract, slug, data
):
    walk(client, contract, until=slug)
    before = Application.objects.get(contract=contract)
    response = client.post(step_url(contract, slug), data)
    assert response.status_code == 400
    assert "正しく選択してください" in response.content.decode()
    after = Application.objects.get(contract=contract)
    assert slug not in after.completed_steps
    assert (after.answers, after.quote, after.version) == (
        before.answers,
        before.quote,
        before.version,
    )
