"""A clerk's day in Chromium: staff login with TOTP, a CSV import (refused rows first), the
season dashboard, accepting one application, referring another back, the exports."""

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from keizoku.accounts.models import PolicyLink
from keizoku.backoffice.tests.conftest import (
    PASSWORD,
    make_application,
    make_staff,
    totp_code,
    wizard_application,
)
from keizoku.contracts.models import Contract
from keizoku.contracts.tests.test_import_contracts import row, to_csv
from keizoku.core.l10n import yen
from keizoku.renewals.models import Application
from tests.factories import make_agency, make_contract, make_group, make_member
from tests.processes import run_worker

from .conftest import open_page

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_clerks_day(browser, live_server, smtp_server, settings, check_a11y, screenshot):
    settings.BASE_URL = live_server.url
    agency = make_agency(code="DEMO", name="デモ保険サービス")
    group = make_group(agency=agency, code="DEMO-A", name="株式会社デモ製作所")
    applications = {}
    for number, email in (("DM-0001", "ichiro@example.jp"), ("DM-0002", "jiro@example.jp")):
        contract = make_contract(group=group, policy_number=number)
        member = make_member(email)
        PolicyLink.objects.create(member=member, contract=contract)
        applications[number] = make_application(
            contract, member, number=f"K-1234-5678-{number[-3:]}"
        )
    clerk = make_staff("clerk@demo.example.jp", "agency_staff", agency)

    page, errors = open_page(browser, live_server.url, accept_downloads=True)
    context = page.context

    def check(name: str) -> None:
        check_a11y(page)
        screenshot(page, f"backoffice-{name}")

    def heading(text: str) -> None:
        expect(page.get_by_role("heading", level=1)).to_have_text(text)

    # Log in: password, then the authenticator app's code.
    page.goto("/backoffice/")
    heading("スタッフログイン")
    check("login")
    page.get_by_label("メールアドレス").fill(clerk.email)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    heading("2段階認証")
    check("mfa")
    page.locator("input[name=code]").fill(totp_code(clerk.totp_secret))
    page.get_by_role("button", name="ログイン", exact=True).click()
    heading("更改状況")
    check("dashboard")

    # Import: a file with a refused row writes nothing; the corrected one is previewed, then in.
    page.get_by_role("link", name="CSV取込").click()
    heading("CSV取込")
    check("import")
    rows = [
        row(policy_number="DM-0101", group_code="DEMO-A"),
        row(policy_number="DM-0102", group_code="DEMO-A", phone="12345"),
    ]
    page.get_by_label("取り込むファイルの種類").select_option("contracts")
    page.get_by_label("CSVファイル").set_input_files(
        files=[{"name": "contracts.csv", "mimeType": "text/csv", "buffer": to_csv(rows).encode()}]
    )
    page.get_by_role("button", name="内容を確認する").click()
    heading("取込内容の確認")
    expect(page.get_by_role("alert")).to_contain_text("取り込めない行が1件あります")
    expect(page.get_by_role("cell", name="phone")).to_be_visible()
    check("import-refused")
    assert not Contract.objects.filter(policy_number="DM-0101").exists()
    page.get_by_role("link", name="ファイルを選び直す").click()
    rows[1]["phone"] = "03-1234-9999"
    page.get_by_label("取り込むファイルの種類").select_option("contracts")
    page.get_by_label("CSVファイル").set_input_files(
        files=[{"name": "contracts.csv", "mimeType": "text/csv", "buffer": to_csv(rows).encode()}]
    )
    page.get_by_role("button", name="内容を確認する").click()
    expect(page.get_by_role("heading", name="すべての行を取り込めます")).to_be_visible()
    check("import-preview")
    assert not Contract.objects.filter(policy_number="DM-0101").exists()
    page.get_by_role("button", name="取り込む").click()
    heading("取込の状況")
    expect(
        page.get_by_role("heading", name="取込が完了しました（新規 2件・更新 0件・変更なし 0件）。")
    ).to_be_visible()
    check("import-done")
    assert Contract.objects.filter(group=group).count() == 4
    page.get_by_role("link", name="更改状況へ").click()
    heading("更改状況")

    # The dashboard: two imported policies not registered, two applications to decide.
    expect(page.locator('[data-count="DEMO-A:not_registered"]')).to_have_text("2")
    page.locator('[data-count="DEMO-A:submitted"]').click()
    heading("契約検索")
    check("contracts-submitted")
    expect(page.locator("tbody tr")).to_have_count(2)
    page.get_by_role("link", name="DM-0001").click()
    heading(re.compile("DM-0001"))
    check("contract")
    page.get_by_role("link", name="K-1234-5678-001").click()

    # Accept the first: the premium is fixed.
    heading("申込の確認：K-1234-5678-001")
    check("application")
    page.get_by_role("button", name="受付完了にする").click()
    expect(page.get_by_text("申込を受付完了にしました。")).to_be_visible()
    expect(page.locator("#application-status")).to_have_text("受付完了")
    accepted = Application.objects.get(pk=applications["DM-0001"].pk)
    assert (accepted.status, accepted.accepted_premium) == ("accepted", 70_800)

    # Refer the second back to the customer with a message.
    page.get_by_role("link", name="申込一覧").click()
    heading("申込一覧")
    check("applications")
    page.get_by_role("link", name="K-1234-5678-002").click()
    page.get_by_label("お客さまへのメッセージ").fill("運転者の範囲をお電話でご確認させてください。")
    page.get_by_role("button", name="差し戻す").click()
    expect(page.locator("#application-status")).to_have_text("代理店確認中")
    check("referred")

    # Exports: the feed and the group's payroll list, as Excel in Japan opens them.
    page.get_by_role("link", name="出力").click()
    heading("出力")
    check("exports")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="申込データをダウンロード").click()
    data = open(download_info.value.path(), "rb").read()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    feed = list(csv.DictReader(io.StringIO(data[3:].decode("utf-8"))))
    assert [(r["acceptance_number"], r["status"]) for r in feed] == [
        ("K-1234-5678-001", "accepted"),
        ("K-1234-5678-002", "referred"),
    ]
    with page.expect_download() as download_info:
        page.get_by_role("link", name="株式会社デモ製作所の給与天引きリスト").click()
    payroll = open(download_info.value.path(), "rb").read().decode("utf-8-sig")
    assert [r["policy_number"] for r in csv.DictReader(io.StringIO(payroll))] == ["DM-0001"]

    # The customers hear of both decisions.
    run_worker()
    subjects = {m["To"]: m["Subject"] for m in smtp_server.messages}
    assert "受付が完了しました" in subjects["ichiro@example.jp"]
    assert "代理店からご連絡があります" in subjects["jiro@example.jp"]

    page.get_by_role("button", name="ログアウト").click()
    heading("スタッフログイン")
    context.close()
    # A refused import answers 400 on purpose; any other console error counts.
    errors = [error for error in errors if "status of 400" not in error]
    assert not errors, f"browser console errors: {errors}"


def test_a_clerk_opens_a_submitted_application_with_its_quote(
    browser, live_server, check_a11y, screenshot
):
    """Issue 10 W1: the page of an application with a quote was a 500 (its premium lines)."""
    agency = make_agency(code="DEMO", name="デモ保険サービス")
    group = make_group(agency=agency, code="DEMO-A", name="株式会社デモ製作所")
    contract = make_contract(group=group, policy_number="DM-0001")
    member = make_member("ichiro@example.jp")
    PolicyLink.objects.create(member=member, contract=contract)
    application = wizard_application(contract, member)  # the wizard's own quote, with its lines
    lines = application.quote["lines"]
    assert lines
    clerk = make_staff("clerk@demo.example.jp", "agency_staff", agency)

    page, errors = open_page(browser, live_server.url)
    page.goto("/backoffice/")
    page.get_by_label("メールアドレス").fill(clerk.email)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.locator("input[name=code]").fill(totp_code(clerk.totp_secret))
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.get_by_role("link", name="申込一覧").click()
    page.get_by_role("link", name=application.acceptance_number).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"申込の確認：{application.acceptance_number}"
    )
    expect(page.locator("#application-status")).to_have_text("申込済み")
    expect(page.locator("#quoted-premium")).to_have_text(yen(application.annual_premium))
    breakdown = page.get_by_role("table", name="保険料の内訳")
    expect(breakdown.locator("tbody tr")).to_have_count(len(lines))
    for line in lines:
        expect(breakdown.get_by_role("row", name=line["label"]).first).to_contain_text(
            yen(line["premium"])
        )
    check_a11y(page)
    screenshot(page, "backoffice-application-with-quote")

    # A refused decision re-renders the same page (400) with its message, never a 500.
    page.get_by_label("お客さまへのメッセージ").fill("   ")  # blank, past the browser's check
    page.get_by_role("button", name="差し戻す").click()
    expect(page.get_by_text("お客さまへのメッセージを入力してください。").first).to_be_visible()
    expect(breakdown.locator("tbody tr")).to_have_count(len(lines))
    page.context.close()
    errors = [error for error in errors if "status of 400" not in error]
    assert not errors, f"browser console errors: {errors}"


def test_a_large_import_is_followed_live_until_the_worker_is_done(
    browser, live_server, settings, check_a11y, screenshot
):
    """Above IMPORT_SYNC_MAX_ROWS the worker imports; the status page follows it by itself
    (htmx polling under the strict CSP) and shows the result without a reload."""
    settings.IMPORT_SYNC_MAX_ROWS = 2
    agency = make_agency(code="DEMO", name="デモ保険サービス")
    make_group(agency=agency, code="DEMO-A", name="株式会社デモ製作所")
    clerk = make_staff("clerk@demo.example.jp", "agency_staff", agency)
    page, errors = open_page(browser, live_server.url)
    page.goto("/backoffice/")
    page.get_by_label("メールアドレス").fill(clerk.email)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.locator("input[name=code]").fill(totp_code(clerk.totp_secret))
    page.get_by_role("button", name="ログイン", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("更改状況")

    page.goto("/backoffice/imports/")
    rows = [row(policy_number=f"DM-05{i:02d}", group_code="DEMO-A") for i in range(5)]
    page.get_by_label("取り込むファイルの種類").select_option("contracts")
    page.get_by_label("CSVファイル").set_input_files(
        files=[{"name": "season.csv", "mimeType": "text/csv", "buffer": to_csv(rows).encode()}]
    )
    page.get_by_role("button", name="内容を確認する").click()
    expect(page.get_by_text("行数が多いため、取込は順番に処理されます")).to_be_visible()
    page.get_by_role("button", name="取り込む").click()
    expect(page.get_by_role("heading", name="取込の順番を待っています")).to_be_visible()
    check_a11y(page)
    screenshot(page, "backoffice-import-queued")
    assert not Contract.objects.exists()

    run_worker()  # the worker imports while the page stays open

    expect(
        page.get_by_role("heading", name="取込が完了しました（新規 5件・更新 0件・変更なし 0件）。")
    ).to_be_visible(timeout=15_000)
    screenshot(page, "backoffice-import-done")
    assert Contract.objects.count() == 5
    assert not errors
