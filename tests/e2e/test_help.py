"""A customer browses 「WEB更改サービスご説明サイト」 in Chromium: index → a step page → an FAQ answer."""

import subprocess
import sys

import pytest
from django.conf import settings
from playwright.sync_api import expect

from keizoku.help.content import SCREENS, faq_entries, help_pages

from .conftest import open_page


def _images_loaded(page) -> None:
    images = page.locator("main img")
    assert images.count() > 0
    for image in images.all():
        image.scroll_into_view_if_needed()
        assert image.get_attribute("alt")
        # loading="lazy": the image starts loading once scrolled to; wait for it, then check.
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 375])
def test_the_help_site_from_the_index_to_an_faq_answer(
    browser, live_server, check_a11y, screenshot, width
):
    page, errors = open_page(browser, live_server.url, viewport={"width": width, "height": 800})
    context = page.context

    # From the MyPage login page, through the footer link.
    page.goto("/mypage/login/")
    page.get_by_role("contentinfo").get_by_role("link", name="WEB更改サービスご説明サイト").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("WEB更改サービスご説明サイト")
    check_a11y(page)

    # A step page: the registration, with its screens.
    page.get_by_role("main").get_by_role(
        "link", name="マイページ会員登録（手順1〜7）"
    ).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("マイページ会員登録（手順1〜7）")
    expect(page.get_by_role("heading", name="「仮登録受付」画面")).to_be_visible()
    _images_loaded(page)
    check_a11y(page)
    screenshot(page, f"help-register-{width}")

    # Its FAQ, then the whole FAQ and one answer reached by the URL the chat cites.
    expect(page.get_by_role("heading", name="「本登録」のメールが届きません。")).to_be_visible()
    page.get_by_role("navigation", name="ご説明サイトの目次").get_by_role(
        "link", name="よくあるご質問"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("よくあるご質問")
    check_a11y(page)
    page.get_by_role("link", name="ログイン・パスワード（").click()
    expect(page.get_by_role("heading", name="ログイン・パスワード", level=2)).to_be_in_viewport()

    entry = next(e for e in faq_entries() if e.id == "password-forgotten")
    page.goto(entry.url)
    answer = page.locator("#faq-password-forgotten")
    expect(answer).to_be_in_viewport()
    expect(answer).to_contain_text("パスワードをお忘れの方")
    check_a11y(page)
    screenshot(page, f"help-faq-entry-{width}")

    # The procedure continues page to page.
    page.get_by_role("link", name="次へ：マイページと更改手続き可能契約一覧（手順8〜9）").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "マイページと更改手続き可能契約一覧（手順8〜9）"
    )
    check_a11y(page)
    context.close()
    assert not errors, errors


def test_the_screenshot_command_walks_every_screen_the_help_pages_show(tmp_path):
    """`manage.py help_screenshots` still gets through the real screens (so pictures never go stale).

    It runs the app as child processes on a throwaway SQLite database, so it needs no test DB.
    """
    # A process of its own: Playwright's sync API cannot start twice in this test thread.
    result = subprocess.run(
        [sys.executable, "manage.py", "help_screenshots", "--output", str(tmp_path)],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "枚の画面を" in result.stdout
    made = {path.name for path in tmp_path.glob("*.png")}
    named = {step.image for page in help_pages() for step in page.steps if step.image}
    assert made == named
    assert made == {path.name for path in SCREENS.glob("*.png")}
    for path in tmp_path.glob("*.png"):
        width = int.from_bytes(path.read_bytes()[16:20], "big")
        assert width == 375 and path.stat().st_size < 200_000, path.name
