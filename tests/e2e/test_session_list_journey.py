"""The list of sessions and its month calendar in a real browser: from the menu to the month,
on to the next month and into a session there; a member's month without the session being
prepared; the month on a phone as a list of days, and its week; the month on paper.

The demo town's dates follow today: the 支援調整会議's monthly series (six months from next
week) puts a session in every coming month, the 第2層's session is still being prepared.
"""

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from renkei.services.dates import today
from renkei.services.session_list import next_month
from tests.e2e.journeys import horizontal_overflow, log_in, ui

pytestmark = pytest.mark.e2e

SECRETARY = "secretary@example.jp"
MEMBER = "member.kyogitai@example.jp"  # the 協議体 and the 第2層, not the 支援調整会議
SERIES = "支援調整会議（定例）"
PREPARED = "北中学校区 第2層協議体"
PHONE = {"width": 390, "height": 844}
SESSION_PATH = re.compile(r"/sessions/\d+$")


def month_label(month: date) -> str:
    return f"{month.year}年{month.month}月"


def open_month(page: Page) -> None:
    """From the menu to the list of sessions, then to its month view."""
    page.locator(".site-nav").get_by_role("link", name=ui("Sessions"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/sessions/$"))
    page.locator(".view-switch").get_by_role("link", name=ui("Month"), exact=True).click()
    expect(page.locator("#month-heading")).to_have_text(month_label(today()))


def test_the_month_from_the_menu_to_a_session_next_month(page: Page, console):
    log_in(page, SECRETARY)
    open_month(page)
    today_cell = page.locator('table.month-calendar td[aria-current="date"]')
    expect(today_cell).to_have_count(1)
    expect(today_cell.locator(".day-number")).to_have_text(str(today().day))
    expect(today_cell.locator(".today-mark")).to_be_visible()

    page.get_by_role("link", name=ui("Next month"), exact=True).click()
    following = next_month(today().replace(day=1))
    expect(page.locator("#month-heading")).to_have_text(month_label(following))
    expect(page).to_have_url(re.compile(rf"month={following:%Y-%m}"))
    link = page.locator("table.month-calendar td:not(.outside) .day-sessions a", has_text=SERIES)
    expect(link.first).to_be_visible()
    # Each session is shown with its time.
    expect(link.first.locator(".session-time")).to_have_text("10:00")
    link.first.click()
    expect(page).to_have_url(SESSION_PATH)
    expect(page.locator("main h1")).to_contain_text(SERIES)
    assert list(console) == []


def test_a_member_does_not_find_the_session_being_prepared(page: Page, browse, console):
    """The 第2層's session is prepared (within a few weeks): its chair finds it in neither
    this month nor the next until the notice goes out; the secretariat finds it."""
    months = [today().replace(day=1), next_month(today().replace(day=1))]
    urls = [f"/sessions/?view=month&month={m:%Y-%m}" for m in months]
    log_in(page, MEMBER)
    for url in urls:
        page.goto(url)
        expect(page.locator("table.month-calendar")).to_be_visible()
        expect(page.locator("main")).not_to_contain_text(PREPARED)
    secretary = browse(SECRETARY)
    found = 0
    for url in urls:
        secretary.goto(url)
        found += secretary.locator(".day-sessions a", has_text=PREPARED).count()
    assert found == 1
    assert list(console) == []


def test_on_a_phone_the_month_is_a_list_of_days_and_the_week_a_link_away(page: Page, console):
    page.set_viewport_size(PHONE)
    log_in(page, SECRETARY)
    page.goto("/sessions/?view=month")
    assert page.evaluate("() => document.documentElement.clientWidth") == PHONE["width"]
    assert horizontal_overflow(page) <= 1
    expect(page.locator("table.month-calendar thead")).to_be_hidden()
    # The days stand one under the other, the neighbouring months' days left out.
    days = page.locator("table.month-calendar td:not(.outside)")
    first, second = days.nth(0).bounding_box(), days.nth(1).bounding_box()
    assert second["y"] > first["y"] and abs(second["x"] - first["x"]) < 1
    expect(page.locator("table.month-calendar td.outside").first).to_be_hidden()

    page.locator(".week-link").click()
    expect(page).to_have_url(re.compile(r"view=week"))
    assert horizontal_overflow(page) <= 1
    expect(page.locator("ol.week-days > li")).to_have_count(7)
    expect(page.locator('ol.week-days > li[aria-current="date"]')).to_have_count(1)
    page.get_by_role("link", name=ui("Next week"), exact=True).click()
    expect(page.locator("ol.week-days > li")).to_have_count(7)
    expect(page.locator('ol.week-days > li[aria-current="date"]')).to_have_count(0)
    assert horizontal_overflow(page) <= 1
    # The list view fits as well.
    page.goto("/sessions/?view=list")
    assert horizontal_overflow(page) <= 1
    assert list(console) == []


def test_the_month_prints_without_navigation(page: Page, console):
    log_in(page, SECRETARY)
    page.goto("/sessions/?view=month")
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator("form.session-filters")).to_be_hidden()
    expect(page.locator(".view-switch")).to_be_hidden()
    expect(page.locator("table.month-calendar")).to_be_visible()
    expect(page.locator("table.month-calendar thead")).to_be_visible()
    # The grid fits the width of A4 paper (210 mm less the margins, about 680 CSS px).
    page.set_viewport_size({"width": 680, "height": 960})
    assert horizontal_overflow(page) <= 1
    page.emulate_media(media="screen")
    assert list(console) == []
