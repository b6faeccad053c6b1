"""A customer whose browser prefers English renews in English in Chromium, at 375 px: the agency
site, registration with its mail, linking a second policy, the Clickar wizard to the acceptance
number, the English mail and the English PDF. axe-core checks every page (the Japanese parts
marked lang="ja" included); every page says lang="en"."""

import re
import subprocess

import pytest
from playwright.sync_api import expect

from keizoku.accounts.models import User
from keizoku.renewals.models import Application
from tests.factories import make_agency, make_contract, make_group, make_member
from tests.processes import run_worker

from .conftest import open_page

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "x9Lq2!zz"
EMAIL = "taro.keizoku@example.jp"


def test_an_english_speaking_member_registers_links_and_renews_in_english(
    browser, live_server, smtp_server, settings, check_a11y, screenshot, tmp_path
):
    settings.BASE_URL = live_server.url
    agency = make_agency(code="DEMO", name="デモ保険サービス")
    group = make_group(agency=agency)
    # 人身傷害 3,000万円 last year: 「おすすめプラン」 differs, with its reasons.
    first = make_contract(group=group, policy_number="DM-0001", personal_injury="30000000")
    second = make_contract(group=group, policy_number="DM-0002", vehicle_plate="品川 500 さ 5678")

    page, errors = open_page(
        browser,
        live_server.url,
        locale="en-US",
        viewport={"width": 375, "height": 800},
        accept_downloads=True,
    )

    def heading(text: str) -> None:
        expect(page.get_by_role("heading", level=1)).to_have_text(text)
        expect(page.locator("html")).to_have_attribute("lang", "en")

    def check(name: str) -> None:
        check_a11y(page)
        screenshot(page, f"english-{name}-375")

    def next_step() -> None:
        page.get_by_role("button", name="Next", exact=True).click()

    # The agency site (guide ①②③) and the MyPage page, in English from Accept-Language.
    page.goto("/agency/DEMO/")
    check("agency")
    page.get_by_role("navigation").get_by_role("link", name="Car insurance").click()
    page.get_by_role("link", name="Renew online (Clickar)").click()
    check("clickar")
    page.get_by_role("link", name="Go to MyPage").click()
    heading("MyPage registration or login")
    check("login")

    # Registration (steps 1 – 7).
    page.get_by_role("link", name="Register for MyPage (get a password)").click()
    heading("MyPage registration")
    page.get_by_role("link", name="Start registration").click()
    expect(page.get_by_text("The Japanese text is the binding version.")).to_be_visible()
    expect(page.locator('p[lang="ja"]').first).to_contain_text("第1条（目的）")
    expect(page.locator(".legal__aid").first).to_contain_text("Article 1 (Purpose)")
    check("terms")
    page.get_by_label("I agree").check()
    next_step()
    heading("Enter your details")
    page.get_by_label("Email address", exact=True).fill(EMAIL)
    page.get_by_label("Email address (again)", exact=True).fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)", exact=True).fill(PASSWORD)
    page.get_by_label("Full name (in Japanese, as on your policy)").fill("継続 太郎")
    page.get_by_label("Name in katakana (furigana)").fill("けいぞく たろう")
    page.get_by_label("Date of birth").fill("1980-04-01")
    page.get_by_label("Postal code").fill("100-0005")
    page.get_by_role("button", name="Find address").click()
    address = page.get_by_label("Address (in Japanese)", exact=True)
    expect(address).to_have_value("東京都千代田区丸の内")
    address.fill("東京都千代田区丸の内1-2-3")
    page.get_by_label("Phone number").fill("03-1234-5678")
    page.get_by_label("Previous policy number 1", exact=True).fill("DM-0001")
    check("details")
    next_step()
    heading("Check your details")
    check("check")
    page.get_by_role("button", name="Confirm").click()
    heading("Provisional registration received")
    check("provisional")

    run_worker()
    (mail,) = [m for m in smtp_server.messages if m["To"] == EMAIL]
    assert mail["Subject"] == "[MyPage] Complete your registration"
    body = mail.get_content()
    assert "Dear 継続 太郎," in body and "(Japan time)" in body
    page.goto(re.search(r"https?://\S+/mypage/register/complete/\S+/", body).group())
    heading("Set your password")
    check("set-password")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    heading("Your MyPage registration is complete")
    assert User.objects.get(email=EMAIL).language == "en"
    page.get_by_role("link", name="To MyPage home").click()
    heading("MyPage home")
    check("mypage")

    # Linking a second policy from MyPage.
    page.get_by_role("link", name="Add another policy").click()
    heading("Add a policy")
    page.get_by_label("Previous policy number").fill(second.policy_number)
    page.get_by_label("Address (in Japanese)").fill(second.address)
    page.get_by_label("Phone number").fill("03-1234-5678")
    check("link")
    page.get_by_role("button", name="Register").click()
    heading("MyPage home")
    expect(
        page.get_by_text("Your policy (policy number DM-0002) was added to MyPage.")
    ).to_be_visible()

    # The Clickar wizard (steps 10 – 21).
    page.get_by_role("link", name="Renew your car insurance").click()
    heading("Policies you can renew")
    check("renewals")
    page.locator("li.card", has_text=first.policy_number).get_by_role(
        "link", name="Renew this policy"
    ).click()
    heading("Handling of personal information")
    expect(page.locator('.terms p[lang="ja"]').first).to_be_visible()
    check("10-consent")
    page.get_by_label("I agree").check()
    next_step()
    heading("Before you renew online")
    check("11-notes")
    next_step()
    heading("Important information")
    expect(page.get_by_text("Contract summary")).to_be_visible()
    check("12-disclosure")
    page.get_by_label("I have read this").check()
    next_step()
    heading("Your current policy")
    expect(page.get_by_text("Grade 13", exact=True)).to_be_visible()
    check("13-current")
    next_step()
    heading("Check your policy conditions")
    check("14-conditions")
    page.get_by_label("Yes (the same car)").check()
    next_step()
    heading("Choose your cover")
    expect(page.get_by_role("heading", name="Why we recommend it")).to_be_visible()
    expect(
        page.get_by_text("Personal injury cover from ¥30,000,000 to ¥50,000,000")
    ).to_be_visible()
    check("15-plan")
    page.get_by_role("radio", name="Recommended plan").check()
    next_step()
    heading("Check your premium")
    expect(page.get_by_text("Difference from last year's premium, by cause")).to_be_visible()
    check("16-premium")
    next_step()
    heading("Declarations")
    expect(page.get_by_text("The Japanese text is the binding version.")).to_be_visible()
    check("17-declarations")
    for question in page.get_by_role("group").all():
        question.get_by_label("No", exact=True).check()
    next_step()
    heading("Payment method")
    check("18-payment")
    page.get_by_label("I apply with the payment method above").check()
    next_step()
    heading("How you receive your policy documents")
    check("19-delivery")
    page.get_by_label("Web policy and terms (paperless discount)").check()
    next_step()
    heading("Final check of your application")
    check("20-confirm")
    expect(page.get_by_text("we may ask for your password again")).to_be_visible()
    page.get_by_label("I confirm that this application is what I want").check()
    page.get_by_role("button", name="Apply").click()
    # The registration's own login is not a password entered here: 【申し込む】 asks for it.
    heading("Confirm it is you")
    check("reauthenticate")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    heading("Final check of your application")
    page.get_by_label("I confirm that this application is what I want").check()
    page.get_by_role("button", name="Apply").click()
    heading("Application complete")
    check("21-complete")
    number = page.locator("#acceptance-number").inner_text()
    application = Application.objects.get(contract=first)
    assert number == application.acceptance_number
    premium = f"¥{application.annual_premium:,}"
    expect(page.get_by_text(f"Annual premium {premium}")).to_be_visible()

    # The English PDF and the English mail.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download your application copy (PDF)").click()
    pdf = tmp_path / "application.pdf"
    download_info.value.save_as(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "Application copy" in text and f"Acceptance number {number}" in text
    assert premium in text and "Recommended plan" in text
    assert "The Japanese text is the binding version." in text
    assert "円" not in text and "申込内容控え" not in text

    run_worker()
    (mail,) = [m for m in smtp_server.messages if number in m["Subject"]]
    assert mail["Subject"] == (
        f"[Group Auto Insurance] We have received your renewal application "
        f"(acceptance number {number})"
    )
    assert f"Annual premium:    {premium}" in mail.get_content()

    # 「日本語」 switches this very page to Japanese, for this member on any browser.
    page.get_by_role("button", name="日本語").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("お申込み完了")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    assert User.objects.get(email=EMAIL).language == "ja"
    check_a11y(page)
    assert errors == []
    page.context.close()


def test_the_idle_logout_warning_counts_down_in_english(browser, live_server, settings):
    settings.SESSION_IDLE_TIMEOUT = {"member": 8, "staff": 900}
    member = make_member(EMAIL, PASSWORD, language="en")
    page, errors = open_page(browser, live_server.url, locale="en-US")
    page.goto("/mypage/login/")
    page.get_by_label("ID (email address)").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("MyPage home")
    dialog = page.get_by_role("dialog", name="You will be logged out soon")
    expect(dialog).to_be_visible(timeout=10_000)
    expect(dialog.locator("[data-remaining]").first).to_have_text(re.compile(r"^\d+ s$"))
    assert member.language == "en" and errors == []
    page.context.close()
