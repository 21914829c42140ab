"""Sessions in a real browser: a secretary schedules a joint session and builds its agenda; a
holiday asks for a second press; a member without a confidentiality pledge sees the closed
items as placeholders until they pledge; the session page on a phone and on paper.

The interface is Japanese or English depending on the compiled catalog, so the tests look for
the demo town's data (titles, body and person names) and the pages' structure, not for labels.

The live server is shared by the whole test session, and these journeys change it (new
sessions, a reply, a pledge): each journey uses titles of its own, and everything that needs
member.both@example.jp *without* a pledge happens in one test, before the pledge is recorded.
"""

import re
from datetime import date, time, timedelta
from urllib.parse import urlsplit

import jpholiday
import pytest
from playwright.sync_api import Locator, Page, expect

from renkei.services import demo
from renkei.services.dates import today
from tests.e2e.journeys import exact, horizontal_overflow, log_in, submit

pytestmark = pytest.mark.e2e

SECRETARY = "secretary@example.jp"
MEMBER_WITHOUT_PLEDGE = "member.both@example.jp"
MEMBER_NAME = next(name for email, name, *_ in demo.PEOPLE if email == MEMBER_WITHOUT_PLEDGE)

DEMO_JOINT = "支援会議・協議体 共同開催"
# The items every member of the session sees: a public one, and one for its attendees.
OPEN_ITEMS = ["開会・連絡事項", "地域資源マップの更新"]
CONFIDENTIAL_ITEMS = ["個別ケースの検討（A地区）", "8050世帯への支援方針"]
# Words of the confidential items' descriptions: as secret as their titles.
CONFIDENTIAL_WORDS = ["60代男性", "家賃滞納", "関係機関の役割分担"]

SESSION_PATH = re.compile(r"/sessions/(\d+)$")
PHONE = {"width": 390, "height": 844}


def members_of(*bodies: str) -> set[str]:
    """Names of the demo people with a current term on any of the bodies, in any role."""
    return {name for _e, name, _k, _o, roles in demo.PEOPLE if any(b in roles for b in bodies)}


def working_day(weeks_ahead: int) -> date:
    """A weekday ``weeks_ahead`` weeks from today (Tokyo) that is no public holiday."""
    day = today() + timedelta(weeks=weeks_ahead)
    while day.weekday() >= 5 or jpholiday.is_holiday(day):
        day += timedelta(days=1)
    return day


def next_holiday() -> tuple[date, str]:
    """The next Japanese public holiday after today, and its name."""
    day = today() + timedelta(days=1)
    while not jpholiday.is_holiday(day):
        day += timedelta(days=1)
    return day, jpholiday.is_holiday_name(day)


def open_from_home(page: Page, title: str) -> int:
    """Follow the session's link in the home page's list; the session's id."""
    page.goto("/")
    page.locator("main table.sessions").get_by_role("link", name=title, exact=True).click()
    expect(page).to_have_url(SESSION_PATH)
    expect(page.locator("main h1")).to_contain_text(title)
    return int(SESSION_PATH.search(page.url).group(1))


def fill_session_form(
    page: Page, title: str, bodies: list[str], host: str, day: date, start: time, end: time
) -> None:
    form = page.locator("main form.form")
    form.locator("input[name=title]").fill(title)
    for body in bodies:
        option = form.locator("label.checkbox").filter(has_text=exact(body))
        option.locator("input[type=checkbox][name=body_ids]").check()
    form.locator("select[name=host_body_id]").select_option(label=host)
    form.locator("input[name=start_date]").fill(day.isoformat())
    form.locator("input[name=start_time]").fill(start.strftime("%H:%M"))
    form.locator("input[name=end_time]").fill(end.strftime("%H:%M"))


def agenda_rows(page: Page) -> Locator:
    return page.locator("#agenda table.agenda-items tbody tr.agenda-item")


def agenda_titles(page: Page) -> list[str]:
    titles = page.locator("#agenda tr.agenda-item:not(.closed) .agenda-title")
    return [t.strip() for t in titles.all_inner_texts()]


def invitee_names(page: Page) -> list[str]:
    cells = page.locator("#invitees table.list:not(.tally) tbody tr td:first-child")
    return [c.strip() for c in cells.all_inner_texts()]


def add_item(
    page: Page,
    title: str,
    body: str,
    minutes: int,
    description: str,
    visibility: str,
    *,
    confirm: bool = False,
):
    page.locator("#agenda a[href$='/items/new']").click()
    expect(page).to_have_url(re.compile(r"/sessions/\d+/items/new$"))
    form = page.locator("main form.form")
    form.locator("input[name=title]").fill(title)
    form.locator("select[name=body_id]").select_option(label=body)
    form.locator("input[name=planned_minutes]").fill(str(minutes))
    form.locator("textarea[name=description]").fill(description)
    form.locator("select[name=visibility]").select_option(value=visibility)
    if confirm:  # wider than the owning body allows (refused unticked: tests/blueprints)
        form.locator("input[name=confirm_wider]").check()
    submit(page)
    expect(page).to_have_url(re.compile(r"/sessions/\d+#agenda$"))
    expect(page.locator(".flash.flash-success")).to_be_visible()


def move(page: Page, title: str, direction: str) -> None:
    row = agenda_rows(page).filter(has=page.locator(".agenda-title", has_text=exact(title)))
    row.locator(f"form:has(input[name=direction][value={direction}]) button").click()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/sessions/\d+#agenda$"))


def test_secretary_schedules_a_joint_session_and_builds_its_agenda(page: Page, console):
    title = "支援会議・協議体 合同会議（e2e 日程調整）"
    day = working_day(3)
    log_in(page, SECRETARY)

    page.goto("/")
    page.locator("main a[href='/sessions/new']").click()
    expect(page).to_have_url(re.compile(r"/sessions/new$"))
    bodies = [demo.SUPPORT, demo.KYOGITAI]
    fill_session_form(page, title, bodies, demo.SUPPORT, day, time(16, 30), time(17, 30))
    page.locator("main form.form input[name=place]").fill("みどり町役場 3階 第1会議室")
    submit(page)

    # No holiday, no clash: saved at once, and the session page shows it.
    expect(page).to_have_url(SESSION_PATH)
    expect(page.locator(".warning-box")).to_have_count(0)
    expect(page.locator("main h1")).to_contain_text(title)
    expect(page.locator(".flash.flash-success").first).to_be_visible()
    facts = page.locator("main dl.facts")
    expect(facts).to_contain_text("みどり町役場 3階 第1会議室")
    expect(facts).to_contain_text("16:30")
    expect(facts).to_contain_text("17:30")
    when = facts.locator("dd").first.inner_text()
    assert str(day.year) in when and str(day.day) in when, when
    # The bodies served: both, linked; a badge marks the host and one the joint session.
    served = facts.locator("dd:has(a[href^='/bodies/'])")
    links = served.locator("a[href^='/bodies/']").all_inner_texts()
    assert sorted(links) == sorted(bodies)
    expect(served.locator("span.badge")).to_have_count(2)
    host_badge = served.locator("a[href^='/bodies/']", has_text=exact(demo.SUPPORT))
    assert host_badge.evaluate("a => a.nextElementSibling?.classList.contains('badge')")
    # The joint badge closes the list of bodies (a session of one body has neither badge).
    joint_badge = served.locator("span.badge").last
    assert joint_badge.evaluate("b => b.parentElement.lastElementChild === b")
    # Everyone on either body is invited once: the member of both is not listed twice.
    names = invitee_names(page)
    assert names.count(MEMBER_NAME) == 1
    assert sorted(names) == sorted(members_of(*bodies))
    # The tally counts the replies per body.
    expect(page.locator("#invitees table.tally tbody th")).to_have_text(
        [demo.SUPPORT, demo.KYOGITAI]
    )
    session_url = page.url

    # The home list marks it joint, with both bodies.
    page.goto("/")
    row = page.locator("main table.sessions tbody tr").filter(
        has=page.get_by_role("link", name=title, exact=True)
    )
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(2)).to_contain_text(demo.SUPPORT)
    expect(row.locator("td").nth(2)).to_contain_text(demo.KYOGITAI)
    expect(row.locator("td").nth(2).locator("span.badge")).to_have_count(1)
    page.goto(session_url)
    expect(page.locator("#agenda tr.agenda-item")).to_have_count(0)

    # An agenda item with a Markdown description; the preview shows it before saving.
    page.locator("#agenda a[href$='/items/new']").click()
    page.locator("textarea[name=description]").fill("**地域の見守り** の状況\n\n- 北地区")
    preview_button = page.locator("button[data-preview-for]")
    expect(preview_button).to_be_visible()  # unhidden by agenda.js
    preview_button.click()
    preview = page.locator("#description-preview")
    expect(preview.locator("strong")).to_have_text("地域の見守り")
    expect(preview.locator("li")).to_have_text("北地区")
    page.go_back()
    expect(page).to_have_url(session_url)

    first = "見守りネットワークの報告"
    add_item(page, first, demo.KYOGITAI, 20, "**地域の見守り** の状況\n\n- 北地区", "session")
    item = agenda_rows(page).first
    expect(item.locator(".agenda-title")).to_have_text(first)
    expect(item.locator(".markdown strong")).to_have_text("地域の見守り")
    expect(item.locator(".markdown li")).to_have_text("北地区")
    expect(item.locator(".badge.visibility-session")).to_have_count(1)
    expect(item.locator("td").nth(2)).to_have_text(demo.KYOGITAI)
    assert "<strong>地域の見守り</strong>" in page.content()
    # Alone, it has no up or down button.
    expect(item.locator("input[name=direction]")).to_have_count(0)

    second = "次回の日程"
    # Public on the 支援会議: wider than its duty of secrecy allows, so confirmed on the form.
    add_item(page, second, demo.SUPPORT, 10, "候補日を *二つ* 挙げる", "public", confirm=True)
    assert agenda_titles(page) == [first, second]
    expect(agenda_rows(page).locator("td.num").first).to_have_text("1")
    rows = agenda_rows(page)
    expect(rows.nth(0).locator("input[name=direction]")).to_have_count(1)  # down only
    expect(rows.nth(1).locator("input[name=direction]")).to_have_count(1)  # up only

    move(page, first, "down")
    assert agenda_titles(page) == [second, first]
    positions = agenda_rows(page).locator("td:first-child").all_inner_texts()
    assert [p.strip() for p in positions] == ["1", "2"]
    move(page, first, "up")
    assert agenda_titles(page) == [first, second]
    # The session page still renders the Markdown after the moves; 20 + 10 of 60 minutes.
    expect(agenda_rows(page).first.locator(".markdown strong")).to_have_text("地域の見守り")
    expect(page.locator(".agenda-total")).to_have_text(re.compile(r"\b30\b.*\b60\b"))
    expect(page.locator(".agenda-total.over")).to_have_count(0)

    assert console.csp_violations() == []
    assert list(console) == []


def test_a_public_holiday_asks_for_a_second_press(page: Page, console):
    title = "支援会議（e2e 祝日開催）"
    day, holiday = next_holiday()
    log_in(page, SECRETARY)
    page.goto("/sessions/new")
    fill_session_form(page, title, [demo.SUPPORT], demo.SUPPORT, day, time(9), time(10))
    submit(page)

    # The form again, with a warning naming the holiday; the entries are kept.
    expect(page).to_have_url(re.compile(r"/sessions/new$"))
    warning = page.locator(".warning-box")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text(holiday)
    expect(warning.locator("li")).to_have_count(1)
    expect(page.locator(".error-summary")).to_have_count(0)
    expect(page.locator("input[name=title]")).to_have_value(title)
    expect(page.locator("input[name=start_date]")).to_have_value(day.isoformat())
    expect(page.locator("input[name=confirmed]")).not_to_have_value("")

    # Nothing saved yet: the home list, in another tab, does not know the title.
    other = page.context.new_page()
    other.goto("/")
    expect(other.locator("main table.sessions")).to_be_visible()
    expect(other.get_by_role("link", name=title, exact=True)).to_have_count(0)
    other.close()

    # Pressing the button again schedules it; the session page flags the holiday.
    submit(page)
    expect(page).to_have_url(SESSION_PATH)
    expect(page.locator("main h1")).to_contain_text(title)
    expect(page.locator("main dl.facts .badge.warn")).to_contain_text(holiday)
    served = page.locator("main dl.facts dd:has(a[href^='/bodies/'])")
    expect(served.locator("a[href^='/bodies/']")).to_have_text([demo.SUPPORT])
    expect(served.locator("span.badge")).to_have_count(0)  # neither host nor joint
    page.goto("/")
    expect(page.get_by_role("link", name=title, exact=True)).to_have_count(1)

    assert list(console) == []


def test_member_without_pledge_sees_closed_items_replies_and_pledges(page: Page, console):
    log_in(page, MEMBER_WITHOUT_PLEDGE)
    # A plain member may not schedule.
    expect(page.locator("main a[href='/sessions/new']")).to_have_count(0)
    open_from_home(page, DEMO_JOINT)
    session_url = page.url

    # The two confidential items are placeholders: position, visibility, owning body and
    # minutes only.
    rows = agenda_rows(page)
    expect(rows).to_have_count(4)
    closed = page.locator("#agenda tr.agenda-item.closed")
    expect(closed).to_have_count(2)
    expect(closed.locator("td:first-child")).to_have_text(["3", "4"])
    expect(closed.locator("td:nth-child(3)")).to_have_text([demo.SUPPORT, demo.SUPPORT])
    expect(closed.locator("td:nth-child(5)")).to_have_text(["40", "30"])
    for row in closed.all():
        expect(row.locator(".markdown")).to_have_count(0)
        expect(row.locator(".badge")).to_have_count(1)
        expect(row.locator("td > .badge.visibility-confidential")).to_have_count(1)
    assert agenda_titles(page) == OPEN_ITEMS
    html = page.content()
    for secret in CONFIDENTIAL_ITEMS + CONFIDENTIAL_WORDS:
        assert secret not in html, secret
    # Members see no management controls.
    expect(page.locator("form[action*='/move'], a[href*='/items/new']")).to_have_count(0)
    expect(page.locator("a[href$='/edit']")).to_have_count(0)
    # The pledge box offers the 支援会議 only (the 協議体 has no confidential item here).
    pledge_buttons = page.locator(".pledge-box form button[type=submit]")
    expect(pledge_buttons).to_have_count(1)
    expect(pledge_buttons).to_contain_text(demo.SUPPORT)
    # The invitee list has the member once.
    assert invitee_names(page).count(MEMBER_NAME) == 1

    # Their own calendar file, linked from the page, keeps the closed items closed too.
    ics_link = page.locator("main dl.facts a[href$='/invite.ics']")
    ics = page.request.get(ics_link.get_attribute("href"))
    assert ics.ok and ics.headers["content-type"].startswith("text/calendar")
    ics_text = ics.text().replace("\r\n ", "")  # unfold the folded lines
    assert DEMO_JOINT in ics_text
    for secret in CONFIDENTIAL_ITEMS + CONFIDENTIAL_WORDS:
        assert secret not in ics_text, secret
    # Public titles only: the attendees' item is as closed there as the confidential ones.
    assert OPEN_ITEMS[0] in ics_text and OPEN_ITEMS[1] not in ics_text

    # Their attendance: the demo has them attending already; they confirm, with a comment.
    reply = page.locator("#reply form")
    expect(reply.locator("input[name=answer][value=attend]")).to_be_checked()
    reply.locator("input[name=answer][value=attend]").check()
    reply.locator("input[name=comment]").fill("15分ほど遅れます")
    reply.locator("button[type=submit]").click()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/sessions/\d+#reply$"))
    expect(page.locator(".flash.flash-success")).to_be_visible()
    expect(page.locator("#reply input[name=answer][value=attend]")).to_be_checked()
    expect(page.locator("#reply input[name=comment]")).to_have_value("15分ほど遅れます")
    mine = page.locator("#invitees table.list:not(.tally) tbody tr").filter(
        has=page.locator("td:first-child", has_text=exact(MEMBER_NAME))
    )
    expect(mine).to_have_count(1)
    attend_label = page.locator("#reply label:has(input[value=attend])").inner_text().strip()
    expect(mine.locator("td").nth(2)).to_contain_text(attend_label)
    expect(mine.locator("td").nth(2)).to_contain_text("15分ほど遅れます")
    assert all(secret not in page.content() for secret in CONFIDENTIAL_ITEMS)

    # Their calendar feed: the account page copies its address; the feed has the session
    # and none of its closed items.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/account")
    copy = page.locator("#feed button[data-copy]")
    expect(copy).to_be_visible()
    copy.click()
    expect(page.locator("#feed-copied")).not_to_be_empty()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("#feed code.feed-url").nth(1).inner_text().strip()
    # The address is made from BASE_URL (the default, not this test server's port): fetch
    # its path from the server under test.
    feed = page.request.get(urlsplit(copied).path)
    assert feed.ok and feed.headers["content-type"].startswith("text/calendar")
    feed_text = feed.text().replace("\r\n ", "")
    assert DEMO_JOINT in feed_text
    for secret in CONFIDENTIAL_ITEMS + CONFIDENTIAL_WORDS:
        assert secret not in feed_text, secret
    page.goto(session_url)

    # The pledge: back on the same session, every item is open.
    pledge_buttons.click()
    page.wait_for_load_state()
    expect(page).to_have_url(session_url)
    expect(page.locator(".flash.flash-success")).to_contain_text(demo.SUPPORT)
    expect(page.locator(".pledge-box")).to_have_count(0)
    expect(page.locator("#agenda tr.agenda-item.closed")).to_have_count(0)
    assert agenda_titles(page) == OPEN_ITEMS + CONFIDENTIAL_ITEMS
    third = agenda_rows(page).nth(2)
    expect(third.locator("td > .badge.visibility-confidential")).to_have_count(1)
    expect(third.locator(".markdown strong")).to_have_text("60代男性、単身。")

    assert console.csp_violations() == []
    assert list(console) == []


def test_session_pages_fit_a_phone_screen(page: Page, console):
    page.set_viewport_size(PHONE)
    log_in(page, SECRETARY)
    overflowing = {}
    page.goto("/sessions/new")
    assert page.evaluate("() => document.documentElement.clientWidth") == PHONE["width"]
    overflowing["/sessions/new"] = horizontal_overflow(page)
    open_from_home(page, DEMO_JOINT)
    overflowing[page.url] = horizontal_overflow(page)
    page.locator("#agenda a[href$='/items/new']").click()
    expect(page).to_have_url(re.compile(r"/items/new$"))
    overflowing[page.url] = horizontal_overflow(page)
    # A holiday warning does not widen the form either.
    day, _name = next_holiday()
    page.goto("/sessions/new")
    fill_session_form(page, "e2e 幅の確認", [demo.NORTH], demo.NORTH, day, time(7), time(8))
    submit(page)
    expect(page.locator(".warning-box")).to_be_visible()
    overflowing["/sessions/new (warning)"] = horizontal_overflow(page)
    assert {url: px for url, px in overflowing.items() if px > 1} == {}
    assert list(console) == []


def test_member_session_page_fits_a_phone_screen(page: Page, console):
    page.set_viewport_size(PHONE)
    log_in(page, MEMBER_WITHOUT_PLEDGE)
    open_from_home(page, DEMO_JOINT)
    assert horizontal_overflow(page) <= 1
    assert list(console) == []


def test_printing_the_session_page_leaves_out_navigation_and_forms(page: Page, console):
    log_in(page, SECRETARY)
    open_from_home(page, DEMO_JOINT)
    expect(page.locator(".site-header")).to_be_visible()
    noprint = page.locator(".noprint")
    assert noprint.count() > 0
    assert any(element.is_visible() for element in noprint.all())

    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".site-footer")).to_be_hidden()
    for element in noprint.all():
        expect(element).to_be_hidden()
    for form in page.locator("main form").all():
        expect(form).to_be_hidden()
    # What the paper is for stays: the title, the facts, the agenda and the invitees.
    expect(page.locator("main h1")).to_contain_text(DEMO_JOINT)
    expect(page.locator("main dl.facts")).to_be_visible()
    expect(page.locator("#agenda table.agenda-items")).to_be_visible()
    assert agenda_titles(page) == OPEN_ITEMS + CONFIDENTIAL_ITEMS  # the secretary pledged
    expect(page.locator("#invitees")).to_be_visible()

    page.emulate_media(media="screen")
    expect(page.locator(".site-header")).to_be_visible()
    assert list(console) == []


def test_phone_tally_counts_keep_their_headings(page: Page, console):
    page.set_viewport_size(PHONE)
    log_in(page, SECRETARY)
    open_from_home(page, DEMO_JOINT)
    tally = page.locator("#invitees table.tally")
    expect(tally.locator("tbody tr")).to_have_count(2)
    expect(tally.locator("thead")).to_be_hidden()
    labels = tally.locator("tbody td").evaluate_all("tds => tds.map((td) => td.dataset.label)")
    assert labels and all(labels), labels
