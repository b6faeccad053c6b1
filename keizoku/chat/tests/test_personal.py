"""Personal answers: computed from the logged-in member's own policies, never anyone else's."""

from datetime import timedelta

import pytest
from django.utils import timezone

from keizoku.chat.personal import Intent, detect_intents
from keizoku.chat.text import normalize
from keizoku.renewals import pricing

from .conftest import ask, login, make_member

pytestmark = pytest.mark.django_db


def jst_closing(contract) -> str:
    end = contract.period_end
    return f"{end.year}年{end.month}月{end.day}日 15:59"


@pytest.mark.parametrize(
    ("question", "intents"),
    [
        ("更改の手続きはいつまでですか", (Intent.WINDOW,)),
        ("継続の締め切りを教えて", (Intent.WINDOW,)),
        ("When is the deadline?", (Intent.WINDOW,)),
        ("申し込んだ手続きの状況は？", (Intent.STATUS,)),
        ("What is my application status?", (Intent.STATUS,)),
        ("保険料が上がったのはなぜ？", (Intent.PREMIUM,)),
        ("Why did my premium go up?", (Intent.PREMIUM,)),
        ("来年の等級は？", (Intent.GRADE,)),
        ("What will my next grade be?", (Intent.GRADE,)),
        ("パスワードを忘れました", ()),
        ("仮登録のあと、いつまでに本登録すればいい？", ()),
        ("受付番号とは何ですか", ()),
        ("保険料を安くする方法はある？", ()),
        ("Can I download a copy of my application?", ()),
    ],
)
def test_intents_are_detected_from_the_question(question, intents):
    assert detect_intents(normalize(question)) == intents


def test_the_window_answer_shows_the_members_own_closing_time_only(client, taro, hanako):
    mine = taro.policy_links.get().contract
    theirs = hanako.policy_links.get().contract
    login(client, taro)
    html = ask(client, "更改の手続きはいつまでですか？").content.decode()
    assert "あなたのご契約：手続きの期限" in html
    assert "証券番号 P-0001（トヨタ プリウス ZVW60）" in html
    days = (mine.period_end - timezone.localdate()).days
    assert f"WEB更改の受付は{jst_closing(mine)}までです（あと{days}日）。" in html
    assert f'href="/clickar/{mine.pk}/"' in html
    assert "P-0099" not in html and "フィット" not in html and f"/clickar/{theirs.pk}/" not in html


def test_the_other_member_sees_their_own_data_in_the_same_client(client, taro, hanako):
    login(client, taro)
    ask(client, "更改の手続きはいつまでですか？")
    client.post("/mypage/logout/")
    login(client, hanako)
    html = ask(client, "更改の手続きはいつまでですか？").content.decode()
    assert "証券番号 P-0099（ホンダ フィット GR3）" in html
    assert "P-0001" not in html and "プリウス" not in html


def test_a_window_not_yet_open_says_when_it_opens(client, taro):
    contract = taro.policy_links.get().contract
    contract.period_end = timezone.localdate() + timedelta(days=90)
    contract.period_start = contract.period_end.replace(year=contract.period_end.year - 1)
    contract.save()
    login(client, taro)
    html = ask(client, "継続の締め切りはいつ？").content.decode()
    opens = contract.period_end - timedelta(days=60)
    assert f"WEB更改の受付は{opens.year}年{opens.month}月{opens.day}日 0:00に始まり" in html


def test_the_status_answer_shows_the_state_and_the_acceptance_number(client, taro, hanako):
    login(client, hanako)
    html = ask(client, "申し込んだ手続きの状況を知りたい").content.decode()
    assert "お申込みの状態は「申込済み」です（受付番号 KZ-20261125-0001）。" in html
    client.post("/mypage/logout/")
    login(client, taro)
    html = ask(client, "申し込んだ手続きの状況を知りたい").content.decode()
    assert "まだ更改のお手続きを始めていません。" in html
    assert "KZ-20261125-0001" not in html and "「申込済み」" not in html


def test_the_premium_answer_explains_the_change_by_cause(client, taro):
    contract = taro.policy_links.get().contract
    explanation = pricing.contract_quote(contract)["explanation"]
    login(client, taro)
    html = ask(client, "保険料が上がったのはなぜですか").content.decode()
    assert "あなたのご契約：保険料が変わった理由" in html
    assert (
        f"前年の年間保険料{explanation['previous']:,}円に対し、更改後は{explanation['new']:,}円"
        in html
    )
    for part in explanation["parts"]:
        if part["amount"]:
            assert part["label"] in html
    assert 'href="/help/plans/#faq-premium-why-changed"' in html  # the general entry too


def test_the_grade_answer_computes_the_next_grade(client, taro, hanako):
    login(client, taro)
    html = ask(client, "来年の等級はどうなりますか").content.decode()
    assert "現在は13等級で、更改後は14等級（事故有係数適用期間0年）になります。" in html
    client.post("/mypage/logout/")
    login(client, hanako)
    html = ask(client, "来年の等級はどうなりますか").content.decode()
    assert "現在は7等級で、更改後は4等級（事故有係数適用期間3年）になります。" in html


def test_an_anonymous_visitor_gets_the_general_answer_and_an_invitation_to_log_in(
    client, taro, hanako
):
    html = ask(client, "更改の手続きはいつまでですか？").content.decode()
    assert "ログインすると、ご自身のご契約について" in html and 'href="/mypage/login/"' in html
    assert 'href="/help/mypage/#faq-window-when"' in html
    assert "P-0001" not in html and "P-0099" not in html and "あなたのご契約" not in html


def test_a_member_without_a_policy_is_told_to_register_one(client):
    member = make_member("nolink@example.jp")
    login(client, member)
    html = ask(client, "来年の等級は？").content.decode()
    assert "マイページにご契約が登録されていません。" in html


def test_an_unsure_answer_hands_over_to_the_members_own_agency(client, taro, hanako):
    login(client, taro)
    html = ask(client, "今日の天気は？").content.decode()
    assert "テスト保険サービス" in html and "0120-111-222" in html
    assert "別の保険代理店" not in html and "0120-999-888" not in html


def test_a_personal_answer_costs_a_bounded_number_of_queries(
    client, taro, django_assert_max_num_queries
):
    login(client, taro)
    # Session, user, the rate limit in the database cache, then the member's policies: no N+1.
    with django_assert_max_num_queries(25):
        response = ask(client, "更改の手続きはいつまでで、来年の等級は？")
    assert "更改後は14等級" in response.content.decode()
