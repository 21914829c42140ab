"""The home page in a real browser: a chair approves minutes from home in three clicks at
most; a member's reply is confirmed where the eye is, on a phone without scrolling; and a
member replies with the keyboard alone.

The chair's minutes are the module's own (a held session of the 協議体, scheduled and
minuted through the UI), so that the demo's sessions stay as they are for the other
journeys. The replies are the demo's sessions still open for the member, whichever is
first on their home page.

Labels are looked up in the app's own catalog (``ui``).
"""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from renkei.services import demo
from tests.e2e.conftest import new_context, setup_page
from tests.e2e.journeys import (
    add_item,
    log_in,
    past_working_day,
    schedule_session,
    submit_minutes,
    tab_to,
    ui,
)

pytestmark = pytest.mark.e2e

SECRETARY = "secretary@example.jp"
CHAIR_KYOGITAI = "chair.kyogitai@example.jp"
TITLE = "協議体 定例会（e2e ホーム）"
ITEM = "e2e 通いの場の報告（ホーム）"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def awaiting(browser: Browser, live_server) -> Iterator[str]:
    """The address of minutes awaiting the 協議体 chair's approval: a held session of the
    協議体 with one public item, its minutes written and submitted by the secretary."""
    with setup_page(browser, live_server, "home-setup") as page:
        log_in(page, SECRETARY)
        session_url = schedule_session(page, TITLE, [demo.KYOGITAI], past_working_day(1))
        add_item(page, ITEM, demo.KYOGITAI, "public")
        version_url = submit_minutes(page, session_url, ITEM, "- 通いの場が2か所増えた。")
    yield version_url


def count_clicks(page: Page) -> None:
    """Every click on the page from now on, counted in the page (a new page keeps the
    count in the session's storage): what the person did, not what the test asserted."""
    page.context.add_init_script(
        """document.addEventListener("click", () => {
            const n = Number(sessionStorage.getItem("clicks") || 0);
            sessionStorage.setItem("clicks", String(n + 1));
        }, true);"""
    )


def clicks(page: Page) -> int:
    return int(page.evaluate("() => sessionStorage.getItem('clicks') || 0"))


def test_a_chair_approves_minutes_from_home_in_three_clicks_at_most(browse, awaiting: str, console):
    chair = browse(CHAIR_KYOGITAI)
    count_clicks(chair)
    chair.goto("/")
    approvals = chair.locator("section#approvals")
    expect(approvals.locator("h2")).to_have_text(ui("Minutes awaiting your approval"))
    link = approvals.locator("a", has_text=TITLE)
    expect(link).to_have_count(1)
    expect(approvals).to_contain_text(ui("As chair of %(body)s", body=demo.KYOGITAI))

    link.click()  # 1: straight to the approval page of the 協議体's part
    expect(chair).to_have_url(re.compile(rf"^{re.escape(awaiting)}/approve/\d+$"))
    expect(chair.locator("main h1").first).to_contain_text(demo.KYOGITAI)
    chair.locator("main form button[name=decision][value=approve]").click()  # 2: 承認する

    expect(chair).to_have_url(awaiting)
    expect(chair.locator(".flash.flash-success")).to_have_text(
        ui("Every approval is in: the minutes are approved and locked.")
    )
    assert clicks(chair) == 2  # within the three the issue allows

    # Home no longer asks for it.
    chair.goto("/")
    expect(chair.locator("section#approvals a", has_text=TITLE)).to_have_count(0)
    assert list(console) == []


@pytest.fixture
def phone(browser: Browser, live_server) -> Iterator[Page]:
    context = new_context(browser, live_server, PHONE)
    page = context.new_page()
    yield page
    context.close()


def first_open_reply(page: Page):
    """The first session on the member's home page that still waits for their reply."""
    page.goto("/")
    replies = page.locator("section#replies")
    expect(replies.locator("h2")).to_have_text(ui("Attendance replies still open"))
    link = replies.locator("a[href$='#reply']").first
    expect(link).to_be_visible()
    return link


def test_a_members_reply_is_confirmed_without_scrolling_on_a_phone(phone: Page):
    log_in(phone, "member.both@example.jp")
    first_open_reply(phone).click()
    expect(phone).to_have_url(re.compile(r"/sessions/\d+#reply$"))
    reply = phone.locator("section#reply")
    expect(reply.locator("button[type=submit]")).to_have_text(ui("Send reply"))
    reply.locator("label", has=phone.locator("input[value=absent]")).click()
    reply.locator("input[name=comment]").fill("所用のため欠席します")
    reply.locator("button[type=submit]").click()
    phone.wait_for_load_state()

    expect(phone).to_have_url(re.compile(r"/sessions/\d+#reply$"))
    confirmation = reply.locator(".flash.flash-success")
    expect(confirmation).to_have_text(ui("Your reply has been saved."))
    # Retried: Chromium scrolls to #reply a moment after the page has loaded.
    expect(confirmation).to_be_in_viewport(ratio=1)
    # The session shows 回答済み with the answer given, and the form to change it.
    expect(reply.locator(".reply-given")).to_contain_text(ui("Answered"))
    expect(reply.locator(".reply-given")).to_contain_text(ui("Absent"))
    expect(reply.locator("input[name=answer][value=absent]")).to_be_checked()
    expect(reply.locator("button[type=submit]")).to_have_text(ui("Change reply"))
    # Only once: nothing at the top of the page repeats it.
    expect(phone.locator(".flash")).to_have_count(1)


def test_a_member_replies_with_the_keyboard_alone(page: Page):
    log_in(page, "member.kyogitai@example.jp")
    link = first_open_reply(page)
    href = link.get_attribute("href")

    # From the top of home: Tab to the first reply still open, Enter to follow it.
    page.goto("/")
    tab_to(page, "section#replies a[href$='#reply']")
    assert page.evaluate("() => document.activeElement.getAttribute('href')") == href
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/sessions/\d+#reply$"))
    page.wait_for_load_state()

    # The first answer (出席) by Space, then Tab to 回答を送る and Enter.
    tab_to(page, "section#reply input[name=answer]")
    page.keyboard.press("Space")
    expect(page.locator("section#reply input[name=answer][value=attend]")).to_be_checked()
    tab_to(page, "section#reply button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_load_state()

    expect(page).to_have_url(re.compile(r"/sessions/\d+#reply$"))
    reply = page.locator("section#reply")
    confirmation = reply.locator(".flash.flash-success")
    expect(confirmation).to_have_text(ui("Your reply has been saved."))
    expect(confirmation).to_be_in_viewport(ratio=1)
    expect(reply.locator(".reply-given")).to_contain_text(ui("Attending"))
    # Home no longer lists it among the replies still open.
    page.goto("/")
    expect(page.locator(f"section#replies a[href='{href}']")).to_have_count(0)
