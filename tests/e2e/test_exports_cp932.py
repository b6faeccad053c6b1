"""A clerk exports the payroll-deduction list in Shift_JIS (CP932) in Chromium: the report of every
character CP932 cannot hold, then the file, read back with cp932."""

import csv
import io

import pytest
from playwright.sync_api import expect

from keizoku.backoffice.tests.conftest import PASSWORD, make_application, make_staff, totp_code
from tests.factories import make_agency, make_contract, make_group, make_member

from .conftest import open_page

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_clerk_sees_what_cp932_cannot_hold_then_downloads_the_payroll_list(
    browser, live_server, check_a11y, screenshot
):
    agency = make_agency(code="DEMO", name="デモ保険サービス")
    group = make_group(agency=agency, code="DEMO-A", name="株式会社デモ製作所")
    for number, name in (
        ("DM-0001", "𠮷田 髙﨑"),
        ("DM-0002", "継続 花子😀"),
        ("DM-0003", "継続 太郎"),
    ):
        make_application(
            make_contract(group=group, policy_number=number, holder_name=name),
            make_member(f"{number.lower()}@example.jp"),
            status="accepted",
            number=f"K-1234-5678-{number[-3:]}",
            accepted_premium=60_000,
        )
    clerk = make_staff("clerk@demo.example.jp", "agency_staff", agency)

    page, errors = open_page(
        browser, live_server.url, viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    page.goto("/backoffice/")
    page.get_by_label("メールアドレス").fill(clerk.email)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.locator("input[name=code]").fill(totp_code(clerk.totp_secret))
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.get_by_role("link", name="出力").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("出力")
    check_a11y(page)

    page.get_by_role("link", name="Shift_JIS（CP932）で出力：株式会社デモ製作所").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Shift_JIS（CP932）での出力")
    expect(page.get_by_role("status")).to_contain_text(
        "Shift_JIS（CP932）にない文字が2か所あります"
    )
    table = page.get_by_role("table", name="置き換える文字")
    expect(table.get_by_role("row")).to_have_count(3)
    expect(table.get_by_role("row").nth(1)).to_contain_text("𠮷（U+20BB7）")
    expect(table.get_by_role("row").nth(1)).to_contain_text("DM-0001")
    expect(table.get_by_role("row").nth(2)).to_contain_text("〓")
    page.get_by_text("置き換えの規則").click()
    expect(page.get_by_text("𠮷→吉")).to_be_visible()
    check_a11y(page)
    screenshot(page, "backoffice-export-cp932-1280")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="この内容でダウンロード（Shift_JIS）").click()
    download = download_info.value
    assert download.suggested_filename.endswith("-sjis.csv")
    data = open(download.path(), "rb").read()
    rows = list(csv.DictReader(io.StringIO(data.decode("cp932"), newline="")))
    assert [row["holder_name"] for row in rows] == ["吉田 髙﨑", "継続 花子〓", "継続 太郎"]
    assert not errors, errors
    page.context.close()
