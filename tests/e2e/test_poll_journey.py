"""A date poll in a real browser: the secretary asks the 支援会議 and the 協議体 about three
slots; a member of both answers from the home page (and changes their mind); the secretary
reads the quorum per body, decides, reads the convening notice of the session it made and
sends it, and the session is convened; the result table fits a phone
by scrolling inside itself, not the page.

Like the other journeys, it looks for data and structure rather than labels (the catalog
may be compiled or not) and uses a title of its own on the shared live server.
"""

import re
from datetime import date, timedelta

import jpholiday
import pytest
from playwright.sync_api import Page, expect

from renkei.services import demo
from renkei.services.dates import today
from tests.e2e.journeys import exact, horizontal_overflow, log_in, submit, ui
from tests.e2e.test_session_journeys import SECRETARY

pytestmark = pytest.mark.e2e

MEMBER = "member.both@example.jp"
POLL_PATH = re.compile(r"/polls/(\d+)$")
CONVENE_PATH = re.compile(r"/sessions/\d+/convene$")
TITLE = "合同会議の日程（e2e）"


def working_days(n: int, weeks_ahead: int = 5) -> list[date]:
    """``n`` weekdays that are no public holiday, from ``weeks_ahead`` weeks on."""
    found, day = [], today() + timedelta(weeks=weeks_ahead)
    while len(found) < n:
        if day.weekday() < 5 and not jpholiday.is_holiday(day):
            found.append(day)
        day += timedelta(days=1)
    return found


def answer(page: Page, marks: list[str]) -> None:
    form = page.locator("#my-answer form")
    for row, mark in zip(form.locator("tbody tr").all(), marks, strict=True):
        row.locator(f"input[type=radio][value={mark}]").check()
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def test_a_joint_poll_from_question_to_session(page: Page, console):
    days = working_days(3)
    log_in(page, SECRETARY)
    page.goto("/polls/new")
    form = page.locator("main form.form")
    form.locator("input[name=title]").fill(TITLE)
    for body in (demo.SUPPORT, demo.KYOGITAI):
        form.locator("label.checkbox").filter(has_text=exact(body)).locator("input").check()
    form.locator("select[name=host_body_id]").select_option(label=demo.SUPPORT)
    for n, day in enumerate(days):
        form.locator(f"input[name=slots-{n}-day]").fill(day.isoformat())
        form.locator(f"input[name=slots-{n}-start]").fill("14:00")
        form.locator(f"input[name=slots-{n}-end]").fill("16:00")
    submit(page)
    expect(page).to_have_url(POLL_PATH)
    poll_url = page.url
    expect(page.locator("main h1")).to_contain_text(TITLE)
    expect(page.locator("table.poll-result thead th")).to_have_count(1 + 3 + 1)

    # The member of both bodies finds it on the home page and answers, then changes a slot.
    page.context.clear_cookies()
    log_in(page, MEMBER)
    page.goto("/")
    page.locator("#polls").get_by_role("link", name=TITLE).click()
    expect(page).to_have_url(poll_url)
    answer(page, ["yes", "maybe", "no"])
    answer(page, ["yes", "yes", "no"])
    checked = page.locator("#my-answer input[type=radio]:checked")
    assert [c.get_attribute("value") for c in checked.all()] == ["yes", "yes", "no"]
    # A member sees counts and quorum, not the others' names.
    expect(page.locator("table.poll-result tbody th", has_text="事務 花子")).to_have_count(0)

    # The secretary sees the row, the history, the quorum per body, and decides slot 2.
    page.context.clear_cookies()
    log_in(page, SECRETARY)
    page.goto(poll_url)
    row = page.locator("table.poll-result tbody tr").filter(has_text="兼務 三郎")
    expect(row.locator("td.num")).to_have_text(["○", "○", "×"])
    expect(page.locator("#poll-history tbody tr")).to_have_count(4)
    expect(page.locator("table.poll-result tr.quorum")).to_have_count(3)  # two bodies, all
    decide = page.locator("#decide form")
    decide.locator("input[name=slot_id]").nth(1).check()
    decide.locator("input[name=place]").fill("役場 大会議室")
    decide.locator("button[type=submit]").click()
    page.wait_for_load_state()
    # The session is saved as being prepared, and the secretary is shown its convening
    # notice: the recipients and the message with the decided place; sending convenes it.
    expect(page).to_have_url(CONVENE_PATH)
    expect(page.locator(".flash.flash-success")).to_be_visible()
    expect(page.locator("main nav.breadcrumbs")).to_contain_text(TITLE)
    recipients = page.locator("section[aria-labelledby=recipients-heading] tbody tr")
    expect(recipients.filter(has_text=MEMBER)).to_have_count(1)
    expect(page.locator(".mail-preview")).to_contain_text("役場 大会議室")
    page.get_by_role("button", name=ui("Send the convening notice"), exact=True).click()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/sessions/\d+$"))
    expect(page.locator("main h1")).to_contain_text(TITLE)
    expect(page.locator("main h1 .status.status-convened")).to_have_count(1)
    expect(page.locator("main dl.facts")).to_contain_text("役場 大会議室")
    session_url = page.url
    # The poll links the session it decided, and names who cannot come.
    page.goto(poll_url)
    expect(page.locator("#declined")).to_be_visible()
    page.locator("main dl.facts a[href^='/sessions/']").click()
    expect(page).to_have_url(session_url)

    # On a phone the wide table scrolls inside its box; the page itself does not.
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(poll_url)
    assert horizontal_overflow(page) <= 1
    assert not console, console
