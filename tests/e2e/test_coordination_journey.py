"""The coordination registers in a real browser, from a referral (つなぎ) to a 支援会議 item
to a task to its carry-over: the 福祉課's secretary records a referral to the 自立相談支援
センター without the person's consent; the receiving centre's staff see nothing of it; she
takes the case to a 支援会議 (「支援会議で検討する」), whose agenda then lists it by case
number; the session is held, its minutes give the item's section a task for the centre's
chair, and the chair approves them; the task is carried onto the 支援会議's next session
(「前回からの継続事項」) until it is marked done. The case view shows the chair, now entitled
through the 支援会議, the referral, the item, the section and the task, and a member of the
協議体 alone does not find the case at all. axe checks the registers' pages.

The journey changes much of the town (a referral, a held session, approved minutes), so the
module serves a demo town of its own; its tests run in the order written, each needing the
state the one before left. The browser cannot wait for the 支援会議's day: once the case is
on its agenda, the session is moved to a past day (as the secretary would record a session
held on another day than planned) and marked held.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, Page, expect

from renkei.services import demo
from renkei.services.dates import japanese_date
from tests.e2e.conftest import serve_demo_town, setup_page
from tests.e2e.journeys import exact, log_in, past_working_day, schedule_session, submit, ui
from tests.e2e.test_accessibility import axe_source, axe_violations  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e

SECRETARY = "secretary@example.jp"  # 福祉課: the sending side, and the 支援会議's secretary
CENTRE_CHAIR = "chair.support@example.jp"  # 自立相談支援センター: the receiving side, pledged
KYOGITAI_ONLY = "member.kyogitai@example.jp"  # a member of the 協議体 (and the 第2層), no more
FROM = "みどり町 福祉課"
TO = "みどり町 自立相談支援センター"
CENTRE_CHAIR_NAME = "支援 一郎"

MEETING = "e2e 支援会議（つなぎの検討）"
NEXT_MEETING = "e2e 支援会議（翌月）"
NOTE = "家計の相談から住まいの不安が見えた。本人は同意を保留。"
MINUTES_TEXT = "- 自立相談支援センターが家計改善支援につなぐ。"
TASK = "家計改善支援の初回面談を設定する"
NO_RECORD_REASON = "出席簿は紙で保管しており、取り込みは後日行う"

CASE_NUMBER = re.compile(r"^[A-Z]*\d+-\d{4}$")
REFERRAL_PATH = re.compile(r"/referrals/(\d+)$")


@pytest.fixture(scope="module")
def live_server(tmp_path_factory) -> Iterator[str]:
    """This module's own demo town (it overrides the test session's)."""
    with serve_demo_town(tmp_path_factory.mktemp("e2e-coordination")) as url:
        yield url


@dataclass
class Journey:
    meeting_url: str  # the 支援会議 session the case is taken to
    next_url: str  # the 支援会議's next session, a month later
    referral_url: str = ""
    case_number: str = ""
    reached: set[str] = field(default_factory=set)

    def require(self, step: str) -> None:
        if step not in self.reached:
            pytest.skip(f"the journey before this one did not reach {step!r}")

    @property
    def case_url(self) -> str:
        return f"/cases/{self.case_number}"


@pytest.fixture(scope="module")
def journey(browser: Browser, live_server) -> Iterator[Journey]:
    """Two coming sessions of the 支援会議, scheduled through the UI."""
    with setup_page(browser, live_server, "coordination-setup") as page:
        log_in(page, SECRETARY)
        meeting = schedule_session(page, MEETING, [demo.SUPPORT], past_working_day(-2))
        following = schedule_session(page, NEXT_MEETING, [demo.SUPPORT], past_working_day(-6))
    yield Journey(meeting_url=meeting, next_url=following)


def console_errors(console) -> list[str]:
    """What went wrong in the console, but a refused form's own answer (400)."""
    return [message for message in console if "status of 400" not in message]


def carried_rows(page: Page):
    return page.locator("section#carried table.carried-tasks tbody tr")


# --- The journey, in order ----------------------------------------------------------------


def test_staff_record_a_referral_without_consent(page: Page, journey: Journey, console):
    log_in(page, SECRETARY)
    page.goto("/referrals/")
    page.get_by_role("link", name=ui("Record a referral"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/referrals/new$"))
    form = page.locator("main form.form")
    # The referring organisation is the recorder's own.
    expect(form.locator("select[name=from_organisation_id] option:checked")).to_have_text(FROM)
    form.locator("select[name=to_organisation_id]").select_option(label=TO)
    form.locator("label.checkbox", has_text=exact("家計")).locator("input").check()
    form.locator("label.checkbox", has_text=exact("住まい")).locator("input").check()
    form.locator("textarea[name=note]").fill(NOTE)
    form.locator("input[name=assign_case_number]").check()
    # Without the consent chosen nothing is saved, and nothing typed is lost.
    submit(page)
    expect(page).to_have_url(re.compile(r"/referrals/new$"))
    expect(page.locator(".error-summary")).to_contain_text(ui("Nothing has been saved."))
    expect(form.locator("select[name=to_organisation_id] option:checked")).to_have_text(TO)
    expect(form.locator("textarea[name=note]")).to_have_value(NOTE)
    expect(form.locator("input[name=assign_case_number]")).to_be_checked()
    housing = form.locator("label.checkbox", has_text=exact("住まい")).locator("input")
    expect(housing).to_be_checked()

    form.locator("select[name=consent]").select_option(label=ui("No consent"))
    submit(page)
    expect(page).to_have_url(REFERRAL_PATH)
    expect(page.locator(".flash.flash-success")).to_have_text(ui("The referral has been recorded."))
    facts = page.locator("main dl.facts")
    number = facts.locator("dd").first.inner_text().strip()
    assert CASE_NUMBER.match(number), number
    expect(facts).to_contain_text(ui("No consent"))
    expect(facts).to_contain_text(ui("Not taken to a support meeting"))
    journey.referral_url, journey.case_number = page.url, number

    page.goto("/referrals/")
    row = page.locator("main table.list tbody tr", has_text=number)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(TO)
    assert console_errors(console) == []
    journey.reached.add("recorded")


def test_the_receiving_side_sees_nothing_without_consent(browse, journey: Journey, console):
    journey.require("recorded")
    staff = browse(CENTRE_CHAIR)
    staff.goto("/referrals/")
    expect(staff.locator("main h1")).to_have_text(ui("Referrals"))
    expect(staff.locator("main table.list")).not_to_contain_text(journey.case_number)
    for address in (journey.referral_url, journey.case_url):
        response = staff.goto(address)
        assert response is not None and response.status == 404, address
        expect(staff.locator("main")).not_to_contain_text(journey.case_number)


def test_the_case_is_taken_to_a_support_meeting(page: Page, journey: Journey, console):
    journey.require("recorded")
    log_in(page, SECRETARY)
    page.goto(journey.referral_url)
    section = page.locator("main section", has=page.locator("h2", has_text="支援会議で検討する"))
    choice = section.locator("select[name=session_id] option", has_text=MEETING)
    section.locator("select[name=session_id]").select_option(value=choice.get_attribute("value"))
    button = section.get_by_role("button", name="支援会議で検討する")
    button.click()
    expect(page).to_have_url(journey.referral_url)
    expect(page.locator(".flash.flash-success")).to_have_text(
        ui("The case has been put on the support meeting's agenda.")
    )
    meeting = page.locator("main dl.facts a[href*='/sessions/']")
    expect(meeting).to_contain_text(MEETING)
    expect(page.locator("main")).not_to_contain_text("支援会議で検討する")  # only once

    meeting.click()
    # The link leads to the item itself: confidential, titled by the case number alone.
    expect(page).to_have_url(re.compile(rf"^{re.escape(journey.meeting_url)}#item-\d+$"))
    item = page.locator(f"#agenda tr#{page.url.rsplit('#', 1)[1]}")
    title = ui("Case %(number)s (referral)", number=journey.case_number)
    expect(item).to_contain_text(title)
    expect(item.locator(".case-number")).to_have_text(
        ui("Case %(number)s", number=journey.case_number)
    )
    assert console_errors(console) == []
    journey.reached.add("on agenda")


def test_the_session_is_held_and_its_minutes_give_a_task(
    page: Page, browse, journey: Journey, console
):
    journey.require("on agenda")
    log_in(page, SECRETARY)
    # The session's day is moved to the past (the browser cannot wait for it), then held.
    page.goto(f"{journey.meeting_url}/edit")
    page.locator("main form.form input[name=start_date]").fill(past_working_day(1).isoformat())
    submit(page)
    expect(page).to_have_url(journey.meeting_url)
    page.get_by_role("button", name=ui("Mark as held")).click()
    expect(page.locator("main h1 .status.status-held")).to_have_text(ui("Held"))

    page.locator("section#minutes a[href$='/minutes']").click()
    page.locator("main form[action$='/minutes'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/minutes/\d+/edit$"))
    title = ui("Case %(number)s (referral)", number=journey.case_number)
    section = page.locator("section.minutes-edit-section").filter(
        has=page.locator("h2", has_text=title)
    )
    section.locator("textarea").fill(MINUTES_TEXT)
    section.locator("form.section-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/minutes/\d+/edit#section-\d+$"))

    section.locator("details summary").click()
    task_form = section.locator("form[action$='/actions']")
    task_form.locator("input[name$=text]").fill(TASK)
    task_form.locator("select[name$=owner_id]").select_option(label=CENTRE_CHAIR_NAME)
    task_form.locator("input[name$=due_on]").fill(past_working_day(-3).isoformat())
    task_form.locator("button[type=submit]").click()
    expect(page.locator(".flash.flash-success")).to_have_text(ui("The task has been added."))
    expect(section.locator("ul.actions-list li")).to_contain_text(TASK)

    box = page.locator("section.submit-box form")
    box.locator("[name=attendance_reason]").fill(NO_RECORD_REASON)
    box.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/minutes/\d+$"))
    version_url = page.url

    chair = browse(CENTRE_CHAIR)
    chair.goto(version_url)
    chair.locator("main a[href*='/approve/']").click()
    chair.locator("main form button[name=decision][value=approve]").click()
    expect(chair).to_have_url(version_url)
    expect(chair.locator(".minutes-meta")).to_contain_text(ui("Approved"))
    assert console_errors(console) == []
    journey.reached.add("task")


def test_the_task_is_carried_onto_the_next_session(page: Page, journey: Journey, console):
    journey.require("task")
    log_in(page, SECRETARY)
    page.goto(journey.next_url)
    carried = page.locator("section#carried")
    expect(carried.locator("h3")).to_have_text("前回からの継続事項")
    row = carried_rows(page).filter(has_text=TASK)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(CENTRE_CHAIR_NAME)
    expect(row).to_contain_text(demo.SUPPORT)
    # The session where it was minuted does not carry its own task.
    page.goto(journey.meeting_url)
    expect(page.locator("section#carried").filter(has_text=TASK)).to_have_count(0)
    # The secretariat's list has it, open.
    page.goto("/tasks/")
    listed = page.locator("main table.tasks tbody tr", has_text=TASK)
    expect(listed).to_contain_text(ui("Open"))
    assert console_errors(console) == []
    journey.reached.add("carried")


def test_the_case_view_shows_an_entitled_member_everything(browse, journey: Journey, console):
    journey.require("task")
    chair = browse(CENTRE_CHAIR)
    # Through the 支援会議, the receiving centre's chair now sees the referral.
    chair.goto("/referrals/")
    chair.locator("main table.list a", has_text=exact(journey.case_number)).click()
    expect(chair).to_have_url(journey.referral_url)
    chair.locator("main dl.facts a[href^='/cases/']").click()
    expect(chair).to_have_url(re.compile(rf"{re.escape(journey.case_url)}$"))
    main = chair.locator("main")
    expect(main.locator("h1")).to_have_text(ui("Case %(number)s", number=journey.case_number))
    sections = main.locator("section")
    referral = sections.nth(0).locator("tbody tr")
    expect(referral).to_have_count(1)
    expect(referral).to_contain_text(FROM)
    expect(referral).to_contain_text(TO)
    title = ui("Case %(number)s (referral)", number=journey.case_number)
    expect(sections.nth(1).locator("li")).to_contain_text([f"{MEETING}：{title}"])
    expect(sections.nth(2).locator("article.minutes-section")).to_contain_text(
        MINUTES_TEXT.removeprefix("- ")
    )
    task = sections.nth(3).locator("tbody tr")
    expect(task).to_have_count(1)
    expect(task).to_contain_text(TASK)
    expect(task).to_contain_text(CENTRE_CHAIR_NAME)
    expect(task).to_contain_text(japanese_date(past_working_day(-3), weekday=False))
    assert console_errors(console) == []


def test_the_centre_records_its_contact_through_the_meeting(browse, journey: Journey, console):
    """The receiving centre's chair, entitled through the 支援会議, makes the contact and
    records it; a step back without a reason is refused and keeps what was chosen."""
    journey.require("task")
    chair = browse(CENTRE_CHAIR)
    chair.goto(journey.referral_url)
    status = chair.locator("main form[action$='/status']")
    status.locator("select[name=status]").select_option(label=ui("Contacted"))
    status.locator("button[type=submit]").click()
    expect(chair.locator(".flash.flash-success")).to_have_text(ui("The status has been changed."))
    history = chair.locator("main section", has=chair.locator("h2", has_text=ui("History")))
    expect(history.locator("tbody tr").last).to_contain_text(CENTRE_CHAIR_NAME)

    status.locator("select[name=status]").select_option(label=ui("Received"))
    day = status.locator("input[name=on]")
    chosen = day.input_value()
    status.locator("button[type=submit]").click()
    expect(chair.locator(".error-summary")).to_contain_text(
        ui("The status goes back from “%(old)s”: give the reason.", old=ui("Contacted"))
    )
    expect(status.locator("select[name=status] option:checked")).to_have_text(ui("Received"))
    expect(day).to_have_value(chosen)
    expect(chair.locator("main dl.facts")).to_contain_text(ui("Contacted"))
    assert console_errors(console) == []


def test_a_member_of_the_kyogitai_alone_finds_no_case(browse, journey: Journey):
    journey.require("task")
    member = browse(KYOGITAI_ONLY)
    for address in (journey.case_url, journey.referral_url):
        response = member.goto(address)
        assert response is not None and response.status == 404, address
    member.goto("/referrals/")
    expect(member.locator("main table.list")).not_to_contain_text(journey.case_number)


def test_marking_the_task_done_removes_it_from_the_next_session(
    page: Page, journey: Journey, console
):
    journey.require("carried")
    log_in(page, SECRETARY)
    page.goto(journey.next_url)
    row = carried_rows(page).filter(has_text=TASK)
    row.get_by_role("button", name=ui("Mark as done")).click()
    expect(page).to_have_url(f"{journey.next_url}#carried")
    expect(page.locator(".flash.flash-success")).to_have_text(
        ui("The task has been marked as done.")
    )
    # Done before the next session, the task is no longer carried onto it.
    expect(carried_rows(page).filter(has_text=TASK)).to_have_count(0)
    page.goto("/tasks/")
    listed = page.locator("main table.tasks tbody tr", has_text=TASK)
    expect(listed.locator("td").last).to_have_text(ui("Done"))
    assert console_errors(console) == []


# --- Accessibility ------------------------------------------------------------------------


def test_the_registers_pages_pass_axe(page: Page, journey: Journey, axe_source, console):  # noqa: F811
    journey.require("task")
    log_in(page, SECRETARY)
    found = {}
    pages = ["/referrals/", "/referrals/new", journey.referral_url, "/tasks/", "/tasks/new"]
    for address in [*pages, journey.case_url]:
        page.goto(address)
        found[address] = axe_violations(page, axe_source)
    # The referral form as it comes back with errors.
    page.goto("/referrals/new")
    submit(page)
    found["/referrals/new (errors)"] = axe_violations(page, axe_source)
    assert {a: v for a, v in found.items() if v} == {}
    assert console_errors(console) == []
