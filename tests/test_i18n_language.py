"""Choosing the language: Accept-Language on a first visit, the 「English / 日本語」 switch, the
member's stored choice for pages, mails (sent by anyone) and the PDF, the back office in Japanese,
and the binding legal texts shown in Japanese with their English reading aid."""

import re
import subprocess
from datetime import datetime, time

import pytest
from django.test import Client
from django.utils import timezone, translation

from keizoku.accounts.models import PolicyLink, User
from keizoku.backoffice.services import reminders_send
from keizoku.contracts.windows import JST
from keizoku.notifications.models import OutboundMail
from keizoku.renewals.models import Application
from keizoku.renewals.pdf import application_pdf
from tests.factories import make_agency, make_contract, make_group, make_member

pytestmark = pytest.mark.django_db

PASSWORD = "x9Lq2!zz"
ENGLISH = "en-US,en;q=0.9"
JAPANESE = "ja-JP,ja;q=0.9"


def browser(accept_language: str = "", **options) -> Client:
    headers = {"accept-language": accept_language} if accept_language else {}
    return Client(headers=headers, **options)


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)">', response.content.decode()).group(1)


def log_in(client: Client, user: User) -> None:
    response = client.post("/mypage/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:2000]


def switch(client: Client, language: str, next_path: str = "/mypage/"):
    return client.post("/i18n/setlang/", {"language": language, "next": next_path})


@pytest.fixture
def contract():
    return make_contract(group=make_group(agency=make_agency(code="TEST")), policy_number="P-0001")


# --- the first visit -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        (ENGLISH, "en"),
        ("en-GB,en;q=0.8", "en"),
        (JAPANESE, "ja"),
        ("fr-FR,fr;q=0.9", "ja"),
        ("", "ja"),
    ],
)
def test_the_first_visit_follows_accept_language_with_japanese_the_default(
    accept_language, expected
):
    response = browser(accept_language).get("/mypage/login/")
    assert html_lang(response) == expected
    assert response["Content-Language"] == expected
    title = (
        "MyPage registration or login" if expected == "en" else "マイページ会員登録もしくはログイン"
    )
    assert f"<h1>{title}</h1>" in response.content.decode()


@pytest.mark.parametrize("path", ["/", "/agency/TEST/", "/help/", "/mypage/register/", "/chat/"])
def test_every_customer_page_has_the_switch_as_a_form_that_works_without_javascript(path, contract):
    html = browser(ENGLISH).get(path).content.decode()
    form = re.search(
        r'<form class="language-switch" method="post" action="/i18n/setlang/">(.*?)</form>',
        html,
        re.S,
    )
    assert form, path
    assert 'name="csrfmiddlewaretoken"' in form.group(1)
    assert f'name="next" value="{path}"' in form.group(1)
    assert '<button type="submit" name="language" value="en" lang="en"' in form.group(1)
    assert '<button type="submit" name="language" value="ja" lang="ja"' in form.group(1)
    assert re.search(
        r">English</button>\s*<span aria-hidden=\"true\">/</span>\s*<button[^>]*>日本語<",
        form.group(1),
    )


# --- the switch ----------------------------------------------------------------------------------


def test_the_switch_returns_to_the_same_page_in_the_other_language():
    client = browser(JAPANESE)
    response = switch(client, "en", "/help/faq/?x=1")
    assert response.status_code == 302 and response["Location"] == "/help/faq/?x=1"
    assert html_lang(client.get("/help/faq/")) == "en"
    switch(client, "ja", "/help/")
    assert html_lang(client.get("/help/")) == "ja"


def test_the_switch_needs_the_csrf_token_and_posts_only():
    client = browser(JAPANESE, enforce_csrf_checks=True)
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 403
    page = client.get("/help/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(
        "/i18n/setlang/", {"language": "en", "next": "/help/", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert browser().get("/i18n/setlang/").status_code == 405


@pytest.mark.parametrize("unsafe", ["https://evil.example/", "//evil.example/", "/\\evil"])
def test_the_switch_never_sends_the_visitor_elsewhere(unsafe):
    response = switch(browser(), "en", unsafe)
    assert response.status_code == 302 and response["Location"] == "/"


def test_an_unknown_language_changes_nothing():
    client = browser(JAPANESE)
    switch(client, "fr", "/help/")
    assert html_lang(client.get("/help/")) == "ja"


# --- the member's own language -------------------------------------------------------------------


def test_a_members_choice_is_kept_on_the_account_and_wins_over_any_browser(contract):
    member = make_member("member@example.jp", PASSWORD)
    PolicyLink.objects.create(member=member, contract=contract)
    client = browser(JAPANESE)
    log_in(client, member)
    switch(client, "en")
    member.refresh_from_db()
    assert member.language == "en"

    # Another browser that prefers Japanese, with no cookie: the member's English.
    other = browser(JAPANESE)
    log_in(other, member)
    response = other.get("/mypage/")
    assert html_lang(response) == "en" and "<h1>MyPage home</h1>" in response.content.decode()
    assert "Successfully signed in" in response.content.decode()  # allauth's message too


def test_a_choice_made_before_logging_in_becomes_the_members(contract):
    member = make_member("member@example.jp", PASSWORD)  # Japanese on the account
    client = browser(JAPANESE)
    switch(client, "en", "/mypage/login/")
    log_in(client, member)
    member.refresh_from_db()
    assert member.language == "en"
    assert html_lang(client.get("/mypage/")) == "en"


def test_without_a_choice_the_account_language_applies_after_login(contract):
    member = make_member("member@example.jp", PASSWORD)  # Japanese on the account
    client = browser(ENGLISH)
    assert html_lang(client.get("/mypage/login/")) == "en"
    log_in(client, member)
    assert html_lang(client.get("/mypage/")) == "ja"
    member.refresh_from_db()
    assert member.language == "ja"


def test_the_back_office_stays_japanese_and_staff_keep_no_language():
    staff = make_member("clerk@example.jp", PASSWORD, kind=User.Kind.STAFF)
    client = browser(ENGLISH)
    switch(client, "en", "/backoffice/login/")
    response = client.get("/backoffice/login/")
    assert response.templates[0].name == "backoffice/login.html"
    assert html_lang(response) == "ja" and "スタッフログイン" in response.content.decode()
    assert 'class="language-switch"' not in response.content.decode()
    client.force_login(staff)
    switch(client, "en", "/backoffice/")
    staff.refresh_from_db()
    assert staff.language == "ja"


def test_registration_in_english_gives_an_english_member_and_english_mails(contract):
    client = browser(ENGLISH)
    client.post("/mypage/register/terms/", {"agree": "1"})
    form = {
        "policy_count": "1",
        "email": "new@example.jp",
        "email_confirm": "new@example.jp",
        "password": "Qw7!rt5Ezz",
        "password_confirm": "Qw7!rt5Ezz",
        "name": "継続 太郎",
        "kana": "ケイゾク タロウ",
        "birth_date": "1980-04-01",
        "postal_code": "100-0005",
        "address": contract.address,
        "phone": "03-1234-5678",
        "policy_1": contract.policy_number,
    }
    assert client.post("/mypage/register/form/", form).status_code == 302
    client.post("/mypage/register/confirm/")
    mail = OutboundMail.objects.get(kind="registration")
    assert mail.subject == "[MyPage] Complete your registration"
    assert "Dear 継続 太郎," in mail.body and "(Japan time)" in mail.body
    link = re.search(r"https?://[^/\s]+(/mypage/register/complete/\S+/)", mail.body).group(1)
    client.get(link)
    client.post("/mypage/register/password/", {"password": "Qw7!rt5Ezz"})
    assert User.objects.get(email="new@example.jp").language == "en"
    done = OutboundMail.objects.get(kind="registration_complete")
    assert done.subject == "[MyPage] Your registration is complete"


def test_mails_sent_by_the_worker_and_the_reminders_follow_each_members_language(contract):
    english = make_member("en@example.jp", PASSWORD, language="en")
    japanese = make_member("ja@example.jp", PASSWORD, language="ja")
    other = make_contract(group=contract.group, policy_number="P-0002")
    PolicyLink.objects.create(member=english, contract=contract)
    PolicyLink.objects.create(member=japanese, contract=other)
    noon = datetime.combine(timezone.localdate(), time(12, 0), tzinfo=JST)
    with translation.override("ja"):  # whatever the language of the process that sends them
        assert reminders_send(now=noon).queued == 2
    to_english = OutboundMail.objects.get(to="en@example.jp")
    to_japanese = OutboundMail.objects.get(to="ja@example.jp")
    assert to_english.subject.startswith("[Group Auto Insurance] Your policy expires soon.")
    assert re.search(r"Renew by: +\w+day, \w+ \d+, \d{4}, 15:59 \(Japan time\)", to_english.body)
    assert to_japanese.subject.startswith("【団体扱自動車保険】満期日が近づいています。")
    assert "お手続き期限　" in to_japanese.body and "（日本時間）" in to_japanese.body


def test_a_holder_who_is_not_a_member_gets_the_japanese_reminder(contract):
    contract.email = "holder@example.jp"
    contract.save()
    noon = datetime.combine(timezone.localdate(), time(12, 0), tzinfo=JST)
    with translation.override("en"):
        reminders_send(now=noon)
    assert OutboundMail.objects.get(to="holder@example.jp").subject.startswith(
        "【団体扱自動車保険】"
    )


def test_the_pdf_is_in_the_members_language_whatever_the_request(contract):
    member = make_member("member@example.jp", PASSWORD, language="en")
    PolicyLink.objects.create(member=member, contract=contract)
    from keizoku.renewals import pricing
    from keizoku.renewals.choices import DECLARATIONS
    from keizoku.renewals.snapshot import Answers, declarations_from_form

    quote = pricing.contract_quote(contract)
    application = Application.objects.create(
        contract=contract,
        member=member,
        period_start=contract.period_end,
        status="submitted",
        acceptance_number="K-0000-0000-001",
        answers=Answers(
            delivery="paper",
            declarations=declarations_from_form({d.code: "no" for d in DECLARATIONS}),
        ),
        quote=quote,
        submitted_at=timezone.now(),
    )
    with translation.override("ja"):
        pdf = application_pdf(application).read()
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "Application copy" in text and "Acceptance number K-0000-0000-001" in text
    assert f"¥{quote.annual_premium:,}" in text
    assert "The Japanese text is the binding version." in text
    assert "お車に改造" in text and "Has the car been modified" in text  # binding + reading aid
    assert "申込内容控え" not in text


# --- what stays Japanese on purpose --------------------------------------------------------------


def test_the_terms_show_the_binding_japanese_with_an_english_reading_aid():
    english = browser(ENGLISH).get("/mypage/register/terms/").content.decode()
    assert "The Japanese text is the binding version." in english
    assert '<p lang="ja">第1条（目的）本規約は' in english
    assert '<p class="legal__aid">Article 1 (Purpose)' in english
    japanese = browser(JAPANESE).get("/mypage/register/terms/").content.decode()
    assert "第1条（目的）本規約は" in japanese
    assert "Article 1" not in japanese and "binding" not in japanese


def test_names_and_addresses_are_asked_in_japanese_and_the_english_labels_say_so():
    client = browser(ENGLISH)
    client.post("/mypage/register/terms/", {"agree": "1"})
    html = client.get("/mypage/register/form/").content.decode()
    assert ">Full name (in Japanese, as on your policy)</label>" in html
    assert ">Name in katakana (furigana)</label>" in html
    assert ">Address (in Japanese)</label>" in html
    assert "Full-width katakana (hiragana is also accepted)" in html
    japanese = browser(JAPANESE)
    japanese.post("/mypage/register/terms/", {"agree": "1"})
    html = japanese.get("/mypage/register/form/").content.decode()
    assert ">氏名</label>" in html and ">フリガナ</label>" in html and ">住所</label>" in html


def test_an_english_error_message_for_japanese_input():
    client = browser(ENGLISH)
    client.post("/mypage/register/terms/", {"agree": "1"})
    html = client.post(
        "/mypage/register/form/", {"policy_count": "1", "kana": "taro", "phone": "12"}
    ).content.decode()
    assert "Please enter your name in katakana." in html
    assert "The phone number is not valid." in html
    assert "This field is required." in html  # Django's own, in English


def test_the_help_pages_show_the_english_screens_and_faq_in_english():
    english = browser(ENGLISH).get("/help/register/").content.decode()
    assert (
        '<img src="/static/help/screens/en/register-form.png" alt="The &quot;Enter your details&quot; screen'
        in english
    )
    assert "Where do I find my previous policy number?" in english
    assert "旧証券番号はどこに" not in english
    japanese = browser(JAPANESE).get("/help/register/").content.decode()
    assert '<img src="/static/help/screens/register-form.png" alt="「必要事項入力」画面' in japanese
    assert "旧証券番号はどこに書いてありますか。" in japanese
