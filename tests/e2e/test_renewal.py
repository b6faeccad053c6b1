"""A member renews in Chromium from the agency site to 「お申込み完了」 (guide ① to step 21), at 375 px."""

import re
import subprocess

import pytest
from playwright.sync_api import expect

from keizoku.accounts.models import PolicyLink
from keizoku.renewals.models import Application
from tests.factories import make_agency, make_contract, make_group, make_member
from tests.processes import run_worker

from .conftest import open_page

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "x9Lq2!zz"


def test_a_member_renews_from_the_agency_site_to_the_acceptance_number(
    browser, live_server, smtp_server, settings, check_a11y, screenshot, tmp_path
):
    settings.BASE_URL = live_server.url
    agency = make_agency(code="DEMO", name="デモ保険サービス")
    # 人身傷害 3,000万円 last year: 「おすすめプラン」 differs from 「前年同等プラン」.
    contract = make_contract(
        group=make_group(agency=agency), policy_number="DM-0001", personal_injury="30000000"
    )
    member = make_member("keizoku.taro@example.jp", PASSWORD)
    PolicyLink.objects.create(member=member, contract=contract)

    page, errors = open_page(
        browser, live_server.url, viewport={"width": 375, "height": 800}, accept_downloads=True
    )
    context = page.context

    def check(name: str) -> None:
        check_a11y(page)
        screenshot(page, f"renewal-{name}-375")

    page.goto("/agency/DEMO/")
    page.get_by_role("navigation").get_by_role("link", name="自動車保険").click()
    page.get_by_role("link", name="インターネットで継続手続き（Clickar）").click()
    page.get_by_role("link", name="マイページへ").click()
    page.get_by_label("ID（メールアドレス）").fill(member.email)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("マイページトップ")
    page.get_by_role("link", name="自動車保険更改手続き").click()
    page.get_by_role("link", name="契約の更改").click()

    def heading(text: str) -> None:
        expect(page.get_by_role("heading", level=1)).to_have_text(text)

    # 10 – 13
    heading("個人情報の取扱いについて")
    check("10-consent")
    page.get_by_role("button", name="次へ").click()  # refused until 【同意する】
    expect(page.get_by_text("個人情報の取扱いに同意いただく必要があります。").first).to_be_visible()
    page.get_by_label("同意する").check()
    page.get_by_role("button", name="次へ").click()
    heading("ご利用にあたっての注意事項")
    check("11-notes")
    page.get_by_role("button", name="次へ").click()
    heading("重要事項説明書の確認")
    check("12-disclosure")
    page.get_by_label("確認しました").check()
    page.get_by_role("button", name="次へ").click()
    heading("現在のご契約内容")
    expect(page.get_by_text("13等級")).to_be_visible()
    check("13-current")
    page.get_by_role("button", name="次へ").click()

    # 14: conditions; 15: the three plans, the custom one re-priced live.
    heading("ご契約条件の確認")
    check("14-conditions")
    page.get_by_label("はい（同じお車）").check()
    page.get_by_role("button", name="次へ").click()
    heading("補償内容の選択")
    check("15-plan")
    custom_price = page.locator("#custom-premium")
    before = custom_price.inner_text()
    with page.expect_response(re.compile(r"/plan/$")):
        page.get_by_label("人身傷害").select_option("unlimited")
    expect(custom_price).not_to_have_text(before)
    expect(page.get_by_role("radio", name="カスタマイズ")).to_be_checked()
    expect(page.get_by_text("人身傷害を3,000万円から5,000万円に")).to_be_visible()
    page.get_by_role("radio", name="おすすめプラン").check()
    page.get_by_role("button", name="次へ").click()

    # 16 – 19
    heading("保険料の確認")
    expect(page.get_by_text("毎月の給与天引き額")).to_be_visible()
    check("16-premium")
    page.get_by_role("button", name="次へ").click()
    heading("告知事項の確認")
    check("17-declarations")
    for group in page.get_by_role("group").all():
        group.get_by_label("いいえ").check()
    page.get_by_role("button", name="次へ").click()
    heading("お支払方法")
    check("18-payment")
    page.get_by_label("上記のお支払方法で申し込みます").check()
    page.get_by_role("button", name="次へ").click()
    heading("証券・約款の受け取り方法")
    check("19-delivery")
    page.get_by_label("Web証券・Web約款（ペーパーレス割引あり）").check()
    page.get_by_role("button", name="次へ").click()

    # 20: everything, 「修正する」, the intent checkbox, 【申し込む】 (pressed twice).
    heading("お申込内容の最終確認")
    expect(page.get_by_text("おすすめプラン").first).to_be_visible()
    check("20-confirm")
    page.get_by_label("申込内容が意向に沿っていることを確認しました").check()
    button = page.get_by_role("button", name="申し込む")
    button.dblclick()

    # 21: the acceptance number, the PDF, the mail.
    heading("お申込み完了")
    check("21-complete")
    number = page.locator("#acceptance-number").inner_text()
    application = Application.objects.get()
    assert number == application.acceptance_number
    assert Application.objects.count() == 1
    with page.expect_download() as download_info:
        page.get_by_role("link", name="申込内容控え（PDF）をダウンロード").click()
    pdf = tmp_path / "receipt.pdf"
    download_info.value.save_as(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert number in text and f"{application.annual_premium:,}円" in text

    run_worker()
    mails = [m for m in smtp_server.messages if number in m["Subject"]]
    assert len(mails) == 1
    assert f"{application.annual_premium:,}円" in mails[0].get_content()

    # Back on MyPage, the policy shows its status, never 「契約の更改」 again.
    page.get_by_role("link", name="マイページトップへ戻る").click()
    expect(page.get_by_text(number).first).to_be_visible()
    page.get_by_role("link", name="自動車保険更改手続き").click()
    expect(page.get_by_role("link", name="契約の更改")).to_have_count(0)
    check("mypage-after")
    # A refused form answers 400 on purpose (the consent step above); any other error counts.
    assert [error for error in errors if "status of 400" not in error] == []
    context.close()
