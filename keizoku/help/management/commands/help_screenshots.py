"""manage.py help_screenshots: photograph our own screens for the help site, from the running app.

The help pages (content/pages.toml) show each step of the guide with a screenshot. So that the
pictures never go stale, they are not drawn by hand: this command starts the real application
(``runserver``, DEBUG on) against a throwaway SQLite database filled by ``seed_demo``, then walks
the customer journey in Chromium (Playwright, Debian's /usr/bin/chromium) exactly as a customer
would — agency site, MyPage registration with the 本登録 mail, MyPage, the Clickar wizard up to
「お申込み完了」 — and saves one PNG per screen into keizoku/help/static/help/screens/. With
``--language en`` the browser prefers English and the pictures go to screens/en/ (the English
help pages show those); the walk finds each button by its label in that language (the catalogue).

Nothing touches the developer's own database or mailbox: the server, the migrations, the demo
data and the mail worker all run as child processes with their own DATABASE_URL. Re-run the
command after changing a screen and commit the PNGs; a test checks every picture the help pages
name exists.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from keizoku.core.chromium import CHROMIUM, CHROMIUM_ARGS
from keizoku.help.content import SCREENS, SCREENS_EN, help_pages

# Floating parts (the AI chat button, the session dialog) would cover the page in a picture.
HIDE_FLOATING = """() => {
  for (const el of document.querySelectorAll("body *")) {
    const position = getComputedStyle(el).position;
    if (position === "fixed" || position === "sticky") el.style.visibility = "hidden";
  }
}"""
REGISTER_AS = "DM-0002"  # the demo contract a new member registers and renews in the pictures
EMAIL = "koushin.hanako@example.jp"
MAX_HEIGHT = 1600  # px: a long page is cut here, the help text explains the rest
COLOURS = 256  # PNG palette: screens are flat colours, this keeps each file small


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _demo_contract(policy_number: str) -> dict[str, str]:
    """The registration data of a demo contract, as the customer reads it from the policy."""
    from keizoku.contracts.management.commands.seed_demo import CONTRACTS

    for row in CONTRACTS:
        if row[0] == policy_number:
            policy, _group, name, kana, birth, postal, address, phone = row[:8]
            return {
                "policy": policy,
                "name": name,
                "kana": kana,
                "birth": birth,
                "postal": postal,
                "address": address,
                "phone": phone,
            }
    raise CommandError(f"seed_demo has no contract {policy_number}")


class Command(BaseCommand):
    help = (
        "ご説明サイトの画面写真を、実際のアプリ（一時データベース＋デモデータ）から作り直します。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, help="PNG の保存先")
        parser.add_argument("--width", type=int, default=375, help="画面の幅（px）")
        parser.add_argument(
            "--language", choices=[code for code, _name in settings.LANGUAGES], default="ja"
        )

    def handle(self, *args, output: Path | None, width: int, language: str, **options):
        if not Path(CHROMIUM).exists():
            raise CommandError(f"{CHROMIUM} がありません（CHROMIUM で指定できます）。")
        output = output or (SCREENS if language == "ja" else SCREENS_EN)
        output.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="keizoku-help-") as tmp:
            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            database = Path(tmp) / "help.sqlite3"
            env = {
                key: value
                for key, value in os.environ.items()
                if key not in {"PYTEST_VERSION", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
            }
            env.update(
                DATABASE_URL=f"sqlite:///{database}",
                DEBUG="1",
                SECRET_KEY=secrets.token_urlsafe(50),
                EMAIL_URL="mailbox:",
                BASE_URL=base,
                PORT=str(port),
                KEIZOKU_DOTENV=str(Path(tmp) / "no.env"),
                DJANGO_SETTINGS_MODULE="config.settings",
            )
            self._manage(env, "migrate", "--noinput")
            self._manage(env, "createcachetable")
            self._manage(env, "seed_demo")
            server = subprocess.Popen(  # noqa: S603 (our own manage.py, a fixed argv)
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                self._wait_for(base)
                shots = _Walk(
                    base=base,
                    output=output,
                    width=width,
                    language=language,
                    deliver_mails=lambda: self._manage(
                        env,
                        "db_worker",
                        "--batch",
                        "--queue-name",
                        "*",
                        "--no-reload",
                        "--no-startup-delay",
                    ),
                    database=database,
                ).run()
            finally:
                server.terminate()
                server.wait(timeout=10)
        wanted = {step.image for page in help_pages() for step in page.steps if step.image}
        missing = wanted - set(shots)
        if missing:
            raise CommandError(f"ご説明サイトが参照する画面が撮れていません: {sorted(missing)}")
        self.stdout.write(self.style.SUCCESS(f"{len(shots)} 枚の画面を {output} に保存しました。"))

    def _manage(self, env: dict[str, str], *args: str) -> None:
        result = subprocess.run(  # noqa: S603 (our own manage.py, a fixed argv)
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode:
            raise CommandError(f"manage.py {' '.join(args)}: {result.stderr[-2000:]}")

    def _wait_for(self, base: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/help/", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise CommandError("アプリのサーバーが起動しませんでした。")


class _Walk:
    """The customer journey in Chromium, one picture per screen the help pages show."""

    def __init__(self, *, base, output, width, language, deliver_mails, database):
        self.base = base
        self.language = language
        self.locale = "ja-JP" if language == "ja" else "en-US"
        self.output = output
        self.width = width
        self.deliver_mails = deliver_mails
        self.database = database
        self.shots: list[str] = []
        self.password = secrets.token_urlsafe(12)  # a throwaway member on a throwaway database

    def run(self) -> list[str]:
        from playwright.sync_api import expect, sync_playwright

        self.expect = expect
        with translation.override(self.language), sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=[*CHROMIUM_ARGS, f"--lang={self.locale}"],  # the browser's own widgets
            )
            try:
                context = browser.new_context(
                    base_url=self.base,
                    locale=self.locale,
                    timezone_id="Asia/Tokyo",
                    viewport={"width": self.width, "height": 800},
                    device_scale_factor=1,
                )
                context.set_default_timeout(15_000)
                page = context.new_page()
                self._entry(page)
                self._register(page, browser)
                self._mypage(page)
                self._renewal(page)
                context.close()
                self._password_reset(browser)
            finally:
                browser.close()
        return self.shots

    # -- helpers

    def shot(self, page, name: str) -> None:
        from PIL import Image

        page.wait_for_load_state("networkidle")
        page.evaluate(HIDE_FLOATING)
        height = min(page.evaluate("document.documentElement.scrollHeight"), MAX_HEIGHT)
        path = self.output / name
        page.screenshot(
            path=str(path),
            full_page=True,
            clip={"x": 0, "y": 0, "width": self.width, "height": height},
            animations="disabled",
            caret="hide",
        )
        with Image.open(path) as image:
            small = image.convert("RGB").quantize(colors=COLOURS)
        small.save(path, optimize=True)
        self.shots.append(name)

    def heading(self, page, text: str) -> None:
        self.expect(page.get_by_role("heading", level=1)).to_have_text(text)

    # -- the journey

    def _entry(self, page) -> None:
        page.goto("/agency/DEMO/")
        self.shot(page, "agency-home.png")
        page.get_by_role("navigation").get_by_role("link", name=_("自動車保険")).click()
        self.shot(page, "agency-auto.png")
        page.get_by_role("link", name=_("インターネットで継続手続き（Clickar）")).click()
        self.shot(page, "agency-clickar.png")
        page.get_by_role("link", name=_("マイページへ")).click()
        self.heading(page, _("マイページ会員登録もしくはログイン"))
        self.shot(page, "login.png")

    def _register(self, page, browser) -> None:
        data = _demo_contract(REGISTER_AS)
        page.get_by_role("link", name=_("マイページ会員登録 パスワード取得")).click()
        self.heading(page, _("マイページの会員登録"))
        self.shot(page, "register-start.png")
        page.get_by_role("link", name=_("新規登録")).click()
        page.get_by_label(_("同意する")).check()
        self.shot(page, "register-terms.png")
        page.get_by_role("button", name=_("次へ")).click()
        self.heading(page, _("必要事項入力"))
        page.get_by_label(_("メールアドレス"), exact=True).fill(EMAIL)
        page.get_by_label(_("メールアドレス（確認用）")).fill(EMAIL)
        page.get_by_label(_("パスワード"), exact=True).fill(self.password)
        page.get_by_label(_("パスワード（確認用）")).fill(self.password)
        page.get_by_label(pgettext("entered in Japanese", "氏名")).fill(data["name"])
        page.get_by_label(pgettext("entered in Japanese", "フリガナ")).fill(data["kana"])
        page.get_by_label(_("生年月日")).fill(data["birth"])
        page.get_by_label(_("郵便番号")).fill(data["postal"])
        page.get_by_role("button", name=_("住所を検索")).click()
        address = page.get_by_label(pgettext("entered in Japanese", "住所"), exact=True)
        self.expect(address).not_to_have_value("")
        address.fill(data["address"])
        page.get_by_label(_("電話番号")).fill(data["phone"])
        page.get_by_label(_("旧証券番号%(n)d") % {"n": 1}).fill(data["policy"])
        self.shot(page, "register-form.png")
        page.get_by_role("button", name=_("次へ")).click()
        self.heading(page, _("登録内容確認"))
        self.shot(page, "register-confirm.png")
        page.get_by_role("button", name=_("確定")).click()
        self.heading(page, _("仮登録受付"))
        self.shot(page, "register-accepted.png")

        self.deliver_mails()
        link = self._registration_link()
        page.goto(link)
        self.heading(page, _("パスワード設定"))
        self.shot(page, "register-password.png")
        page.get_by_label(_("パスワード")).fill(self.password)
        page.get_by_role("button", name=_("登録")).click()
        self.heading(page, _("マイページ会員登録が完了しました"))
        self.shot(page, "register-done.png")

    def _registration_link(self) -> str:
        with sqlite3.connect(self.database) as db:
            rows = db.execute(
                'SELECT body FROM notifications_mailboxmessage WHERE "to" LIKE ? ORDER BY id DESC',
                (f"%{EMAIL}%",),
            ).fetchall()
        for (body,) in rows:
            match = re.search(r"https?://\S+/mypage/register/complete/\S+/", body)
            if match:
                return match.group()
        raise CommandError("本登録のメールが見つかりません。")

    def _mypage(self, page) -> None:
        page.get_by_role("link", name=_("マイページトップへ")).click()
        self.heading(page, _("マイページトップ"))
        self.shot(page, "mypage-top.png")
        page.goto(reverse("accounts:policy_link"))
        self.shot(page, "policy-link.png")
        page.goto(reverse("accounts:top"))
        page.get_by_role("link", name=_("自動車保険更改手続き")).click()
        self.heading(page, _("更改手続き可能契約一覧"))
        self.shot(page, "renewals.png")

    def _renewal(self, page) -> None:
        page.get_by_role("link", name=_("契約の更改")).first.click()
        next_button = page.get_by_role("button", name=_("次へ"), exact=True)

        self.heading(page, _("個人情報の取扱いについて"))
        page.get_by_label(_("同意する")).check()
        self.shot(page, "step-consent.png")
        next_button.click()
        self.heading(page, _("ご利用にあたっての注意事項"))
        self.shot(page, "step-notes.png")
        next_button.click()
        self.heading(page, _("重要事項説明書の確認"))
        page.get_by_label(_("確認しました")).check()
        self.shot(page, "step-disclosure.png")
        next_button.click()
        self.heading(page, _("現在のご契約内容"))
        self.shot(page, "step-current.png")
        next_button.click()
        self.heading(page, _("ご契約条件の確認"))
        page.get_by_label(_("はい（同じお車）")).check()
        self.shot(page, "step-conditions.png")
        next_button.click()
        self.heading(page, _("補償内容の選択"))
        page.get_by_role("radio", name=_("おすすめプラン")).check()
        self.shot(page, "step-plan.png")
        next_button.click()
        self.heading(page, _("保険料の確認"))
        self.shot(page, "step-premium.png")
        next_button.click()
        self.heading(page, _("告知事項の確認"))
        for group in page.get_by_role("group").all():
            group.get_by_label(_("いいえ"), exact=True).check()
        self.shot(page, "step-declarations.png")
        next_button.click()
        self.heading(page, _("お支払方法"))
        page.get_by_label(_("上記のお支払方法で申し込みます")).check()
        self.shot(page, "step-payment.png")
        next_button.click()
        self.heading(page, _("証券・約款の受け取り方法"))
        page.get_by_label(_("Web証券・Web約款（ペーパーレス割引あり）")).check()
        self.shot(page, "step-delivery.png")
        next_button.click()
        self.heading(page, _("お申込内容の最終確認"))
        page.get_by_label(_("申込内容が意向に沿っていることを確認しました")).check()
        self.shot(page, "step-confirm.png")
        page.get_by_role("button", name=_("申し込む")).click()
        page.wait_for_load_state("networkidle")
        if page.get_by_role("heading", level=1).inner_text() != _("お申込み完了"):
            # Re-authentication before 【申し込む】 (SECURITY.md): the password, then on.
            page.get_by_label(_("パスワード"), exact=True).fill(self.password)
            page.get_by_role("button", name=_("確認する")).click()
            if page.get_by_role("button", name=_("申し込む")).count():
                page.get_by_label(_("申込内容が意向に沿っていることを確認しました")).check()
                page.get_by_role("button", name=_("申し込む")).click()
        self.heading(page, _("お申込み完了"))
        self.shot(page, "complete.png")

    def _password_reset(self, browser) -> None:
        context = browser.new_context(
            base_url=self.base,
            locale=self.locale,
            viewport={"width": self.width, "height": 800},
            device_scale_factor=1,
        )
        page = context.new_page()
        page.goto(reverse("account_reset_password"))
        self.shot(page, "password-reset.png")
        context.close()
