"""Where customers hesitated (issue 16), in Chromium at 375 px and 1280 px with axe-core:
the step bar with titles, the 「AIチャット」 button that covers nothing on any page of the journey,
「おすすめの理由」, and the page of an expired registration link."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from keizoku.accounts.models import PolicyLink
from keizoku.notifications.models import OutboundMail
from keizoku.renewals import steps
from keizoku.renewals.models import Application
from tests.factories import make_agency, make_contract, make_group, make_member

from .conftest import open_page

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "x9Lq2!zz"
VIEWPORTS = {"375": {"width": 375, "height": 800}, "1280": {"width": 1280, "height": 900}}
# Last year's cover with the usual gaps, so that 「おすすめプラン」 has four reasons to give.
THIN = {
    "personal_injury": "30000000",
    "property_damage": "30000000",
    "deductible": "0-10",
    "riders": "liability",
}

# Everything a customer acts on or reads a price from, and the visible 「AIチャット」 launcher:
# their boxes may not meet, with the page at the top, halfway and at the bottom (a launcher
# fixed to the viewport would pass over the page while it scrolls).
LAUNCHER_OVERLAPS = """() => {
  const shown = (el) => {
    const style = getComputedStyle(el);
    return style.display !== "none" && style.visibility !== "hidden" && el.getClientRects().length > 0;
  };
  const launcher = [...document.querySelectorAll("[data-chat] .chat__toggle")].find(shown);
  if (!launcher) return {error: "no visible 「AIチャット」 launcher"};
  const targets = [...document.querySelectorAll(
    "input:not([type=hidden]), button, a[href], select, textarea, label, .price"
  )].filter((el) => !el.closest("[data-chat]") && shown(el));
  const root = document.documentElement;
  const overlaps = [];
  for (const y of [0, (root.scrollHeight - innerHeight) / 2, root.scrollHeight]) {
    window.scrollTo(0, y);
    const a = launcher.getBoundingClientRect();
    for (const el of targets) {
      for (const b of el.getClientRects()) {
        if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) {
          overlaps.push(`${Math.round(window.scrollY)}px: ${el.outerHTML.slice(0, 120)}`);
        }
      }
    }
  }
  window.scrollTo(0, 0);
  const box = launcher.getBoundingClientRect();
  const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  return {
    overlaps,
    onTop: launcher.contains(hit),
    inView: box.left >= 0 && box.right <= innerWidth && box.top >= 0,
    width: box.width,
    height: box.height,
    pageWidth: root.scrollWidth,
  };
}"""


def check_launcher(page: Page) -> None:
    """The launcher overlaps nothing, nothing covers it, it fits, and it opens the chat."""
    found = page.evaluate(LAUNCHER_OVERLAPS)
    assert "error" not in found, found
    assert found["overlaps"] == [], found["overlaps"]
    assert found["onTop"] and found["inView"], found
    assert found["height"] >= 44, found  # a touch target
    assert found["pageWidth"] <= page.viewport_size["width"], "the page scrolls sideways"
    toggle = page.get_by_role("button", name="AIチャット")
    toggle.click()
    question = page.get_by_role("textbox", name="AIチャットへの質問")
    expect(question).to_be_focused()
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(question).to_be_hidden()


def heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


@pytest.mark.parametrize("width", VIEWPORTS)
def test_the_chat_button_covers_nothing_on_any_page_of_the_journey(
    width, browser, live_server, settings, check_a11y, screenshot
):
    """Agency site → login → registration → MyPage → every wizard step → 「お申込み完了」."""
    settings.BASE_URL = live_server.url
    agency = make_agency(code="DEMO", name="デモ保険サービス")
    make_contract(group=make_group(agency=agency), policy_number="DM-0001", **THIN)
    page, errors = open_page(browser, live_server.url, viewport=VIEWPORTS[width])
    visited = []

    def check(name: str) -> None:
        screenshot(page, f"experience-{name}-{width}")
        check_a11y(page)
        check_launcher(page)
        visited.append(name)

    # Guide ①②③: the agency site, then the MyPage login page.
    page.goto("/agency/DEMO/")
    check("agency-home")
    page.get_by_role("navigation").get_by_role("link", name="自動車保険").click()
    check("agency-auto")
    page.get_by_role("link", name="インターネットで継続手続き（Clickar）").click()
    check("agency-clickar")
    page.get_by_role("link", name="マイページへ").click()
    check("login")

    # Registration, steps 1–7.
    page.get_by_role("link", name="マイページ会員登録 パスワード取得").click()
    heading(page, "マイページの会員登録")
    check("register-start")
    page.get_by_role("link", name="新規登録").click()
    check("register-terms")
    page.get_by_label("同意する").check()
    page.get_by_role("button", name="次へ").click()
    heading(page, "必要事項入力")
    check("register-form")
    page.get_by_label("メールアドレス", exact=True).fill("keizoku.taro@example.jp")
    page.get_by_label("メールアドレス（確認用）", exact=True).fill("keizoku.taro@example.jp")
    page.get_by_label("パスワード", exact=True).fill(PASSWORD)
    page.get_by_label("パスワード（確認用）", exact=True).fill(PASSWORD)
    page.get_by_label("氏名", exact=True).fill("継続 太郎")
    page.get_by_label("フリガナ", exact=True).fill("ケイゾク タロウ")
    page.get_by_label("生年月日", exact=True).fill("1980-04-01")
    page.get_by_label("郵便番号", exact=True).fill("100-0005")
    page.get_by_label("住所", exact=True).fill("東京都千代田区丸の内一丁目2番3号")
    page.get_by_label("電話番号", exact=True).fill("03-1234-5678")
    page.get_by_label("旧証券番号1", exact=True).fill("DM-0001")
    page.get_by_role("button", name="次へ").click()
    heading(page, "登録内容確認")
    check("register-confirm")
    page.get_by_role("button", name="確定").click()
    heading(page, "仮登録受付")
    check("register-accepted")
    mail = OutboundMail.objects.get(kind="registration")
    link = re.search(r"https?://\S+/mypage/register/complete/\S+/", mail.body).group()
    page.goto(link)
    heading(page, "パスワード設定")
    check("register-password")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="登録").click()
    heading(page, "マイページ会員登録が完了しました")
    check("register-done")

    # MyPage, steps 8–9.
    page.get_by_role("link", name="マイページトップへ").click()
    heading(page, "マイページトップ")
    check("mypage-top")
    page.get_by_role("link", name="自動車保険更改手続き").click()
    heading(page, "更改手続き可能契約一覧")
    check("mypage-renewals")
    page.get_by_role("link", name="契約の更改").click()

    # Clickar, steps 10–20: each page checked before it is answered.
    def step(slug: str) -> None:
        heading(page, str(steps.BY_SLUG[slug].title))
        check(f"step-{steps.BY_SLUG[slug].number}-{slug}")

    step("consent")
    page.get_by_label("同意する").check()
    page.get_by_role("button", name="次へ").click()
    step("notes")
    page.get_by_role("button", name="次へ").click()
    step("disclosure")
    page.get_by_label("確認しました").check()
    page.get_by_role("button", name="次へ").click()
    step("current")
    page.get_by_role("button", name="次へ").click()
    step("conditions")
    page.get_by_label("はい（同じお車）").check()
    page.get_by_role("button", name="次へ").click()
    step("plan")
    page.get_by_role("radio", name="おすすめプラン").check()
    page.get_by_role("button", name="次へ").click()
    step("premium")
    page.get_by_role("button", name="次へ").click()
    step("declarations")
    for group in page.get_by_role("group").all():
        group.get_by_label("いいえ").check()
    page.get_by_role("button", name="次へ").click()
    step("payment")
    page.get_by_label("上記のお支払方法で申し込みます").check()
    page.get_by_role("button", name="次へ").click()
    step("delivery")
    page.get_by_label("Web証券・Web約款（ペーパーレス割引あり）").check()
    page.get_by_role("button", name="次へ").click()
    step("confirm")
    page.get_by_label("申込内容が意向に沿っていることを確認しました").check()
    page.get_by_role("button", name="申し込む").click()
    # A login older than 5 minutes (here: the one registration made) passes 「ご本人確認」 first.
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("ご本人確認|お申込み完了"))
    if page.get_by_role("heading", level=1).inner_text() == "ご本人確認":
        check("reauthenticate")
        page.get_by_label("パスワード").fill(PASSWORD)
        page.get_by_role("button", name="確認").click()
        heading(page, "お申込内容の最終確認")
        page.get_by_label("申込内容が意向に沿っていることを確認しました").check()
        page.get_by_role("button", name="申し込む").click()
    heading(page, "お申込み完了")
    check("complete")

    assert Application.objects.get().acceptance_number
    assert [name for name in visited if name != "reauthenticate"] == [
        *("agency-home", "agency-auto", "agency-clickar", "login"),
        *("register-start", "register-terms", "register-form", "register-confirm"),
        *("register-accepted", "register-password", "register-done"),
        *("mypage-top", "mypage-renewals"),
        *(f"step-{s.number}-{s.slug}" for s in steps.STEPS),
        "complete",
    ]
    # A refused form answers 400 on purpose; nothing else may reach the console.
    assert [error for error in errors if "status of 400" not in error] == []
    page.context.close()


# --- the step bar and 「おすすめの理由」 ---------------------------------------------------------


def member_at_the_plan_step(**coverages) -> Application:
    """A logged-in-able member whose application has steps 10–14 done."""
    contract = make_contract(group=make_group(), policy_number="DM-0002", **coverages)
    member = make_member("hanako@example.jp", PASSWORD)
    PolicyLink.objects.create(member=member, contract=contract)
    done = [s.slug for s in steps.STEPS[: steps.SLUGS.index("plan")]]
    return Application.objects.create(
        contract=contract,
        member=member,
        period_start=contract.period_end,
        completed_steps=done,
        answers={"notes": {"eligible": True}},
    )


def log_in(page: Page, email: str) -> None:
    page.goto("/mypage/login/")
    page.get_by_label("ID（メールアドレス）").fill(email)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    heading(page, "マイページトップ")


@pytest.mark.parametrize("width", VIEWPORTS)
def test_the_step_bar_and_the_reasons_of_the_recommendation(
    width, browser, live_server, check_a11y, screenshot
):
    application = member_at_the_plan_step(**THIN)
    page, errors = open_page(browser, live_server.url, viewport=VIEWPORTS[width])
    log_in(page, application.member.email)
    page.goto(f"/clickar/{application.contract_id}/plan/")
    heading(page, "補償内容の選択")

    bar = page.get_by_role("navigation", name="手続きの進み具合")
    current = bar.locator('[aria-current="step"]')
    expect(current).to_have_count(1)
    expect(current).to_contain_text("補償内容の選択")
    expect(current).to_contain_text("現在の手順")
    expect(bar.get_by_role("listitem")).to_have_count(len(steps.STEPS))
    now = bar.locator(".progress__now")
    expect(now).to_contain_text("全20手順のうち手順15")  # read out, even where it is not shown
    titles = bar.locator(".progress__title")
    if width == "375":
        # 「手順 15／20 補償内容の選択」 over the bar; the titles are left to screen readers.
        number, title = now.locator('[aria-hidden="true"]'), now.locator(".progress__now-title")
        expect(number).to_have_text("手順 15／20")
        expect(title).to_have_text("補償内容の選択")
        assert number.bounding_box()["y"] == title.bounding_box()["y"]  # one line
        assert all(box["width"] <= 1 for box in map(lambda t: t.bounding_box(), titles.all()))
    else:
        # Every step's number and title, side by side in one row.
        boxes = [title.bounding_box() for title in titles.all()]
        assert all(box["width"] > 40 and box["height"] > 10 for box in boxes), boxes
        assert len({round(box["y"]) for box in boxes}) == 1
        expect(titles.nth(0)).to_have_text(str(steps.STEPS[0].title))
        expect(now).not_to_be_in_viewport()  # visually hidden: the titles say it

    # 「おすすめの理由」 in the 「おすすめプラン」 card: one reason per change, with its monthly cost.
    card = page.locator("section.plan", has=page.get_by_role("radio", name="おすすめプラン"))
    expect(card.get_by_role("heading", name="おすすめの理由")).to_be_visible()
    reasons = card.locator(".reason")
    expect(reasons).to_have_count(4)
    expect(reasons.nth(0)).to_contain_text("弁護士費用特約を追加")
    expect(reasons.nth(0)).to_contain_text("もらい事故")
    for reason in reasons.all():
        expect(reason).to_contain_text(
            re.compile(r"毎月の給与天引き [+-]?[\d,]+円（年間 [+-]?[\d,]+円）")
        )
    plan_cards = page.locator("section.plan")
    expect(plan_cards).to_have_count(3)
    if width == "1280":  # side by side
        assert len({round(card.bounding_box()["y"]) for card in plan_cards.all()}) == 1
    check_a11y(page)
    screenshot(page, f"experience-plan-reasons-{width}")
    page.get_by_role("radio", name="おすすめプラン").check()
    page.get_by_role("button", name="次へ").click()
    heading(page, "保険料の確認")
    assert not errors, errors
    page.context.close()


@pytest.mark.parametrize("width", VIEWPORTS)
def test_when_the_cover_already_meets_the_recommendation_one_card_says_so(
    width, browser, live_server, check_a11y, screenshot
):
    application = member_at_the_plan_step()  # 弁護士費用特約, 5,000万円, 無制限, 5-10 already
    page, errors = open_page(browser, live_server.url, viewport=VIEWPORTS[width])
    log_in(page, application.member.email)
    page.goto(f"/clickar/{application.contract_id}/plan/")
    heading(page, "補償内容の選択")
    expect(page.locator("section.plan")).to_have_count(2)
    same = page.get_by_role("radio", name="前年同等プラン")
    expect(same).to_have_accessible_description(
        "現在のご契約の補償内容は、おすすめプランの内容をすでに満たしています。このまま継続いただけます。"
    )
    expect(page.locator("section.plan").first).to_contain_text("おすすめプラン")
    expect(page.get_by_role("heading", name="おすすめの理由")).to_have_count(0)
    check_a11y(page)
    screenshot(page, f"experience-plan-same-{width}")
    same.check()
    page.get_by_role("button", name="次へ").click()
    heading(page, "保険料の確認")
    assert not errors, errors
    page.context.close()


# --- an expired registration link, after the pending registration was purged ------------------


@pytest.mark.parametrize("width", VIEWPORTS)
def test_an_expired_link_says_so_and_what_to_do_after_the_purge(
    width, browser, live_server, settings, check_a11y, screenshot
):
    from keizoku.accounts.services import registration_purge_expired, registration_submit
    from keizoku.accounts.tests.test_registration import registration_data

    settings.BASE_URL = live_server.url
    sent = timezone.now() - timedelta(hours=24, seconds=1)
    registration_submit(data=registration_data(), now=sent)
    assert registration_purge_expired() == 1
    link = re.search(r"https?://\S+", OutboundMail.objects.get(kind="registration").body).group()

    page, errors = open_page(browser, live_server.url, viewport=VIEWPORTS[width])
    response = page.goto(link)
    assert response.status == 410
    heading(page, "URLの有効期限が切れています")
    expect(page.get_by_text("期限切れ").first).to_be_visible()
    expect(page.get_by_role("link", name="会員登録をやり直す")).to_be_visible()
    expect(page.get_by_role("link", name="ログイン画面へ")).to_be_visible()
    check_a11y(page)
    screenshot(page, f"experience-link-expired-{width}")
    page.get_by_role("link", name="会員登録をやり直す").click()
    heading(page, "マイページの会員登録")
    # The 410 of the document itself is the only console error allowed here.
    assert all("Failed to load resource" in error for error in errors), errors
    page.context.close()
