"""MyPage top (guide step 8), the renewable list (step 9), linking and unlinking policies."""

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from keizoku.accounts.models import PolicyLink, User
from keizoku.core.models import AuditEvent
from keizoku.notifications.models import OutboundMail
from tests.factories import make_contract, make_group

pytestmark = pytest.mark.django_db

JST = ZoneInfo("Asia/Tokyo")
MISMATCH = "ご入力の旧証券番号・住所・電話番号では、ご契約を確認できませんでした。"


@pytest.fixture
def group():
    return make_group(renewal_window_days=60)


@pytest.fixture
def member(client):
    user = User.objects.create_user(
        email="member@example.jp", password="x9Lq2!zz", name="継続 太郎"
    )
    client.force_login(user)
    return user


def link_form(**overrides):
    data = {
        "policy_number": "P-0002",
        "address": "東京都千代田区丸の内1-2-3",
        "phone": "03-1234-5678",
    }
    data.update(overrides)
    return data


def test_mypage_requires_login(client):
    response = client.get("/mypage/")
    assert response.status_code == 302 and response["Location"].startswith("/mypage/login/")


def test_the_top_page_lists_the_linked_policies_with_period_and_status(client, member, group):
    contract = make_contract(group=group, policy_number="P-0001")
    PolicyLink.objects.create(member=member, contract=contract)
    html = client.get("/mypage/").content.decode()
    assert "マイページトップ" in html
    assert ">自動車保険更改手続き</a>" in html
    assert "P-0001" in html
    assert (
        f"{contract.period_end.year}年{contract.period_end.month}月{contract.period_end.day}日"
        in html
    )
    assert "更改手続き受付中" in html
    assert "no-store" in client.get("/mypage/")["Cache-Control"]


def test_a_member_links_another_policy_and_gets_a_mail(client, member, group):
    make_contract(group=group, policy_number="P-0002")
    response = client.post(
        "/mypage/policies/link/", link_form(policy_number="p0002", phone="０３-１２３４-５６７８")
    )
    assert response.status_code == 302
    assert member.policy_links.get().contract.policy_number == "P-0002"
    mail = OutboundMail.objects.get(kind="policy_linked")
    assert mail.to == "member@example.jp" and "P-0002" in mail.body
    assert AuditEvent.objects.filter(action="policy.linked", actor=member).exists()


@pytest.mark.parametrize(
    "overrides",
    [
        {"policy_number": "P-9999"},
        {"address": "東京都千代田区丸の内1-2-4"},
        {"phone": "03-1234-0000"},
    ],
)
def test_every_linking_mismatch_gives_one_message(client, member, group, overrides):
    make_contract(group=group, policy_number="P-0002")
    response = client.post("/mypage/policies/link/", link_form(**overrides))
    assert response.status_code == 400
    assert response.content.decode().count(MISMATCH) == 1
    assert not PolicyLink.objects.exists()


def test_a_refused_link_names_the_agency_of_the_members_policies_as_the_way_out(
    client, member, group
):
    PolicyLink.objects.create(member=member, contract=make_contract(group=group))
    response = client.post("/mypage/policies/link/", link_form(policy_number="P-9999"))
    html = response.content.decode()
    assert response.status_code == 400 and MISMATCH in html
    agency = group.agency
    assert f"お問い合わせ先: {agency.name}（{agency.contact_phone}" in html


def test_a_policy_of_another_member_cannot_be_linked(client, member, group):
    contract = make_contract(group=group, policy_number="P-0002")
    other = User.objects.create_user(email="other@example.jp", password="x9Lq2!zz")
    PolicyLink.objects.create(member=other, contract=contract)
    response = client.post("/mypage/policies/link/", link_form())
    assert MISMATCH in response.content.decode()
    assert PolicyLink.objects.get().member == other


def test_a_sixth_policy_is_refused(client, member, group):
    for n in range(1, 6):
        PolicyLink.objects.create(
            member=member, contract=make_contract(group=group, policy_number=f"P-100{n}")
        )
    make_contract(group=group, policy_number="P-0002")
    response = client.post("/mypage/policies/link/", link_form())
    assert response.status_code == 400
    assert "5件まで" in response.content.decode()
    assert member.policy_links.count() == 5


def test_linking_attempts_are_limited_per_policy_number(client, member, group):
    make_contract(group=group, policy_number="P-0002")
    for _ in range(5):
        client.post("/mypage/policies/link/", link_form(phone="03-1234-0000"))
    response = client.post("/mypage/policies/link/", link_form())  # now right, but limited
    assert MISMATCH in response.content.decode()
    assert not PolicyLink.objects.exists()


def test_a_member_unlinks_a_policy(client, member, group):
    link = PolicyLink.objects.create(member=member, contract=make_contract(group=group))
    assert client.get(f"/mypage/policies/{link.pk}/unlink/").status_code == 405
    assert client.post(f"/mypage/policies/{link.pk}/unlink/").status_code == 302
    assert not PolicyLink.objects.exists()
    assert AuditEvent.objects.filter(action="policy.unlinked").exists()


def test_another_members_policy_id_answers_404_and_is_logged(client, member, group, caplog):
    other = User.objects.create_user(email="other@example.jp", password="x9Lq2!zz")
    link = PolicyLink.objects.create(member=other, contract=make_contract(group=group))
    with caplog.at_level(logging.WARNING, logger="keizoku.accounts.selectors"):
        response = client.post(f"/mypage/policies/{link.pk}/unlink/")
    assert response.status_code == 404
    assert PolicyLink.objects.filter(pk=link.pk).exists()
    assert "another member's policy link" in caplog.text
    assert client.post("/mypage/policies/999999/unlink/").status_code == 404


# --- the renewable list (step 9): the window in JST ------------------------------------------

EXPIRY = date(2027, 3, 31)


@pytest.fixture
def expiring(member, group):
    contract = make_contract(
        group=group, policy_number="P-0001", period_end=EXPIRY, period_start=date(2026, 3, 31)
    )
    PolicyLink.objects.create(member=member, contract=contract)
    return contract


def renewals_at(client, moment: datetime) -> str:
    member = User.objects.get(email="member@example.jp")
    with time_machine.travel(moment, tick=False):
        client.force_login(member)  # a session from today would have expired by then
        return client.get("/mypage/renewals/").content.decode()


def test_before_the_window_the_list_says_when_it_opens(client, expiring):
    html = renewals_at(client, datetime(2027, 1, 29, 23, 59, 59, tzinfo=JST))
    assert "更改手続き可能契約一覧" in html
    assert "このご契約のWEB更改手続きは2027年1月30日から受け付けます。" in html
    assert "契約の更改" not in html


def test_the_window_opens_at_midnight_jst_window_days_before_expiry(client, expiring):
    opens = datetime(2027, 3, 31, tzinfo=JST) - timedelta(days=60)
    before = renewals_at(client, opens - timedelta(seconds=1))
    after = renewals_at(client, opens)
    assert "契約の更改" not in before and "受付開始前" in before
    assert f'href="/clickar/{expiring.pk}/">契約の更改</a>' in after


def test_the_window_closes_at_1559_jst_on_the_expiry_day(client, expiring):
    last_second = renewals_at(client, datetime(2027, 3, 31, 15, 58, 59, tzinfo=JST))
    closed = renewals_at(client, datetime(2027, 3, 31, 15, 59, 0, tzinfo=JST))
    assert "契約の更改</a>" in last_second
    assert "契約の更改</a>" not in closed
    assert "受付は終了しました" in closed
    assert "0120-111-222" in closed  # the agency's contact


def test_the_list_only_shows_the_members_own_policies(client, expiring, group):
    other = User.objects.create_user(email="other@example.jp", password="x9Lq2!zz")
    PolicyLink.objects.create(
        member=other, contract=make_contract(group=group, policy_number="P-7777")
    )
    html = client.get("/mypage/renewals/").content.decode()
    assert "P-0001" in html and "P-7777" not in html
