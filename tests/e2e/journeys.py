"""Steps the browser journeys share: logging in, filling the common forms, and reading an
interface string as the live server shows it."""

import re
from datetime import date, timedelta
from pathlib import Path

import jpholiday
from babel.support import Translations
from playwright.sync_api import Page, expect

import renkei
from renkei.services import demo
from renkei.services.dates import today

CATALOG = Translations.load(Path(renkei.__file__).parent / "translations", ["ja"], "messages")


def ui(message: str, **values) -> str:
    """An interface string as the live server shows it."""
    text = CATALOG.gettext(message)
    return text % values if values else text


def log_in(page: Page, email: str, password: str = demo.DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.fill("main form input[name=email]", email)
    page.fill("main form input[name=password]", password)
    page.click("main form button[type=submit]")
    expect(page.locator(".site-user")).to_be_visible()


def exact(text: str) -> re.Pattern:
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def past_working_day(weeks_ago: int) -> date:
    """A weekday ``weeks_ago`` weeks before today (Tokyo) that is no public holiday."""
    day = today() - timedelta(weeks=weeks_ago)
    while day.weekday() >= 5 or jpholiday.is_holiday(day):
        day -= timedelta(days=1)
    return day


def horizontal_overflow(page: Page) -> int:
    """By how many CSS pixels the page is wider than the window (0: no horizontal scroll).

    Measured once the page has loaded: right after a click that navigates, the new document
    may still be empty."""
    page.wait_for_load_state("load")
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def submit(page: Page) -> None:
    page.locator("main form.form button[type=submit]").click()
    page.wait_for_load_state()


# Why the agenda of a session registered after its time (held at once) is entered: on a
# held session, every agenda change is a correction after the session, with its reason.
REGISTERED_AFTER = "開催後に登録した会議の議題を入力するため"


def add_item(page: Page, title: str, body: str, visibility: str, minutes: int = 20) -> None:
    correction = page.locator("#agenda-correction")
    held = correction.count() > 0
    if held and correction.get_attribute("open") is None:
        correction.locator("summary").click()
    page.locator("#agenda a[href$='/items/new']").click()
    expect(page).to_have_url(re.compile(r"/sessions/\d+/items/new$"))
    form = page.locator("main form.form")
    form.locator("input[name=title]").fill(title)
    form.locator("select[name=body_id]").select_option(label=body)
    form.locator("input[name=planned_minutes]").fill(str(minutes))
    form.locator("select[name=visibility]").select_option(value=visibility)
    if held:
        form.locator("input[name=as_correction]").check()
        form.locator("input[name=correction_reason]").fill(REGISTERED_AFTER)
    submit(page)
    expect(page).to_have_url(re.compile(r"/sessions/\d+(\?correcting=1)?#agenda$"))
    expect(page.locator(".flash.flash-success")).to_be_visible()
