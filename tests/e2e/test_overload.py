"""Overload in Chromium: a full web process shows 「ただいま混雑しています」 in place, accessible, and
the customer's 【もう一度表示する】 / 【もう一度送信する】 resumes where they were (issue 11)."""

import pytest
from playwright.sync_api import expect

from keizoku.accounts.models import PolicyLink
from keizoku.core import admission
from keizoku.renewals.models import Application
from tests.factories import make_contract, make_group, make_member

from .conftest import open_page

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "x9Lq2!zz"


def test_the_busy_page_is_accessible_and_resumes_a_page_and_a_posted_step(
    browser, live_server, settings, check_a11y, screenshot
):
    contract = make_contract(group=make_group(), policy_number="P-0001")
    member = make_member("member@example.jp", PASSWORD)
    PolicyLink.objects.create(member=member, contract=contract)
    settings.ADMISSION_SLOTS = 1
    settings.ADMISSION_MAX_WAIT_MS = 0
    settings.ADMISSION_OVERLOAD_WAIT_MS = 0
    admission.gate_reset()
    gate = admission.gate()
    page, errors = open_page(browser, live_server.url, viewport={"width": 375, "height": 800})
    try:
        page.goto("/mypage/login/")
        page.get_by_label("ID（メールアドレス）").fill(member.email)
        page.get_by_label("パスワード").fill(PASSWORD)
        page.get_by_role("button", name="ログイン", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("マイページトップ")

        # A page asked for while the process is full, then shown again.
        assert gate.enter().admitted  # a long request holds the only slot
        page.get_by_role("link", name="自動車保険更改手続き").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("ただいま混雑しています")
        assert page.url.endswith("/mypage/renewals/")  # in place: a reload is the same page
        check_a11y(page)
        screenshot(page, "busy-get-375")
        gate.leave(0.01)
        page.get_by_role("link", name="もう一度表示する").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("更改手続き可能契約一覧")

        # A step answered while the process is full: nothing saved, sent again, taken.
        page.get_by_role("link", name="契約の更改").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("個人情報の取扱いについて")
        page.get_by_label("同意する").check()
        assert gate.enter().admitted
        page.get_by_role("button", name="次へ").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("ただいま混雑しています")
        expect(page.get_by_text("入力した内容は失われていません")).to_be_visible()
        assert "consent" not in Application.objects.get().completed_steps
        check_a11y(page)
        screenshot(page, "busy-post-375")
        gate.leave(0.01)
        page.get_by_role("button", name="もう一度送信する").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("ご利用にあたっての注意事項")
        assert "consent" in Application.objects.get().completed_steps
    finally:
        page.context.close()
        admission.gate_reset()
    # The browser logs each 503 it received; nothing else may appear (CSP, scripts).
    assert [error for error in errors if "503" not in error] == []
