"""The search page in a real browser (Debian chromium through Playwright) against waitress.

Skipped when playwright or /usr/bin/chromium is missing. Screenshots go to
$KIOSQUE_SCREENSHOTS, else tests/screenshots/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_helpers import XSS_ID

pytest_plugins = ("web_fixtures",)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(os.environ.get("KIOSQUE_SCREENSHOTS")
                   or Path(__file__).parent / "screenshots")

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None  # type: ignore[assignment]

pytestmark = [
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing "
                       "(apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class Problems(list[str]):
    """Console errors, page errors and dialogs (an alert would mean a script ran)."""


def open_page(browser: Browser, problems: Problems, **options: Any) -> Page:
    context = browser.new_context(**{"locale": "fr-FR", "viewport": {"width": 1280,
                                                                       "height": 900}, **options})
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"),
                                      dialog.dismiss()))
    page.set_default_timeout(10_000)
    return page


@pytest.fixture()
def problems() -> Iterator[Problems]:
    found = Problems()
    yield found
    assert not found, found


@pytest.fixture()
def page(browser: Browser, problems: Problems) -> Iterator[Page]:
    opened = open_page(browser, problems)
    yield opened
    opened.context.close()


def shot(page: Page, name: str, full_page: bool = False) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def test_type_and_pick_a_suggestion_with_the_keyboard(page: Page, live_server: str) -> None:
    page.goto(live_server + "/")
    box = page.locator("#q")
    expect(box).to_be_focused()
    box.press_sequentially("élec", delay=40)
    listbox = page.locator("#q-suggestions")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    options = listbox.get_by_role("option")
    expect(options.first).to_have_text("élection")
    box.press("ArrowDown")
    box.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", "q-option-1")
    box.press("ArrowUp")
    expect(box).to_have_attribute("aria-activedescendant", "q-option-0")
    expect(options.first).to_have_attribute("aria-selected", "true")
    shot(page, "01-suggestions")
    box.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).to_have_value("élec")
    box.press_sequentially("t", delay=40)
    expect(listbox).to_be_visible()
    box.press("ArrowDown")
    chosen = options.first.inner_text()
    box.press("Enter")
    page.wait_for_url(re.compile(r"/\?q="))
    expect(box).to_have_value(chosen)
    expect(page.locator(".hit mark").first).to_be_visible()
    expect(page.locator("#result-count")).to_contain_text("résultat")
    shot(page, "02-results")


def test_filter_sort_and_paginate(page: Page, live_server: str) -> None:
    page.goto(live_server + "/?q=election")
    page.locator("input[name=lang][value=fr]").check()
    page.wait_for_url(re.compile(r"lang=fr"))
    expect(page.locator("input[name=lang][value=fr]")).to_be_checked()
    badges = page.locator(".hit .badge").all_inner_texts()
    assert badges and set(badges) == {"FR"}
    page.select_option("#sort", "newest")
    page.wait_for_url(re.compile(r"sort=newest"))
    dates = page.locator(".hit time").evaluate_all(
        "times => times.map(t => t.getAttribute('datetime'))")
    assert dates == sorted(dates, reverse=True)
    assert "from=" not in page.url  # empty fields are left out of the URL
    page.locator("nav.pagination a[rel=next]").click()
    page.wait_for_url(re.compile(r"page=2"))
    expect(page.locator("nav.pagination a[aria-current=page]")).to_have_text("2")
    assert "lang=fr" in page.url and "sort=newest" in page.url
    shot(page, "03-filtered-page-2", full_page=True)


def test_open_an_article_and_a_related_one(page: Page, live_server: str) -> None:
    page.goto(live_server + "/?q=Halonen")
    page.locator(".hit-title a").first.click()
    page.wait_for_url(re.compile(r"/articles/enwn-30814"))
    expect(page.locator("h1")).to_have_text(
        "Tarja Halonen wins the 2006 presidential election in Finland")
    expect(page.locator(".story-list a")).to_have_count(1)
    shot(page, "04-article", full_page=True)
    related = page.locator(".related a").first
    title = related.inner_text()
    related.click()
    page.wait_for_url(re.compile(r"/articles/"))
    expect(page.locator("h1")).to_have_text(title)
    page.locator(".back a").click()
    page.wait_for_url(re.compile(r"/(\?.*)?$"))


def test_switch_the_interface_language(page: Page, live_server: str) -> None:
    page.goto(live_server + "/?q=Halonen")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator(".hit time").first).to_have_text("29 janvier 2006")
    page.get_by_role("link", name="English version").click()
    page.wait_for_url(re.compile(r"ui=en"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_label("Search the news")).to_have_value("Halonen")
    expect(page.locator(".hit time").first).to_have_text("January 29, 2006")
    page.goto(live_server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")  # remembered in the cookie
    shot(page, "05-english-home")


def test_xss_payloads_stay_inert(page: Page, live_server: str) -> None:
    page.goto(live_server + "/?q=pi%C3%A8ge")
    title = page.locator(".hit-title a").first
    expect(title).to_contain_text('<script>alert("title")</script>')
    assert page.locator("img").count() == 0
    shot(page, "06-xss-results")
    page.goto(f"{live_server}/articles/{XSS_ID}")
    expect(page.locator("h1")).to_contain_text("<img src=x onerror=alert(1)>")
    expect(page.locator(".article-meta")).to_contain_text('<b onmouseover="alert(4)">')
    page.goto(live_server + "/?q=" + "%3Cscript%3Ealert(9)%3C%2Fscript%3E")
    expect(page.locator("#q")).to_have_value("<script>alert(9)</script>")
    page.wait_for_timeout(300)


def test_phone_layout(browser: Browser, problems: Problems, live_server: str) -> None:
    phone = open_page(browser, problems, viewport={"width": 390, "height": 844},
                      locale="en-US", has_touch=True, is_mobile=True)
    try:
        phone.goto(live_server + "/?q=election")
        expect(phone.locator("#filters-details")).not_to_have_attribute("open", "")
        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        shot(phone, "07-phone-results")
        phone.goto(live_server + "/articles/2017_05_07-003")
        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        shot(phone, "08-phone-article", full_page=True)
    finally:
        phone.context.close()


def test_works_without_javascript(browser: Browser, problems: Problems,
                                  live_server: str) -> None:
    page = open_page(browser, problems, java_script_enabled=False)
    try:
        page.goto(live_server + "/")
        page.fill("#q", "élection")
        page.press("#q", "Enter")
        page.wait_for_url(re.compile(r"q=%C3%A9lection"))
        page.locator("input[name=lang][value=en]").check()
        page.locator("button.apply").click()
        page.wait_for_url(re.compile(r"lang=en"))
        badges = page.locator(".hit .badge").all_inner_texts()
        assert badges and set(badges) == {"EN"}
        shot(page, "09-no-javascript")
    finally:
        page.context.close()


def test_keyboard_focus_is_visible(page: Page, live_server: str) -> None:
    page.goto(live_server + "/?q=election")
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
