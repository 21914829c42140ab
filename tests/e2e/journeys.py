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


def schedule_session(
    page: Page, title: str, bodies: list[str], day: date, start: str = "09:30", end: str = "10:30"
) -> str:
    """Schedule a session through the form, hosted by the first of ``bodies``; its address.
    On a past day it is recorded held at once."""
    page.goto("/sessions/new")
    form = page.locator("main form.form")
    form.locator("input[name=title]").fill(title)
    for body in bodies:
        option = form.locator("label.checkbox").filter(has_text=exact(body))
        option.locator("input[type=checkbox][name=body_ids]").check()
    form.locator("select[name=host_body_id]").select_option(label=bodies[0])
    form.locator("input[name=start_date]").fill(day.isoformat())
    form.locator("input[name=start_time]").fill(start)
    form.locator("input[name=end_time]").fill(end)
    submit(page)
    expect(page).to_have_url(re.compile(r"/sessions/\d+$"))
    return page.url


def open_minutes_editor(page: Page, session_url: str) -> str:
    """From the page of a held session, lay out its minutes (議事録を作成する); the editor's
    address."""
    page.goto(session_url)
    page.locator("section#minutes a[href$='/minutes']").click()
    page.locator("main form[action$='/minutes'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/minutes/\d+/edit$"))
    return page.url


def submit_minutes(page: Page, session_url: str, item_title: str, text: str) -> str:
    """Lay out the minutes of a held session, write ``text`` in the section of the agenda
    item ``item_title`` and ask the chairs for approval (saying why, if the session has no
    attendance record); the version's address."""
    open_minutes_editor(page, session_url)
    section = page.locator("section.minutes-edit-section").filter(
        has=page.locator("h2", has_text=item_title)
    )
    section.locator("textarea").fill(text)
    section.locator("form.section-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/minutes/\d+/edit#section-\d+$"))
    submit_box = page.locator("section.submit-box form")
    reason = submit_box.locator("[name=attendance_reason]")
    if reason.count():  # no attendance record: the secretary says why
        reason.fill("出席簿は紙で保管しており、取り込みは後日行う")
    submit_box.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/minutes/\d+$"))
    return page.url


def tab_to(page: Page, selector: str, limit: int = 150) -> None:
    """Press Tab until the focused element matches ``selector``, as a keyboard user would
    move through the page; fail if it never gets there."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")
