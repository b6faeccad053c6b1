"""A customer registers exactly as the guide says (steps 1–9), the mail going through real SMTP."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import make_agency, make_contract, make_group
from tests.processes import run_worker

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "x9Lq2!zz"


def test_a_customer_registers_confirms_from_another_device_and_sees_the_renewable_list(
    browser, page, live_server, smtp_server, settings, check_a11y, screenshot
):
    settings.BASE_URL = live_server.url
    agency = make_agency(code="DEMO", name="デモ保険サービス")
    contract = make_contract(group=make_group(agency=agency), policy_number="DM-0001")

    # Guide ①②③: agency site → MyPage login/registration page.
    page.goto("/agency/DEMO/auto/clickar/")
    page.get_by_role("link", name="マイページへ").click()
    page.get_by_role("link", name="マイページ会員登録 パスワード取得").click()

    # Step 1: 【新規登録】, terms, 【同意する】 + 【次へ】 (disabled until ticked).
    expect(page.get_by_role("heading", level=1)).to_have_text("マイページの会員登録")
    check_a11y(page)
    page.get_by_role("link", name="新規登録").click()
    next_button = page.get_by_role("button", name="次へ")
    expect(next_button).to_be_disabled()
    check_a11y(page)
    page.get_by_label("同意する").check()
    expect(next_button).to_be_enabled()
    next_button.click()

    # Step 2: 「必要事項入力」, the address filled from the postal code, a second policy field.
    # Each field is found by its exact accessible name, as PRODUCT.md writes it.
    expect(page.get_by_role("heading", level=1)).to_have_text("必要事項入力")
    check_a11y(page)
    page.get_by_label("メールアドレス", exact=True).fill("keizoku.taro@example.jp")
    page.get_by_label("メールアドレス（確認用）", exact=True).fill("keizoku.taro@example.jp")
    page.get_by_label("パスワード", exact=True).fill(PASSWORD)
    page.get_by_label("パスワード（確認用）", exact=True).fill(PASSWORD)
    page.get_by_label("氏名", exact=True).fill("継続 太郎")
    page.get_by_label("フリガナ", exact=True).fill("けいぞく たろう")
    page.get_by_label("生年月日", exact=True).fill("1980-04-01")
    page.get_by_label("郵便番号", exact=True).fill("１００－０００５")
    page.get_by_role("button", name="住所を検索").click()
    address = page.get_by_label("住所", exact=True)
    expect(address).to_have_value("東京都千代田区丸の内")
    address.fill("東京都千代田区丸の内一丁目２番３号")
    page.get_by_label("電話番号", exact=True).fill("03(1234)5678")
    page.get_by_label("旧証券番号1", exact=True).fill("DM-0001")
    expect(page.get_by_label("旧証券番号2", exact=True)).to_be_hidden()
    page.get_by_role("button", name="追加").click()
    expect(page.get_by_label("旧証券番号2", exact=True)).to_be_visible()
    page.get_by_role("button", name="次へ").click()

    # Step 3: 「登録内容確認」 【確定】.
    expect(page.get_by_role("heading", level=1)).to_have_text("登録内容確認")
    expect(page.get_by_text("DM-0001")).to_be_visible()
    check_a11y(page)
    page.get_by_role("button", name="確定").click()

    # Step 4: 「仮登録受付」.
    expect(page.get_by_role("heading", level=1)).to_have_text("仮登録受付")
    expect(page.get_by_text("★ご注意★")).to_be_visible()
    check_a11y(page)

    # Step 5: the 本登録 mail arrives through SMTP.
    run_worker()
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == "keizoku.taro@example.jp"
    assert message["Subject"] == "【マイページ】本登録のご案内"
    link = re.search(r"https?://\S+/mypage/register/complete/\S+/", message.get_content()).group()

    # Step 6: the link opened on another device; the password of step 2, 【登録】.
    phone = browser.new_context(
        base_url=live_server.url, locale="ja-JP", viewport={"width": 375, "height": 800}
    )
    other = phone.new_page()
    other.goto(link)
    expect(other).to_have_url(
        f"{live_server.url}/mypage/register/password/"
    )  # token out of the URL
    expect(other.get_by_role("heading", level=1)).to_have_text("パスワード設定")
    check_a11y(other)
    other.get_by_label("パスワード").fill("wrong-pass-1")
    other.get_by_role("button", name="登録").click()
    expect(other.get_by_text("パスワードが正しくありません")).to_be_visible()
    other.get_by_label("パスワード").fill(PASSWORD)
    other.get_by_role("button", name="登録").click()

    # Step 7 then 8: done, MyPage top.
    expect(other.get_by_role("heading", level=1)).to_have_text("マイページ会員登録が完了しました")
    check_a11y(other)
    screenshot(other, "registration-done-375")
    other.get_by_role("link", name="マイページトップへ").click()
    expect(other.get_by_role("heading", level=1)).to_have_text("マイページトップ")
    expect(other.get_by_text("DM-0001")).to_be_visible()
    phone.close()

    # Back on the first browser: log in with the new ID and password, then step 9.
    page.goto("/mypage/login/")
    page.get_by_label("ID（メールアドレス）").fill("keizoku.taro@example.jp")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("マイページトップ")
    check_a11y(page)
    page.get_by_role("link", name="自動車保険更改手続き").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("更改手続き可能契約一覧")
    check_a11y(page)
    expect(page.get_by_role("link", name="契約の更改")).to_have_attribute(
        "href", f"/clickar/{contract.pk}/"
    )
    screenshot(page, "renewable-list")
