"""Personal answers: computed from the logged-in member's own policies, never anyone else's."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from django.utils.html import escape

from keizoku.chat.personal import Intent, detect_intents
from keizoku.chat.text import normalize
from keizoku.core import l10n
from keizoku.renewals import labels, pricing
from tests.i18n_scan import JAPANESE, html_problems

from .conftest import ask, login, make_member

pytestmark = pytest.mark.django_db

# One question for the four personal answers, in each language.
EVERYTHING = {
    "ja": "更改の手続きはいつまで？申し込んだ手続きの状況は？保険料が上がったのはなぜ？来年の等級は？",
    "en": "When is the deadline, what is my application status, why did my premium go up, "
    "and what will my next grade be?",
}


# The members' data in a Japanese answer (policy and acceptance numbers, the cars' models).
DATA = ["P-0001", "P-0099", "KZ-20261125-0001", "トヨタ プリウス ZVW60", "ホンダ フィット GR3"]


def jst_closing(contract) -> str:
    end = contract.period_end
    return f"{end.year}年{end.month}月{end.day}日 15:59"


def personal_part(html: str) -> str:
    """The personal answers of a chat exchange (the FAQ entry after them is left out)."""
    blocks = re.findall(r'<div class="chat__personal">.*?</ul>\s*</div>', html, re.S)
    assert blocks, html
    return "\n".join(blocks)


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
    assert f"WEB更改の受付は{opens.year}年{opens.month}月{opens.day}日 00:00に始まり" in html


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
    explanation = pricing.contract_quote(contract).explanation
    login(client, taro)
    html = ask(client, "保険料が上がったのはなぜですか").content.decode()
    assert "あなたのご契約：保険料が変わった理由" in html
    assert (
        f"前年の年間保険料{explanation.previous:,}円に対し、更改後は{explanation.new:,}円" in html
    )
    for part in explanation.parts:
        if part.amount:
            sign = "+" if part.amount > 0 else ""
            assert f"{part.label}：{sign}{l10n.yen(part.amount)}" in html
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


def _english(member):
    member.language = "en"
    member.save(update_fields=["language"])
    return member


def test_a_member_on_an_english_page_gets_wholly_english_personal_answers(client, taro):
    contract = _english(taro).policy_links.get().contract
    explanation = pricing.contract_quote(contract).explanation
    login(client, taro)
    html = ask(client, EVERYTHING["en"]).content.decode()
    personal = personal_part(html)
    assert html_problems(personal, "en", []) == []  # no Japanese outside lang="ja"
    # Every personal answer (the titles too): the FAQ's English entry follows them.
    for title in ("Renewal deadline", "Application status", "Why your premium changed"):
        assert f"Your policy: {title}" in personal
    assert "Your policy: Grade after renewal" in personal
    assert 'Policy number P-0001 (<span lang="ja">トヨタ プリウス ZVW60</span>)' in personal
    days = (contract.period_end - timezone.localdate()).days
    end = contract.period_end
    closes = f"{end:%B} {end.day}, {end.year} 15:59"
    assert f"Online renewal is open until {closes} ({days} days left)." in personal
    assert "You have not started the renewal yet." in personal
    difference = explanation.new - explanation.previous
    shown = f"+¥{difference:,}" if difference > 0 else f"-¥{-difference:,}" if difference else "¥0"
    assert (
        escape(
            f"Last year's annual premium was ¥{explanation.previous:,}; after renewal it is "
            f"¥{explanation.new:,} ({shown})."
        )
        in personal
    )
    with translation.override("en"):
        causes = {part.cause: str(labels.CAUSE_LABELS[part.cause]) for part in explanation.parts}
    for part in explanation.parts:
        if part.amount:
            sign = "+" if part.amount > 0 else "-"
            assert f"{causes[part.cause]}: {sign}¥{abs(part.amount):,}" in personal
    assert (
        "You are now in grade 13; after renewal you will be in grade 14 "
        "(accident coefficient period: 0 years)." in personal
    )
    assert "円" not in personal and "年" not in personal


def test_the_status_and_an_accident_in_english(client, hanako):
    _english(hanako)
    login(client, hanako)
    personal = personal_part(ask(client, EVERYTHING["en"]).content.decode())
    assert html_problems(personal, "en", []) == []
    assert escape('Your application is "Applied" (acceptance number KZ-20261125-0001).') in personal
    assert "you will be in grade 4 (accident coefficient period: 3 years)." in personal


def test_an_open_claim_and_one_year_left_in_english(client, hanako):
    contract = _english(hanako).policy_links.get().contract
    contract.claims_3down, contract.claims_1down, contract.coef_period, contract.open_claim = (
        0,
        0,
        2,
        True,
    )
    contract.save()
    login(client, hanako)
    personal = personal_part(ask(client, "What will my next grade be?").content.decode())
    assert (
        "You are now in grade 7; after renewal you will be in grade 8 (accident coefficient "
        "period: 1 year). As you have an open claim, your grade may change depending on its "
        "outcome." in personal
    )


def test_a_window_closing_tomorrow_says_one_day_in_english(client, taro):
    contract = _english(taro).policy_links.get().contract
    contract.period_end = timezone.localdate() + timedelta(days=1)
    contract.period_start = contract.period_end.replace(year=contract.period_end.year - 1)
    contract.save()
    login(client, taro)
    personal = personal_part(ask(client, "When is the deadline?").content.decode())
    assert "(1 day left)." in personal


def test_a_member_on_a_japanese_page_gets_wholly_japanese_personal_answers(client, taro, hanako):
    for member in (taro, hanako):
        login(client, member)
        # Asked in English on a Japanese page: the FAQ entry is English, the personal part not.
        for question in EVERYTHING.values():
            personal = personal_part(ask(client, question).content.decode())
            assert html_problems(personal, "ja", DATA) == []
            for title in ("手続きの期限", "お申込みの状況", "保険料が変わった理由", "更改後の等級"):
                assert f"あなたのご契約：{title}" in personal
            assert "¥" not in personal and 'lang="ja"' not in personal
        client.post("/mypage/logout/")


def test_a_member_without_a_policy_is_told_so_in_english(client):
    member = _english(make_member("nolink-en@example.jp"))
    login(client, member)
    html = ask(client, "What will my next grade be?").content.decode()
    personal = personal_part(html)
    assert "Your policy: Grade after renewal" in personal
    assert not JAPANESE.search(personal)
