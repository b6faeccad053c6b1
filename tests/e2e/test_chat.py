"""The AI chat in Chromium at 375 px: ask, read the answer, follow its help page; keyboard, axe-core,
a member's own answer, and the same chat without JavaScript."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from keizoku.accounts.models import PolicyLink
from tests.factories import make_agency, make_contract, make_group, make_member

from .conftest import open_page

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "x9Lq2!zz"
PHONE = {"width": 375, "height": 800}


def phone_page(browser: Browser, live_server, *, javascript: bool = True) -> tuple[Page, list]:
    return open_page(browser, live_server.url, viewport=PHONE, java_script_enabled=javascript)


def test_a_visitor_asks_reads_the_answer_and_follows_its_help_page(
    browser, live_server, check_a11y, screenshot
):
    page, errors = phone_page(browser, live_server)
    page.goto("/")
    toggle = page.get_by_role("button", name="AIチャット")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("link", name="AIチャット")).to_be_hidden()  # the no-JS link
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    field = page.get_by_role("textbox", name="AIチャットへの質問")
    expect(field).to_be_focused()

    field.fill("パスワードを忘れてしまいました")
    field.press("Enter")
    log = page.get_by_role("log", name="AIチャット")
    expect(log).to_contain_text("パスワードを忘れてしまいました")
    expect(log).to_contain_text("パスワード再設定のメール")
    expect(field).to_have_value("")
    expect(field).to_be_focused()
    check_a11y(page)
    screenshot(page, "chat-answer-375")

    # The panel fits the phone's width.
    box = page.locator("#chat-panel").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]

    log.get_by_role("link", name=re.compile("パスワードを忘れました")).click()
    expect(page).to_have_url(re.compile(r"/help/login/#faq-password-forgotten$"))
    assert not errors, errors


def test_the_chat_works_from_the_keyboard_and_says_what_is_wrong(browser, live_server, check_a11y):
    page, errors = phone_page(browser, live_server)
    page.goto("/help/")
    toggle = page.get_by_role("button", name="AIチャット")
    toggle.focus()
    page.keyboard.press("Enter")
    field = page.get_by_role("textbox", name="AIチャットへの質問")
    expect(field).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="送信")).to_be_focused()
    page.keyboard.press("Enter")  # nothing typed
    log = page.get_by_role("log", name="AIチャット")
    expect(log).to_contain_text("質問を入力してください。")

    field.fill("今日の天気は？")
    field.press("Enter")
    expect(log).to_contain_text("ぴったりの回答が見つかりませんでした")
    expect(log).to_contain_text("ご契約の取扱代理店にお問い合わせください")
    check_a11y(page)

    field.focus()
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
    expect(field).to_be_hidden()
    assert not errors, errors


def test_a_member_gets_their_own_deadline(browser, live_server, check_a11y, screenshot):
    agency = make_agency(code="DEMO", name="デモ保険サービス")
    contract = make_contract(group=make_group(agency=agency), policy_number="DM-0001")
    member = make_member("keizoku.taro@example.jp", PASSWORD)
    PolicyLink.objects.create(member=member, contract=contract)

    page, errors = phone_page(browser, live_server)
    page.goto("/mypage/login/")
    page.get_by_label("ID（メールアドレス）").fill(member.email)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("マイページトップ")

    page.get_by_role("button", name="AIチャット").click()
    field = page.get_by_role("textbox", name="AIチャットへの質問")
    field.fill("更改の手続きはいつまで？")
    field.press("Enter")
    log = page.get_by_role("log", name="AIチャット")
    end = contract.period_end
    expect(log).to_contain_text("証券番号 DM-0001")
    expect(log).to_contain_text(f"{end.year}年{end.month}月{end.day}日 15:59まで")
    check_a11y(page)
    screenshot(page, "chat-personal-375")
    log.get_by_role("link", name="この契約の更改手続きへ").click()
    expect(page).to_have_url(re.compile(r"/clickar/"))
    assert not errors, errors


def test_a_member_reading_in_english_gets_their_own_answers_in_english(
    browser, live_server, check_a11y, screenshot
):
    agency = make_agency(code="DEMO", name="デモ保険サービス")
    contract = make_contract(group=make_group(agency=agency), policy_number="DM-0001")
    member = make_member("keizoku.taro@example.jp", PASSWORD, language="en")
    PolicyLink.objects.create(member=member, contract=contract)

    page, errors = open_page(browser, live_server.url, locale="en-US", viewport=PHONE)
    page.goto("/mypage/login/")
    page.get_by_label("ID (email address)").fill(member.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("MyPage home")

    page.get_by_role("button", name="AI chat").click()
    field = page.get_by_role("textbox", name="Your question to the AI chat")
    field.fill("When is my deadline, and why did my premium go up?")
    field.press("Enter")
    log = page.get_by_role("log", name="AI chat")
    end = contract.period_end
    expect(log).to_contain_text("Your policy: Renewal deadline")
    expect(log).to_contain_text(
        f"Online renewal is open until {end:%B} {end.day}, {end.year} 15:59"
    )
    expect(log).to_contain_text("Your policy: Why your premium changed")
    expect(log).to_contain_text("Last year's annual premium was ¥")
    personal = log.locator(".chat__personal")
    expect(personal.first.locator('[lang="ja"]')).to_have_text(contract.vehicle_model)
    for text in personal.all_inner_texts():  # nothing Japanese but the car, marked as such
        assert not re.search(r"[぀-ヿ一-鿿]", text.replace(contract.vehicle_model, "")), text
    check_a11y(page)
    screenshot(page, "chat-personal-en-375")
    log.get_by_role("link", name="Renew this policy").click()
    expect(page).to_have_url(re.compile(r"/clickar/"))
    assert not errors, errors


def test_without_javascript_the_chat_is_a_page_with_a_form_and_english_gets_english(
    browser, live_server
):
    page, _errors = phone_page(browser, live_server, javascript=False)
    page.goto("/")
    page.get_by_role("link", name="AIチャット").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("AIチャット")
    page.get_by_role("textbox", name="AIチャットへの質問").fill("I forgot my password")
    page.get_by_role("button", name="送信").click()
    answer = page.locator(".chat__faq")
    expect(answer).to_have_attribute("lang", "en")
    expect(answer).to_contain_text("Forgot your password")
    page.get_by_role("link", name=re.compile("I forgot my password")).click()
    expect(page).to_have_url(re.compile(r"/help/login/#faq-password-forgotten$"))


def test_the_full_chat_page_is_accessible_with_an_answer_and_with_an_error(
    browser, live_server, check_a11y
):
    page, errors = phone_page(browser, live_server)
    page.goto("/chat/")
    field = page.get_by_role("textbox", name="AIチャットへの質問")
    field.fill("ｷｬﾝｾﾙしたい")
    page.get_by_role("button", name="送信").click()
    expect(page.get_by_role("log")).to_contain_text("AIチャットの回答")
    check_a11y(page)
    field = page.get_by_role("textbox", name="AIチャットへの質問")
    field.fill("I forgot my password")
    page.get_by_role("button", name="送信").click()
    expect(page.locator('.chat__faq[lang="en"]').last).to_contain_text("Forgot your password")
    check_a11y(page)  # the English answer inside the Japanese page is marked as English
    page.get_by_role("textbox", name="AIチャットへの質問").fill("")
    page.get_by_role("button", name="送信").click()
    field = page.get_by_role("textbox", name="AIチャットへの質問")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("質問を入力してください。")).to_be_visible()
    check_a11y(page)
    # The refused form answers 400 on purpose; nothing else may have reached the console.
    assert all("status of 400" in e for e in errors), errors


def test_a_server_error_is_told_in_japanese_in_the_log(browser, live_server):
    page, errors = phone_page(browser, live_server)

    def fail_posts(route):
        if route.request.method == "POST":
            route.fulfill(status=500, body="")
        else:
            route.continue_()

    page.route("**/chat/", fail_posts)
    page.goto("/")
    page.get_by_role("button", name="AIチャット").click()
    field = page.get_by_role("textbox", name="AIチャットへの質問")
    field.fill("パスワードを忘れました")
    field.press("Enter")
    log = page.get_by_role("log", name="AIチャット")
    expect(log).to_contain_text("回答を取得できませんでした。時間をおいてもう一度お試しください。")
    expect(field).to_have_value("パスワードを忘れました")  # kept, to send again
    assert all("500" in e for e in errors), errors
