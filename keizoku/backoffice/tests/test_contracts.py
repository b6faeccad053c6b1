"""Contract search (policy number, kanji, kana of either width, phone) and the contract detail."""

import re

import pytest

from keizoku.core.models import AuditEvent
from keizoku.notifications.services import mail_queue
from tests.factories import make_contract

from .conftest import login_staff, make_application

pytestmark = pytest.mark.django_db


def listed(html: str) -> list[str]:
    return sorted(re.findall(r'data-policy="([^"]+)"', html))


@pytest.fixture
def contracts(group, other_group):
    make_contract(group=group, policy_number="DM-0001")  # 継続 太郎 / ケイゾク タロウ, 03-1234-5678
    make_contract(
        group=group,
        policy_number="DM-0002",
        holder_name="髙橋 𠮷子",
        holder_kana="タカハシ ヨシコ",
        phone="+819012345678",
        email="",
    )
    make_contract(
        group=other_group,
        policy_number="OT-0001",
        holder_name="継続 次郎",
        holder_kana="ケイゾク ジロウ",
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("DM-0001", ["DM-0001"]),
        ("ｄｍ－０００２", ["DM-0002"]),  # full-width, as typed with the IME on
        ("dm0002", ["DM-0002"]),
        ("継続太郎", ["DM-0001"]),  # kanji, without the space
        ("継続　太郎", ["DM-0001"]),  # with an ideographic space
        ("髙橋", ["DM-0002"]),  # 髙 (itaiji) and 𠮷 (outside the BMP) are kept as typed
        ("𠮷子", ["DM-0002"]),
        ("ケイゾク タロウ", ["DM-0001"]),
        ("けいぞくたろう", ["DM-0001"]),  # hiragana
        ("ｹｲｿﾞｸ", ["DM-0001"]),  # half-width katakana
        ("ﾀｶﾊｼ ﾖｼｺ", ["DM-0002"]),
        ("03-1234-5678", ["DM-0001"]),
        ("０９０（１２３４）５６７８", ["DM-0002"]),
        ("09012345678", ["DM-0002"]),
        ("存在しない人", []),
    ],
)
def test_the_search_finds_contracts_however_they_are_typed(
    client, clerk, contracts, query, expected
):
    login_staff(client, clerk)
    response = client.get("/backoffice/contracts/", {"q": query})
    assert response.status_code == 200
    assert listed(response.content.decode()) == expected


def test_the_search_never_shows_another_agencys_contracts(client, clerk, contracts):
    login_staff(client, clerk)
    page = client.get("/backoffice/contracts/", {"q": "ケイゾク"}).content.decode()
    assert listed(page) == ["DM-0001"]  # not OT-0001, 継続 次郎
    assert "次郎" not in page


def test_an_insurer_admin_searches_every_agency(client, insurer_admin, contracts):
    login_staff(client, insurer_admin)
    page = client.get("/backoffice/contracts/", {"q": "けいぞく"}).content.decode()
    assert listed(page) == ["DM-0001", "OT-0001"]


@pytest.mark.parametrize("query", ["=cmd|' /C calc'!A0", "😀", "%_"])
def test_odd_queries_find_nothing_never_a_500(client, clerk, contracts, query):
    login_staff(client, clerk)
    response = client.get("/backoffice/contracts/", {"q": query})
    assert response.status_code == 200
    assert listed(response.content.decode()) == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("\x00", "使用できない文字（制御文字）が含まれています。"),
        ("\u202e", "使用できない文字（制御文字）が含まれています。"),
        ("a" * 101, "100 文字以下"),
    ],
)
def test_a_refused_query_says_why_and_lists_nothing(client, clerk, contracts, query, message):
    login_staff(client, clerk)
    response = client.get("/backoffice/contracts/", {"q": query})
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert listed(page) == []


def test_each_search_is_in_the_audit_trail(client, clerk, contracts):
    login_staff(client, clerk)
    client.get("/backoffice/contracts/", {"q": "けいぞく"})
    event = AuditEvent.objects.get(action="backoffice.contract_search")
    assert event.actor == clerk
    assert event.details["query"] == "けいぞく"
    assert event.details["results"] == 1


def test_the_detail_shows_history_member_masked_application_and_mails(
    client, clerk, contract, member
):
    application = make_application(contract, member, number="K-1111-2222-333")
    mail_queue(
        key=f"application-submitted:{application.pk}",
        kind="test",
        to=member.email,
        subject="お申し込みを受け付けました",
        body="本文",
    )
    login_staff(client, clerk)
    response = client.get(f"/backoffice/contracts/{contract.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "DM-0001" in page and "継続 太郎" in page
    assert "K-1111-2222-333" in page
    assert "t***@example.jp" in page  # the linked member, masked
    assert "taro@example.jp" not in page
    assert "お申し込みを受け付けました" in page  # the mails sent
    assert "03-1234-5678" in page
    event = AuditEvent.objects.get(action="backoffice.contract_viewed")
    assert event.object_id == str(contract.pk)


def test_another_agencys_contract_answers_404(client, clerk, other_contract):
    login_staff(client, clerk)
    assert client.get(f"/backoffice/contracts/{other_contract.pk}/").status_code == 404
