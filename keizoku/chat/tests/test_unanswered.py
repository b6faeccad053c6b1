"""The log of unanswered questions: personal data masked, counted per question, never who asked."""

from datetime import timedelta

import pytest
from django.utils import timezone

from keizoku.chat import privacy, unanswered
from keizoku.chat.models import UnansweredQuestion

from .conftest import ask, login


@pytest.mark.parametrize(
    ("question", "masked"),
    [
        ("メールはtaro.yamada@example.jpです", "メールは［メール］です"),
        ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐに送って", "［メール］に送って"),
        ("電話 090-1234-5678 に連絡ください", "電話 ［電話番号］ に連絡ください"),
        ("電話０３（１２３４）５６７８です", "電話［電話番号］です"),
        ("+81 90 1234 5678", "［電話番号］"),
        ("〒100-0001に引っ越した", "［郵便番号］に引っ越した"),
        ("郵便番号1000001", "郵便番号［郵便番号］"),
        ("証券番号P-0001の更新", "証券番号［番号］の更新"),
        ("受付番号K-1234-5678-901の状況", "受付番号［番号］の状況"),
        ("契約番号ABC12345", "契約番号［番号］"),
        ("75歳で2台あります", "＊＊歳で＊台あります"),
        ("https://example.com/?id=7 が開かない", "［URL］ が開かない"),
        ("山田太郎です", "［氏名］です"),
        ("鈴木さんに聞いた", "［氏名］さんに聞いた"),
        ("千代田区に住んでいます", "［地名］に住んでいます"),
        ("パスワードを忘れました", "パスワードを忘れました"),
        ("WEB証券とPDFの控え", "WEB証券とPDFの控え"),
    ],
)
def test_personal_data_is_masked(question, masked):
    assert privacy.mask(question) == masked


@pytest.mark.django_db
def test_an_unanswered_question_is_logged_masked_and_counted(client):
    html = ask(client, "山田太郎です。証券番号P-0001の保険で今日の天気は？").content.decode()
    assert "お問い合わせください" in html
    ask(client, "山田花子です。証券番号P-0002の保険で今日の天気は？")
    (logged,) = UnansweredQuestion.objects.all()
    assert logged.text == "［氏名］です。証券番号［番号］の保険で今日の天気は?"  # NFKC
    assert logged.count == 2 and logged.language == "ja"
    assert logged.first_asked_at <= logged.last_asked_at


@pytest.mark.django_db
def test_the_log_never_says_who_asked(client, taro):
    login(client, taro)
    ask(client, "今日の天気は？")
    fields = {field.name for field in UnansweredQuestion._meta.get_fields()}
    assert not fields & {"member", "user", "session", "ip", "member_id", "user_id"}
    row = UnansweredQuestion.objects.values().get()
    assert str(taro.pk) not in {str(v) for k, v in row.items() if k not in ("id", "count")}
    assert taro.email not in str(row)


@pytest.mark.django_db
def test_an_english_question_is_logged_as_english(client):
    ask(client, "What is the capital of France?")
    assert UnansweredQuestion.objects.get().language == "en"


@pytest.mark.django_db
def test_answered_and_personal_questions_are_not_logged(client, taro):
    assert "出典" in ask(client, "パスワードを忘れてしまいました").content.decode()
    login(client, taro)
    ask(client, "いつまでに手続きすればいい？")  # answered from the member's own policies
    assert not UnansweredQuestion.objects.exists()


@pytest.mark.django_db
def test_a_handled_question_asked_again_is_open_again(client):
    ask(client, "今日の天気は？")
    question = UnansweredQuestion.objects.get()
    unanswered.resolve(question)
    assert not unanswered.unanswered_questions().exists()
    ask(client, "今日の天気は？")
    question.refresh_from_db()
    assert question.resolved_at is None and question.count == 2


@pytest.mark.django_db
def test_questions_nobody_asked_for_a_year_are_purged():
    now = timezone.now()
    for days, text in ((400, "古い質問"), (10, "新しい質問")):
        unanswered.record(
            text, language="ja", suggestions=[], confidence=0.0, now=now - timedelta(days=days)
        )
    assert unanswered.purge(now=now) == 1
    assert [q.text for q in UnansweredQuestion.objects.all()] == ["新しい質問"]
