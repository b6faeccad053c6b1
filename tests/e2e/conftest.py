"""Chromium (Debian's /usr/bin/chromium) driven by Playwright against pytest-django's live server."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, sync_playwright

from keizoku.core.chromium import CHROMIUM, CHROMIUM_ARGS

# Playwright's sync API runs an event loop in the test thread; the test body still talks to the
# database synchronously (factories, assertions), which Django would otherwise refuse.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "e2e"


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_page(
    browser: Browser, base_url: str, *, locale: str = "ja-JP", **options
) -> tuple[Page, list[str]]:
    """A page in a new context (a new browser profile) in Japanese (or ``locale``) and JST, with
    the console errors it logs collected in the list returned beside it. ``options`` go to
    new_context."""
    context = browser.new_context(
        base_url=base_url, locale=locale, timezone_id="Asia/Tokyo", **options
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    return page, errors


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:
    page, errors = open_page(browser, live_server.url)
    yield page
    page.context.close()
    # A CSP violation or a script error shows up on the console: fail the test on it.
    assert not errors, f"browser console errors: {errors}"


@pytest.fixture(scope="session")
def axe() -> Axe:
    return Axe()


@pytest.fixture
def check_a11y(axe):
    """Run axe-core on the current page; fail with its report on any violation."""

    def check(page: Page) -> None:
        results = axe.run(page)
        assert results.violations_count == 0, results.generate_report()

    return check


@pytest.fixture
def screenshot():
    def take(page: Page, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
