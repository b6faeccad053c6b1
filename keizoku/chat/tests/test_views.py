"""The chat over HTTP: the widget's htmx fragment, the full page without JavaScript, bad input."""

import pytest

from keizoku.chat.answers import MAX_LENGTH

from .conftest import ask

pytestmark = pytest.mark.django_db


def test_every_customer_page_carries_the_widget(client):
    page = client.get("/").content.decode()
    assert 'aria-controls="chat-panel"' in page and 'aria-live="polite"' in page
    assert 'hx-post="/chat/"' in page and 'href="/chat/"' in page  # htmx, and the no-JS link
    assert "AIチャットへの質問" in page and 'maxlength="200"' in page


def test_the_widget_script_and_style_come_from_static_files_with_a_nonce(client):
    response = client.get("/")
    page = response.content.decode()
    assert '/static/chat/chat.js" nonce="' in page and "/static/chat/chat.css" in page
    assert "'unsafe-inline'" not in response.headers.get("Content-Security-Policy", "")


def test_a_question_is_answered_with_the_curated_entry_and_its_help_page(client):
    response = ask(client, "パスワードを忘れてしまいました")
    assert response.status_code == 200
    html = response.content.decode()
    assert "パスワードを忘れてしまいました" in html  # the question, echoed in the log
    assert "パスワード再設定のメール" in html  # the FAQ answer, as written
    assert 'href="/help/login/#faq-password-forgotten"' in html and "出典" in html
    assert "<html" not in html  # a fragment for the widget's log


def test_an_english_question_gets_the_english_answer(client):
    from django.utils.html import escape

    from keizoku.help.content import faq_entries

    entry = next(e for e in faq_entries() if e.id == "password-forgotten")
    html = ask(client, "I forgot my password").content.decode()
    assert 'href="/help/login/#faq-password-forgotten"' in html
    assert '<div class="chat__faq" lang="en">' in html  # marked for screen readers
    assert escape(entry.answer_en.split("\n")[0][:40]) in html and entry.answer[:20] not in html
    assert escape(entry.question_en) in html


def test_a_japanese_question_on_an_english_page_gets_the_japanese_answer(client):
    html = client.post(
        "/chat/",
        {"question": "パスワードを忘れました"},
        headers={"HX-Request": "true", "Accept-Language": "en"},
    ).content.decode()
    assert "パスワード再設定のメール" in html


def test_a_lone_abbreviation_on_a_japanese_page_is_read_as_japanese():
    from keizoku.chat import retrieval

    assert retrieval.language_of("PDF") == "ja"
    assert retrieval.language_of("PDF", page_language="en") == "en"
    assert retrieval.language_of("download the PDF") == "en"
    assert retrieval.language_of("PDFの控え", page_language="en") == "ja"


def test_an_unclear_question_offers_three_entries_and_the_contact(client):
    html = ask(client, "保険").content.decode()
    assert "ぴったりの回答が見つかりませんでした" in html
    assert html.count('<li><a href="/help/') == 3
    assert "ご契約の取扱代理店にお問い合わせください" in html


def test_an_unrelated_question_is_not_answered_with_confidence(client):
    html = ask(client, "今日の天気は？").content.decode()
    assert "出典" not in html and "お問い合わせください" in html


def test_the_full_page_answers_without_javascript(client):
    assert client.get("/chat/").status_code == 200
    response = ask(client, "パスワードを忘れました", htmx=False)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>AIチャット</h1>" in html and "パスワード再設定のメール" in html
    assert 'aria-controls="chat-panel"' not in html  # no second chat inside the chat page


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "質問を入力してください。"),
        ("   　 ", "質問を入力してください。"),
        (
            "あ" * (MAX_LENGTH + 1),
            f"質問は{MAX_LENGTH}文字以内で入力してください（いまは201文字です）。",
        ),
        ("パスワード\x00を忘れた", "使用できない文字（制御文字）が含まれています。"),
        ("パスワード\x1b[31m", "使用できない文字（制御文字）が含まれています。"),
        ("パス\u202eワード", "使用できない文字（制御文字）が含まれています。"),
    ],
)
def test_bad_input_gets_a_clear_japanese_message(client, question, message):
    fragment = ask(client, question)
    assert fragment.status_code == 200 and message in fragment.content.decode()
    assert "出典" not in fragment.content.decode()
    page = ask(client, question, htmx=False)
    assert page.status_code == 400
    html = page.content.decode()
    assert message in html and 'aria-invalid="true"' in html


def test_a_question_of_exactly_the_maximum_length_is_taken(client):
    html = ask(client, "パスワード" + "あ" * (MAX_LENGTH - 5)).content.decode()
    assert "文字以内で入力してください（" not in html and "AIチャットの回答" in html


def test_newlines_in_a_pasted_question_become_spaces(client):
    html = ask(client, "パスワードを\r\n忘れました").content.decode()
    assert "パスワード再設定のメール" in html


def test_the_question_is_escaped(client):
    html = ask(client, "<script>alert(1)</script>パスワード").content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_questions_are_rate_limited_with_a_japanese_message(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "chat": "2/m/ip"}
    assert "出典" in ask(client, "パスワードを忘れました").content.decode()
    assert "出典" in ask(client, "パスワードを忘れました").content.decode()
    html = ask(client, "パスワードを忘れました").content.decode()
    assert "しばらくしてからお試しください" in html and "出典" not in html


def test_the_chat_is_rate_limited_by_default():
    from django.conf import settings

    assert settings.ACCOUNT_RATE_LIMITS["chat"] == "30/m/ip"


def test_get_and_post_only(client):
    assert client.put("/chat/").status_code == 405


@pytest.mark.parametrize(
    "question",
    ["ー" * MAX_LENGTH, "ｱ" * MAX_LENGTH, "😀" * 50, "{{ csrf_token }}", "1" * MAX_LENGTH],
)
def test_odd_but_valid_questions_get_an_answer_or_the_contact(client, question):
    response = ask(client, question)
    assert response.status_code == 200
    html = response.content.decode()
    assert "AIチャットの回答" in html and ("出典" in html or "お問い合わせください" in html)
