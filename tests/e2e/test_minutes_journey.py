"""Minutes in a real browser, from draft to paper: the secretary writes a held joint session's
minutes (autosave, a conflict between two tabs, the Markdown preview), both chairs approve
them, a member of the 協議体 reads them without ever meeting the 支援会議's closed item, and
the approved minutes print on A4.

The journeys follow one session of their own, scheduled through the UI once for this module
(the live server is shared by the whole test session, so the demo's sessions stay as they
are), and they run in the order written: each needs the state the one before left.

Labels are looked up in the app's own catalog (``ui``): the Japanese the page shows when the
catalog is compiled, the English message otherwise.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from pathlib import Path

import jpholiday
import pytest
from babel.support import Translations
from playwright.sync_api import Browser, Locator, Page, expect

import renkei
from renkei.services import demo
from renkei.services.dates import today

pytestmark = pytest.mark.e2e

SECRETARY = "secretary@example.jp"
CHAIR_SUPPORT = "chair.support@example.jp"
CHAIR_KYOGITAI = "chair.kyogitai@example.jp"
MEMBER_KYOGITAI = "member.kyogitai@example.jp"
SECRETARY_NAME = next(name for email, name, *_ in demo.PEOPLE if email == SECRETARY)

TITLE = "支援会議・協議体 合同会議（e2e 議事録）"
# The 支援会議's confidential item: its title and every word of its section are secret.
SECRET_TITLE = "e2e 個別ケース（Z地区・議事録）"
SECRET_WORDS = ["Z地区の独居高齢者", "見守り訪問を週2回", "配食の再開"]
PUBLIC_TITLE = "e2e 通いの場の報告（議事録）"
PUBLIC_TEXT = "- 通いの場が3か所増えた。"

SESSION_PATH = re.compile(r"/sessions/(\d+)$")
VERSION_PATH = re.compile(r"/minutes/(\d+)$")
EDIT_PATH = re.compile(r"/minutes/\d+/edit$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
AUTOSAVE_WAIT = 10_000  # ms: the editor saves 3 s after the last keystroke, then the request

CATALOG = Translations.load(Path(renkei.__file__).parent / "translations", ["ja"], "messages")
SCREENSHOTS = Path("/tmp")


def ui(message: str, **values) -> str:
    """An interface string as the live server shows it."""
    text = CATALOG.gettext(message)
    return text % values if values else text


@dataclass
class Journey:
    """The module's own session, and how far its minutes have come."""

    session_url: str
    body_ids: dict[str, int]
    version_url: str = ""
    reached: set[str] = field(default_factory=set)

    def require(self, step: str) -> None:
        if step not in self.reached:
            pytest.skip(f"the journey before this one did not reach {step!r}")


# --- Helpers, as in the other journeys ---------------------------------------------------


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


def submit(page: Page) -> None:
    page.locator("main form.form button[type=submit]").click()
    page.wait_for_load_state()


def add_item(page: Page, title: str, body: str, visibility: str) -> None:
    page.locator("#agenda a[href$='/items/new']").click()
    expect(page).to_have_url(re.compile(r"/sessions/\d+/items/new$"))
    form = page.locator("main form.form")
    form.locator("input[name=title]").fill(title)
    form.locator("select[name=body_id]").select_option(label=body)
    form.locator("input[name=planned_minutes]").fill("20")
    form.locator("select[name=visibility]").select_option(value=visibility)
    submit(page)
    expect(page).to_have_url(re.compile(r"/sessions/\d+#agenda$"))
    expect(page.locator(".flash.flash-success")).to_be_visible()


def editor_section(page: Page, title: str) -> Locator:
    """The editor's section for the agenda item ``title``."""
    return page.locator("section.minutes-edit-section").filter(
        has=page.locator("h2", has_text=title)
    )


def document_section(page: Page, title: str) -> Locator:
    return page.locator("article.minutes-document section.minutes-section").filter(
        has=page.locator("h2", has_text=title)
    )


def wait_for_autosave(section: Locator) -> None:
    state = section.locator(".save-state")
    expect(state).to_contain_text(ui("Saved"), timeout=AUTOSAVE_WAIT)
    expect(state).not_to_have_class(re.compile(r"\bfailed\b"))


# --- Fixtures -----------------------------------------------------------------------------


@pytest.fixture
def browse(browser: Browser, live_server, page: Page, request) -> Iterator:
    """``browse(email)``: a new browser context (own cookies) logged in as ``email``. Every
    page of the test, ``page`` included, is photographed if the test fails."""
    pages = [page]

    def open_as(email: str) -> Page:
        context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 800})
        context.set_default_timeout(10_000)
        other = context.new_page()
        pages.append(other)
        log_in(other, email)
        return other

    failed_before = request.session.testsfailed
    yield open_as
    if request.session.testsfailed > failed_before:
        for number, shown in enumerate(pages):
            if not shown.is_closed():
                path = SCREENSHOTS / f"renkei-minutes-{request.node.name}-{number}.png"
                shown.screenshot(path=str(path), full_page=True)
    for other in pages[1:]:
        other.context.close()


@pytest.fixture(scope="module")
def journey(browser: Browser, live_server) -> Iterator[Journey]:
    """A held joint session of the 支援会議 and the 協議体, scheduled through the UI, with a
    confidential item of the 支援会議 and a public one of the 協議体."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        log_in(page, SECRETARY)
        page.goto("/sessions/new")
        form = page.locator("main form.form")
        form.locator("input[name=title]").fill(TITLE)
        for body in (demo.SUPPORT, demo.KYOGITAI):
            option = form.locator("label.checkbox").filter(has_text=exact(body))
            option.locator("input[type=checkbox][name=body_ids]").check()
        form.locator("select[name=host_body_id]").select_option(label=demo.SUPPORT)
        form.locator("input[name=start_date]").fill(past_working_day(2).isoformat())
        form.locator("input[name=start_time]").fill("09:30")
        form.locator("input[name=end_time]").fill("10:30")
        submit(page)
        expect(page).to_have_url(SESSION_PATH)
        expect(page.locator("main h1")).to_contain_text(TITLE)
        session_url = page.url

        add_item(page, SECRET_TITLE, demo.SUPPORT, "confidential")
        add_item(page, PUBLIC_TITLE, demo.KYOGITAI, "public")
        body_ids = {
            name: int(href.rsplit("/", 1)[1])
            for name, href in (
                (link.inner_text().strip(), link.get_attribute("href"))
                for link in page.locator("main dl.facts a[href^='/bodies/']").all()
            )
        }
        assert set(body_ids) == {demo.SUPPORT, demo.KYOGITAI}

        # Held: the button of the page head (開催済にする).
        page.locator(".page-head form:has(input[name=status][value=held]) button").click()
        page.wait_for_load_state()
        expect(page.locator(".page-head form input[name=status][value=scheduled]")).to_have_count(1)
        expect(page.locator("section#minutes")).to_be_visible()
    except BaseException:
        page.screenshot(path=str(SCREENSHOTS / "renkei-minutes-setup.png"), full_page=True)
        context.close()
        raise
    context.close()
    yield Journey(session_url=session_url, body_ids=body_ids)


# --- The journeys -------------------------------------------------------------------------


def test_secretary_writes_the_minutes_autosave_conflict_and_preview(
    page: Page, browse, journey: Journey, console
):
    log_in(page, SECRETARY)
    page.goto(journey.session_url)

    # From the session page: 議事録を作成する, then lay out the draft.
    start_link = page.locator("section#minutes a[href$='/minutes']")
    expect(start_link).to_have_text(ui("Write the minutes"))
    start_link.click()
    expect(page).to_have_url(re.compile(r"/sessions/\d+/minutes$"))
    page.locator("main form[action$='/minutes'] button[type=submit]").click()
    expect(page).to_have_url(EDIT_PATH)
    expect(page.locator(".flash.flash-success")).to_be_visible()
    editor_url = page.url

    # One section per agenda item, both open to the pledged secretary; none saved yet.
    secret = editor_section(page, SECRET_TITLE)
    expect(secret).to_have_count(1)
    expect(secret.locator(".badge.visibility-confidential")).to_have_count(1)
    expect(editor_section(page, PUBLIC_TITLE)).to_have_count(1)
    textarea = secret.locator("textarea")
    expect(textarea).to_have_value("")

    # Typing, then nothing: the section saves itself, without the Save button.
    first = f"**{SECRET_WORDS[0]}**について検討した。\n- {SECRET_WORDS[1]}とする。"
    textarea.click()
    textarea.press_sequentially(first)
    expect(secret.locator(".save-state")).to_have_text(ui("Not saved yet"))
    wait_for_autosave(secret)
    page.reload()
    secret = editor_section(page, SECRET_TITLE)
    expect(secret.locator("textarea")).to_have_value(first)
    # The page now says who saved it last.
    expect(secret.locator("p.small")).to_contain_text(SECRETARY_NAME)

    # The Markdown preview shows the bold text rendered.
    preview_button = secret.locator("button[data-preview-for]")
    expect(preview_button).to_be_visible()  # unhidden by agenda.js
    expect(preview_button).to_have_text(ui("Preview"))
    preview_button.click()
    preview = secret.locator(".markdown-preview")
    expect(preview).to_be_visible()
    expect(preview.locator("strong")).to_have_text(SECRET_WORDS[0])
    expect(preview.locator("li")).to_have_text(f"{SECRET_WORDS[1]}とする。")

    # The same editor in a second browser: both start from the same revision.
    other = browse(SECRETARY)
    other.goto(editor_url)
    theirs_section = editor_section(other, SECRET_TITLE)
    expect(theirs_section.locator("textarea")).to_have_value(first)

    mine = f"{first}\n- {SECRET_WORDS[2]}を社協に依頼する。"
    textarea = secret.locator("textarea")
    textarea.fill(mine)
    wait_for_autosave(secret)

    theirs = f"{first}\n- 次回までに状況を確認する。"
    other_textarea = theirs_section.locator("textarea")
    other_textarea.fill(theirs)
    box = theirs_section.locator(".conflict-box")
    expect(box).to_be_visible(timeout=AUTOSAVE_WAIT)
    conflict = ui("Someone else has updated this section (%(name)s).", name=SECRETARY_NAME)
    expect(box.locator("strong")).to_have_text(conflict)
    expect(box.locator("pre.theirs")).to_have_text(mine)
    expect(theirs_section.locator(".save-state")).to_have_class(re.compile(r"\bfailed\b"))
    # Nothing lost: their own text stays in the box, the other text is what is saved.
    expect(other_textarea).to_have_value(theirs)
    page.reload()
    expect(editor_section(page, SECRET_TITLE).locator("textarea")).to_have_value(mine)

    journey.version_url = page.url.removesuffix("/edit")
    journey.reached.add("draft")
    assert console.csp_violations() == []
    assert list(console) == []
