"""A customer follows the guide from the agency site to the MyPage login page (guide ①②③)."""

import pytest
from playwright.sync_api import expect

from tests.factories import make_agency

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("width", [1280, 375])
def test_a_customer_reaches_the_mypage_login_page_in_three_clicks(
    page, live_server, check_a11y, screenshot, width
):
    make_agency(code="DEMO", name="デモ保険サービス")
    page.set_viewport_size({"width": width, "height": 900})

    page.goto("/agency/DEMO/")
    expect(page).to_have_title("ホーム｜デモ保険サービス")
    check_a11y(page)
    page.get_by_role("navigation").get_by_role("link", name="自動車保険").click()  # ①

    expect(page.get_by_role("heading", level=1)).to_have_text("自動車保険")
    check_a11y(page)
    page.get_by_role("link", name="インターネットで継続手続き（Clickar）").click()  # ②

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "インターネットで継続手続き（Clickar）"
    )
    check_a11y(page)
    page.get_by_role("link", name="マイページへ").click()  # ③

    expect(page).to_have_url(f"{live_server.url}/mypage/login/")
    expect(page.get_by_label("ID（メールアドレス）")).to_be_visible()
    expect(page.get_by_label("パスワード")).to_be_visible()
    expect(page.get_by_role("button", name="ログイン", exact=True)).to_be_visible()
    check_a11y(page)
    screenshot(page, f"mypage-login-{width}")


def test_the_skip_link_moves_focus_to_the_main_content(page, live_server):
    make_agency(code="DEMO", name="デモ保険サービス")
    page.goto("/agency/DEMO/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="本文へスキップ")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/agency/DEMO/#main")
    expect(page.locator("main")).to_be_focused()


def test_htmx_is_loaded_under_the_strict_csp(page):
    make_agency(code="DEMO", name="デモ保険サービス")
    page.goto("/agency/DEMO/")
    assert page.evaluate("typeof window.htmx") == "object"
