"""Attendance in a real browser, from the record to the hours: the secretary records who came
to a held joint session of the 支援会議 and the 協議体, the quorum follows the record body by
body, and an administrator finds the session in 兼務 三郎's apportionment (按分) of meeting
hours, split between his two posts.

What the journey proves:

- before any record, the session page reckons the quorum from the replies, and offers
  出席記録をつける to the secretariat;
- the record form shows the pledged secretary the confidential item, and gives a member of
  the 協議体 only (地域 さくら) no box to tick for it;
- a late arrival after the end is refused in Japanese, on its row, and nothing is saved;
- once saved, the quorum is per body: the same people make the 支援会議 quorate and leave
  the 協議体 short; the late arrival shows with its time;
- the apportionment charges 兼務 三郎 only for the hour he was there, to the programme of
  the body owning that hour's item, on the page and in the CSV for Excel;
- and, on its own, that the record form marks no line with an error it does not have.

The journeys follow one session of their own, scheduled through the UI once for this module
(the live server is shared by the whole test session), and run in the order written: the
apportionment needs the record the first journey saved. Nothing here depends on whether
兼務 三郎 has pledged (test_session_journeys.py records his pledge): he arrives after the
confidential item is over.

Labels are looked up in the app's own catalog (``ui``), as in test_minutes_journey.py: the
Japanese the page shows when the catalog is compiled, the English message otherwise.
"""

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from renkei.models import Programme, Role
from renkei.services import demo
from renkei.services.dates import fiscal_year_of
from tests.e2e.conftest import setup_page
from tests.e2e.journeys import (
    add_item,
    exact,
    log_in,
    past_working_day,
    schedule_session,
    ui,
)

pytestmark = pytest.mark.e2e

SECRETARY = "secretary@example.jp"
ADMIN = "admin@example.jp"
MEMBER_BOTH = "member.both@example.jp"
NAMES = {email: name for email, name, *_ in demo.PEOPLE if email}
SECRETARY_NAME, MEMBER_NAME = NAMES[SECRETARY], NAMES[MEMBER_BOTH]  # 事務 花子, 兼務 三郎
CHAIR_SUPPORT_NAME = NAMES["chair.support@example.jp"]  # 支援 一郎, pledged for the 支援会議

TITLE = "支援会議・協議体 合同会議（e2e 出席記録）"
SECRET_TITLE = "e2e 個別ケース（出席記録）"  # the 支援会議's, confidential, first on the agenda
PUBLIC_TITLE = "e2e 生活支援の報告（出席記録）"  # the 協議体's, public, second
START, END = "13:00", "15:00"
LATE_AT, TOO_LATE = "14:00", "15:30"

# Who came. Quorum counts only the chair, vice-chairs and members, and needs a majority of
# them (demo.PEOPLE): the 支援会議 has 6 (支援 一郎, 兼務 三郎, 民生 ふみ, 税務 健, 介護 由美,
# 相談 愛), so 4 are needed; the 協議体 has 6 too (協議 次郎, 兼務 三郎, 地域 さくら, 民生 ふみ,
# 介護 由美, 生協 実; 社協 大地 only observes), 4 needed. With these and 兼務 三郎 (late), the
# 支援会議 has 4 of 6 (成立, just) and the 協議体 2 of 6 (不成立). The secretary counts for
# neither. Everyone else invited is recorded absent.
PRESENT = [SECRETARY_NAME, CHAIR_SUPPORT_NAME, "税務 健", "相談 愛", "生協 実"]
# The confidential item: only pledged members of the 支援会議 may be ticked, and were there
# (in the order of the invitees, by kana: しえん before じむ).
IN_THE_ROOM = [CHAIR_SUPPORT_NAME, SECRETARY_NAME]

# The programmes' labels (Programme), in the catalog's English.
PROGRAMMES = {
    Programme.LIVELIHOOD: "Livelihood support for needy persons",  # 生活困窮者自立支援
    Programme.CARE_INSURANCE: "Care insurance: community life-support system",  # 介護保険…
}

VOTING = (Role.CHAIR, Role.VICE_CHAIR, Role.MEMBER)


def label(programme: Programme) -> str:
    """The programme's name as the pages show it."""
    return ui(PROGRAMMES[programme])


def invited(*bodies: str) -> set[str]:
    """Names of the demo people with a term on any of ``bodies``, in any role."""
    return {name for _e, name, _k, _o, roles in demo.PEOPLE if any(b in roles for b in bodies)}


def voters(body: str) -> set[str]:
    """Names of the demo people who count towards ``body``'s quorum."""
    return {name for _e, name, _k, _o, roles in demo.PEOPLE if roles.get(body) in VOTING}


@dataclass
class Journey:
    """The module's own held session, and how far the journey has come."""

    session_url: str
    day: date
    reached: set[str] = field(default_factory=set)

    def require(self, step: str) -> None:
        if step not in self.reached:
            pytest.skip(f"the journey before this one did not reach {step!r}")


# --- Helpers, as in the other journeys ---------------------------------------------------


def quorum_row(page: Page, body: str) -> Locator:
    """The session page's quorum line of ``body``: present, members, needed, verdict."""
    rows = page.locator("section#attendance table.quorum tbody tr")
    return rows.filter(has=page.locator("th", has_text=exact(body)))


def expect_quorum(page: Page, body: str, present: int, verdict: str) -> None:
    total = len(voters(body))
    needed = total // 2 + 1
    cells = quorum_row(page, body).locator("td")
    expect(cells).to_have_text([str(present), str(total), str(needed), verdict])


def form_row(page: Page, name: str) -> Locator:
    """The attendance form's row of the invitee ``name``."""
    rows = page.locator("main form.attendance-form table.attendance tbody tr")
    return rows.filter(has=page.locator("td:first-child strong", has_text=exact(name)))


def presence(page: Page, name: str) -> Locator:
    return page.get_by_label(ui("Attendance of %(name)s", name=name), exact=True)


def arrival(page: Page, name: str) -> Locator:
    return page.get_by_label(ui("Arrival of %(name)s", name=name), exact=True)


def invitee_attendance(page: Page, name: str) -> Locator:
    """The Attendance cell of ``name`` in the session page's list of invitees."""
    rows = page.locator("#invitees table.list:not(.tally) tbody tr")
    row = rows.filter(has=page.locator("td:first-child", has_text=exact(name)))
    return row.locator("td").nth(3)


def add_post(page: Page, programme: Programme, title: str, start: date) -> Locator:
    """Fill in and send 職を追加 on a person's page; the form's section as it comes back."""
    section = page.locator("section#posts")
    details = section.locator("details")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    form = details.locator("form.form")
    form.locator("select[name=programme]").select_option(value=programme.value)
    form.locator("input[name=title]").fill(title)
    form.locator("input[name=start_on]").fill(start.isoformat())
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    return section


def post_rows(page: Page, title: str) -> Locator:
    rows = page.locator("section#posts table.list tbody tr")
    return rows.filter(has=page.locator("td:first-child", has_text=exact(title)))


# --- Fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def journey(browser: Browser, live_server) -> Iterator[Journey]:
    """Step 1: a held joint session of the 支援会議 and the 協議体 on a past working day,
    13:00–15:00, scheduled through the UI: first a confidential item of the 支援会議, then a
    public one of the 協議体, 60 minutes each."""
    with setup_page(browser, live_server, "attendance-setup") as page:
        log_in(page, SECRETARY)
        # Three weeks back: not the day of test_minutes_journey's session (two weeks back).
        day = past_working_day(3)
        session_url = schedule_session(page, TITLE, [demo.SUPPORT, demo.KYOGITAI], day, START, END)
        expect(page.locator("main h1")).to_contain_text(TITLE)
        expect(page.locator(".flash.flash-success")).to_have_text(
            ui("The session has been recorded as held. No notice is sent.")
        )

        add_item(page, SECRET_TITLE, demo.SUPPORT, "confidential", minutes=60)
        add_item(page, PUBLIC_TITLE, demo.KYOGITAI, "public", minutes=60)
        expect(page.locator("#agenda tr.agenda-item .agenda-title")).to_have_text(
            [SECRET_TITLE, PUBLIC_TITLE]
        )

        # Held: in the past, it is recorded held at once (開催済), with no notice, and the page
        # head offers 未開催に戻す instead of 開催済にする.
        expect(page.locator("main h1 .status.status-held")).to_have_text(ui("Held"))
        expect(page.locator(".page-head form input[name=status][value=held]")).to_have_count(0)
        expect(page.locator(".page-head form input[name=status][value=convened]")).to_have_count(1)
    yield Journey(session_url=session_url, day=day)


# --- The journeys -------------------------------------------------------------------------


def test_secretary_records_attendance_and_the_quorum_follows_per_body(
    page: Page, browse, journey: Journey, console
):
    log_in(page, SECRETARY)
    page.goto(journey.session_url)

    # Step 2. No record yet: the quorum is what the replies promise (nobody has replied).
    section = page.locator("section#attendance")
    expect(section.locator("table.quorum caption")).to_have_text(
        ui("Expected from the replies (the attendance record is not made yet)")
    )  # 出欠の返信による見込み（出席記録はまだありません）
    expect(section.locator("table.quorum tbody th")).to_have_text([demo.SUPPORT, demo.KYOGITAI])
    for body in (demo.SUPPORT, demo.KYOGITAI):
        expect_quorum(page, body, 0, ui("Not quorate"))
    expect(invitee_attendance(page, MEMBER_NAME)).to_have_count(0)  # no Attendance column yet
    # 出席記録をつける
    section.get_by_role("link", name=ui("Record attendance"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/sessions/\d+/attendance$"))
    expect(page.locator("main h1")).to_have_text(ui("Attendance record"))

    # Step 3. One row per invitee of either body, the member of both once.
    names = page.locator("table.attendance tbody td:first-child strong").all_inner_texts()
    assert sorted(names) == sorted(invited(demo.SUPPORT, demo.KYOGITAI)), names
    # The confidential item has a column, with its title, for the pledged secretary; the
    # public item has none (everyone present heard it).
    column = page.locator("table.attendance thead th.item-column")
    expect(column).to_have_count(1)
    expect(column).to_contain_text(ui("Item %(n)d", n=1))
    expect(column).to_contain_text(SECRET_TITLE)
    expect(page.locator("table.attendance")).not_to_contain_text(PUBLIC_TITLE)
    # 地域 さくら sits on the 協議体 only: a dash, no box. The pledged may be ticked.
    mine = form_row(page, NAMES["member.kyogitai@example.jp"]).locator("td.item-column")
    expect(mine.locator("input[type=checkbox]")).to_have_count(0)
    dash = mine.locator("span.muted")
    expect(dash).to_have_text("—")
    expect(dash).to_have_attribute("title", ui("Not entitled to this item"))
    for name in IN_THE_ROOM:
        expect(form_row(page, name).locator("td.item-column input[type=checkbox]")).to_have_count(1)

    # Fill in the record: present, late (from 15:30, after the end, by mistake), absent.
    for name in names:
        if name in PRESENT:
            presence(page, name).select_option(value="present")
        elif name != MEMBER_NAME:
            presence(page, name).select_option(value="absent")
    presence(page, MEMBER_NAME).select_option(value="partial")
    expect(presence(page, MEMBER_NAME).locator("option:checked")).to_have_text(
        ui("Late or left early")
    )  # 遅刻・早退
    arrival(page, MEMBER_NAME).fill(TOO_LATE)
    for name in IN_THE_ROOM:
        form_row(page, name).locator("td.item-column input[type=checkbox]").check()
    save = page.get_by_role("button", name=ui("Save the attendance record"), exact=True)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        save.click()
    page.wait_for_load_state()

    # Refused, in Japanese, on 兼務 三郎's row; the form keeps what was typed.
    assert answer.value.status == 400
    expect(page).to_have_url(re.compile(r"/sessions/\d+/attendance$"))
    too_late = ui("The arrival is at or after the end of the session (%(end)s).", end=END)
    # 到着時刻が会議の終了（15:00）より後です。
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text(ui("Please check the marked lines. Nothing has been saved."))
    said = ui("%(label)s: %(value)s", label=MEMBER_NAME, value=too_late)
    expect(summary.locator("li")).to_have_text([said])
    row = form_row(page, MEMBER_NAME)
    expect(row).to_have_class(re.compile(r"\bhas-error\b"))
    expect(row.locator("td:has(input[name^=arrived-]) .field-error")).to_have_text(too_late)
    expect(arrival(page, MEMBER_NAME)).to_have_value(TOO_LATE)
    expect(arrival(page, MEMBER_NAME)).to_have_attribute("aria-invalid", "true")
    expect(presence(page, MEMBER_NAME)).to_have_value("partial")
    for name in PRESENT:
        expect(presence(page, name)).to_have_value("present")
    for name in IN_THE_ROOM:
        expect(form_row(page, name).locator("td.item-column input")).to_be_checked()
    # Nothing saved: the session page, in another tab, still reckons from the replies.
    other = page.context.new_page()
    other.goto(journey.session_url)
    expect(other.locator("section#attendance table.quorum caption")).to_have_text(
        ui("Expected from the replies (the attendance record is not made yet)")
    )
    other.close()

    # Corrected: he came at 14:00. Saved, back on the session page at #attendance.
    arrival(page, MEMBER_NAME).fill(LATE_AT)
    save.click()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/sessions/\d+#attendance$"))

    # Step 4. The record, and the quorum from it, body by body.
    expect(page.locator(".flash.flash-success")).to_have_text(
        [ui("The attendance record has been saved.")]
    )  # 出席記録を保存しました。
    expect(section.locator("table.quorum caption")).to_have_text(ui("From the attendance record"))
    expect_quorum(page, demo.SUPPORT, 4, ui("Quorate"))  # 成立
    expect_quorum(page, demo.KYOGITAI, 2, ui("Not quorate"))  # 不成立
    late = f"{ui('Late or left early')}（{ui('from %(time)s', time=LATE_AT)}）"
    expect(invitee_attendance(page, MEMBER_NAME)).to_have_text(late)  # 遅刻・早退（14:00から）
    heard = ui("Present for item %(n)d (%(title)s):", n=1, title=SECRET_TITLE)
    expect(section.locator("p", has_text=heard)).to_have_text(f"{heard} {'、'.join(IN_THE_ROOM)}")
    expect(section.get_by_role("link", name=ui("Correct the attendance record"))).to_be_visible()

    journey.reached.add("recorded")
    assert console.csp_violations() == []
    assert [m for m in console if "status of 400" not in m] == []  # the refused record


def test_the_hours_of_the_late_member_go_to_the_programme_of_the_hour_he_was_there(
    page: Page, browse, journey: Journey, console
):
    journey.require("recorded")
    log_in(page, ADMIN)

    # Step 5. 兼務 三郎's page, from the list of people.
    page.goto("/people/")
    page.locator("main").get_by_role("link", name=MEMBER_NAME, exact=True).click()
    expect(page).to_have_url(re.compile(r"/people/\d+$"))
    expect(page.locator("main h1")).to_contain_text(MEMBER_NAME)

    # The demo already gives him both posts from the start of the term, and the same post
    # twice at once would count the same hours twice: 職を追加 refuses it.
    posts = [
        (Programme.LIVELIHOOD, "相談支援員"),  # 生活困窮者自立支援
        (Programme.CARE_INSURANCE, "生活支援コーディネーター"),  # 介護保険
    ]
    for _programme, title in posts:
        expect(post_rows(page, title)).to_have_count(1)
    programme, title = posts[0]
    section = add_post(page, programme, title, demo.TERM_START)
    expect(section.locator(".field-error")).to_have_text(
        ui("%(title)s is already held for part of that period.", title=title)
    )
    expect(post_rows(page, title)).to_have_count(1)
    # So the administrator deletes the demo's two (the way for posts entered by mistake) and
    # adds them again through 職を追加, from 2025-04-01.
    page.on("dialog", lambda dialog: dialog.accept())
    for _programme, title in posts:
        post_rows(page, title).get_by_role("button", name=ui("Delete")).click()
        page.wait_for_load_state()
        expect(page.locator(".flash.flash-success")).to_have_text(ui("The post has been deleted."))
        expect(post_rows(page, title)).to_have_count(0)
    for programme, title in posts:
        add_post(page, programme, title, demo.TERM_START)
        expect(page).to_have_url(re.compile(r"/people/\d+#posts$"))
        expect(page.locator(".flash.flash-success")).to_have_text(ui("The post has been recorded."))
        row = post_rows(page, title)
        expect(row.locator("td").nth(1)).to_have_text(label(programme))
        expect(row.locator("td").nth(2)).to_have_text(re.compile(rf"^{demo.TERM_START}\s*–\s*$"))

    # His hours, from his page, for the fiscal year of the session.
    page.locator("section#posts").get_by_role("link", name=ui("Meeting hours by programme")).click()
    expect(page).to_have_url(re.compile(r"/apportionment/\?person=\d+$"))
    year = fiscal_year_of(journey.day)
    page.locator("main form input[name=period]").fill(str(year))
    page.locator("main form").get_by_role("button", name=ui("Show"), exact=True).click()
    expect(page).to_have_url(re.compile(rf"/apportionment/\?period={year}&person=\d+$"))
    person = page.locator("section.apportionment-person").filter(
        has=page.locator("h3", has_text=exact(MEMBER_NAME))
    )
    expect(person).to_have_count(1)
    row = person.locator("table.breakdown tbody tr").filter(
        has=page.get_by_role("link", name=TITLE, exact=True)
    )
    expect(row).to_have_count(1)
    # The rule (renkei/services/apportionment.py): 13:00–15:00 is 120 minutes, shared by the
    # planned minutes 60 : 60 in agenda order, so the 支援会議's confidential item has
    # 13:00–14:00 and the 協議体's public item 14:00–15:00. He was there from 14:00 (rule 3),
    # which leaves nothing of the first item, and he was not recorded present for it anyway
    # (he may not be); the whole second hour goes to the 協議体's programme (rule 4):
    #   生活困窮者自立支援 (livelihood): 0 minutes; 介護保険 (care insurance): 60; total 60.
    livelihood, care = label(Programme.LIVELIHOOD), label(Programme.CARE_INSURANCE)
    expect(row.locator(f"td[data-label='{ui('Attended')}']")).to_have_text(f"{LATE_AT}–{END}")
    expect(row.locator(f"td[data-label='{livelihood}']")).to_have_text("0")
    expect(row.locator(f"td[data-label='{care}']")).to_have_text("60")
    expect(row.locator(f"td[data-label='{ui('Total')}']")).to_have_text("60")
    expect(row.locator(".badge.warn")).to_have_count(0)  # he held both posts that day

    # The CSV for Excel: a file starting with a UTF-8 BOM, with the same figures.
    link = page.get_by_role("link", name=ui("Download CSV (for Excel)"), exact=True)
    with page.expect_download() as waiting:
        link.click()
    download = waiting.value
    assert download.suggested_filename == f"apportionment-{year}.csv"
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), data[:20]
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    head = table[0]
    lines = [line for line in table[1:] if len(line) > 2 and line[2] == TITLE]
    assert len(lines) == 1, table
    line = dict(zip(head, lines[0], strict=True))
    assert line[ui("Name")] == MEMBER_NAME
    assert line[ui("Date")] == journey.day.isoformat()
    assert line[ui("Attended")] == f"{LATE_AT}–{END}"
    assert line[ui("%(programme)s (minutes)", programme=livelihood)] == "0"
    assert line[ui("%(programme)s (minutes)", programme=care)] == "60"
    assert line[ui("Total (minutes)")] == "60"
    assert line[ui("Total (hours:minutes)")] == "1:00"

    assert console.csp_violations() == []
    assert [m for m in console if "status of 400" not in m] == []  # the refused post


def test_the_record_form_shows_no_error_where_there_is_none(page: Page, browse, journey: Journey):
    """The form of a held session, opened without sending anything, marks no line."""
    log_in(page, SECRETARY)
    page.goto(f"{journey.session_url}/attendance")
    expect(page.locator("main h1")).to_have_text(ui("Attendance record"))
    expect(page.locator(".error-summary")).to_have_count(0)
    expect(page.locator("table.attendance tr.has-error")).to_have_count(0)
    # Each line's confidential-item cell holds a box or a dash, nothing else.
    cells = page.locator("table.attendance tbody td.item-column")
    expect(cells).to_have_count(len(invited(demo.SUPPORT, demo.KYOGITAI)))
    expect(cells.locator(".field-error")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("built-in method")
