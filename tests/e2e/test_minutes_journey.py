"""Minutes in a real browser, from draft to paper: the secretary writes a held joint session's
minutes (autosave, a conflict between two tabs, the preview beside the text), asks for
approval without the attendance record only once she says why, both chairs approve them, a
member of the 協議体 reads them without ever meeting the 支援会議's closed item, and the
approved minutes print on A4.

The journeys follow one session of their own, scheduled through the UI once for this module
(the live server is shared by the whole test session, so the demo's sessions stay as they
are), and they run in the order written: each needs the state the one before left.

Labels are looked up in the app's own catalog (``ui``): the Japanese the page shows when the
catalog is compiled, the English message otherwise.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from renkei.services import demo
from renkei.services.dates import japanese_date
from tests.e2e.conftest import setup_page
from tests.e2e.journeys import (
    add_item,
    log_in,
    past_working_day,
    schedule_session,
    ui,
)

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
FIRST_DRAFT = f"**{SECRET_WORDS[0]}**について検討した。\n\n- {SECRET_WORDS[1]}とする。"
SECRET_LINE = f"{SECRET_WORDS[2]}を社協に依頼する。"
SAVED_TEXT = f"{FIRST_DRAFT}\n- {SECRET_LINE}"

NO_RECORD = ui(
    "The attendance record of this session has not been made yet. Record attendance first, "
    "or say why the minutes are to be approved without it."
)
NO_RECORD_REASON = "出席簿は紙で保管しており、取り込みは後日行う"

EDIT_PATH = re.compile(r"/minutes/\d+/edit$")
EDITOR_OF = re.compile(r"^(.*/minutes/\d+)/edit\b")  # the version's own page
SHA256 = re.compile(r"^[0-9a-f]{64}$")
AUTOSAVE_WAIT = 10_000  # ms: the editor saves 3 s after the last keystroke, then the request

# The text of the running head printed at the top of every page, as the browser parsed it.
RUNNING_HEAD = """() => {
    for (const sheet of document.styleSheets) {
        for (const rule of sheet.cssRules) {
            if (!(rule instanceof CSSPageRule)) continue;
            for (const box of rule.cssRules || []) {
                if (box.name === "top-left") return box.style.content;
            }
        }
    }
    return null;
}"""


@dataclass
class Journey:
    """The module's own session, and how far its minutes have come."""

    session_url: str
    day: date
    body_ids: dict[str, int]
    version_url: str = ""
    reached: set[str] = field(default_factory=set)

    def require(self, step: str) -> None:
        if step not in self.reached:
            pytest.skip(f"the journey before this one did not reach {step!r}")


# --- Helpers, as in the other journeys ---------------------------------------------------


def editor_section(page: Page, title: str) -> Locator:
    """The editor's section for the agenda item ``title``."""
    return page.locator("section.minutes-edit-section").filter(
        has=page.locator("h2", has_text=title)
    )


def document_section(page: Page, title: str) -> Locator:
    return page.locator("article.minutes-document section.minutes-section").filter(
        has=page.locator("h2, h3", has_text=title)
    )


def wait_for_autosave(section: Locator) -> None:
    state = section.locator(".save-state")
    expect(state).to_contain_text(ui("Saved"), timeout=AUTOSAVE_WAIT)
    expect(state).not_to_have_class(re.compile(r"\bfailed\b"))


# --- Fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def journey(browser: Browser, live_server) -> Iterator[Journey]:
    """A held joint session of the 支援会議 and the 協議体, scheduled through the UI, with a
    confidential item of the 支援会議 and a public one of the 協議体."""
    with setup_page(browser, live_server, "minutes-setup") as page:
        log_in(page, SECRETARY)
        day = past_working_day(2)
        session_url = schedule_session(page, TITLE, [demo.SUPPORT, demo.KYOGITAI], day)
        expect(page.locator("main h1")).to_contain_text(TITLE)

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

        # Held: in the past, it is recorded held at once (開催済), with no notice.
        expect(page.locator("main h1 .status.status-held")).to_have_text(ui("Held"))
        expect(page.locator(".page-head form input[name=status][value=convened]")).to_have_count(1)
        expect(page.locator("section#minutes")).to_be_visible()
    yield Journey(session_url=session_url, day=day, body_ids=body_ids)


# --- The journeys -------------------------------------------------------------------------


def test_secretary_writes_the_minutes_with_autosave_and_meets_a_conflict(
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

    # One section per agenda item, both open to the pledged secretary; none written yet.
    secret = editor_section(page, SECRET_TITLE)
    expect(secret).to_have_count(1)
    expect(secret.locator(".badge.visibility-confidential")).to_have_count(1)
    expect(secret.locator("textarea")).to_have_value("")
    public = editor_section(page, PUBLIC_TITLE)
    expect(public.locator(".badge.visibility-public")).to_have_count(1)

    # The 協議体's item with its own Save button: the page comes back at the section.
    public.locator("textarea").fill(PUBLIC_TEXT)
    public.locator("form.section-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/minutes/\d+/edit#section-\d+$"))
    expect(page.locator(".flash.flash-success")).to_be_visible()
    expect(editor_section(page, PUBLIC_TITLE).locator("textarea")).to_have_value(PUBLIC_TEXT)

    # Typing, then nothing: the section saves itself, without the Save button.
    secret = editor_section(page, SECRET_TITLE)
    textarea = secret.locator("textarea")
    textarea.click()
    textarea.press_sequentially(FIRST_DRAFT)
    expect(secret.locator(".save-state")).to_have_text(ui("Not saved yet"))
    wait_for_autosave(secret)
    page.reload()
    secret = editor_section(page, SECRET_TITLE)
    expect(secret.locator("textarea")).to_have_value(FIRST_DRAFT)
    expect(secret.locator("p.small")).to_contain_text(SECRETARY_NAME)  # who saved it last

    # The same editor in a second browser: both start from the same revision.
    other = browse(SECRETARY)
    other.goto(editor_url)
    theirs_section = editor_section(other, SECRET_TITLE)
    expect(theirs_section.locator("textarea")).to_have_value(FIRST_DRAFT)

    secret.locator("textarea").fill(SAVED_TEXT)
    wait_for_autosave(secret)

    theirs = f"{FIRST_DRAFT}\n- 次回までに状況を確認する。"
    other_textarea = theirs_section.locator("textarea")
    other_textarea.fill(theirs)
    box = theirs_section.locator(".conflict-box")
    expect(box).to_be_visible(timeout=AUTOSAVE_WAIT)
    conflict = ui("Someone else has updated this section (%(name)s).", name=SECRETARY_NAME)
    expect(box.locator("strong")).to_have_text(conflict)  # 他の人が更新しました（…）。
    expect(box.locator("pre.theirs")).to_have_text(SAVED_TEXT)
    expect(theirs_section.locator(".save-state")).to_have_class(re.compile(r"\bfailed\b"))
    # Nothing lost: the second browser keeps its own text; the first save stays saved.
    expect(other_textarea).to_have_value(theirs)
    page.reload()
    expect(editor_section(page, SECRET_TITLE).locator("textarea")).to_have_value(SAVED_TEXT)

    journey.version_url = EDITOR_OF.search(page.url).group(1)
    journey.reached.add("draft")
    assert console.csp_violations() == []
    assert list(console) == []


def test_the_markdown_preview_renders_a_section(page: Page, browse, journey: Journey, console):
    journey.require("draft")
    log_in(page, SECRETARY)
    page.goto(f"{journey.version_url}/edit")
    secret = editor_section(page, SECRET_TITLE)
    expect(secret.locator("textarea")).to_have_value(SAVED_TEXT)

    # The preview stands beside the text, as it will read (live as one types: see
    # test_minutes_editor_journey).
    preview = secret.locator(".editor-preview .markdown-preview")
    expect(preview).to_be_visible()
    expect(preview.locator("strong")).to_have_text(SECRET_WORDS[0])
    expect(preview.locator("li")).to_have_text([f"{SECRET_WORDS[1]}とする。", SECRET_LINE])
    # Only a look: the text is as it was, and saved as it was.
    expect(secret.locator("textarea")).to_have_value(SAVED_TEXT)
    expect(secret.locator(".save-state")).to_have_text("")
    assert list(console) == []


def test_both_chairs_approve_and_the_minutes_lock(page: Page, browse, journey: Journey, console):
    journey.require("draft")
    log_in(page, SECRETARY)
    page.goto(f"{journey.version_url}/edit")
    ask = page.locator("section.submit-box form button[type=submit]")
    expect(ask).to_have_text(ui("Ask the chairs for approval"))  # 議長に承認を依頼する
    # Attendance is not recorded: asked without saying why, nothing is submitted.
    box = page.locator("section.submit-box")
    expect(box.locator(".warning-box")).to_contain_text(
        ui("The attendance record of this session has not been made yet.")
    )
    ask.click()
    expect(page).to_have_url(re.compile(r"/minutes/\d+/edit#submit$"))
    expect(page.locator(".flash.flash-error")).to_contain_text(NO_RECORD)
    box.locator("textarea[name=attendance_reason]").fill(NO_RECORD_REASON)
    box.locator("button[type=submit]").click()
    expect(page).to_have_url(journey.version_url)
    expect(page.locator("main dl.facts dd.attendance-reason")).to_have_text(NO_RECORD_REASON)
    expect(page.locator(".flash.flash-success").first).to_be_visible()
    expect(page.locator(".minutes-meta")).to_contain_text(ui("Awaiting approval"))
    approvals = page.locator("main dl.facts ul.approvals li")
    expect(approvals).to_have_count(2)
    expect(approvals.locator(".muted")).to_have_text([ui("Waiting"), ui("Waiting")])
    # Awaiting approval, the draft can no longer be edited, and the secretary approves nothing.
    expect(page.locator("main a[href$='/edit']")).to_have_count(0)
    expect(page.locator("main a[href*='/approve/']")).to_have_count(0)

    for email, body in [(CHAIR_SUPPORT, demo.SUPPORT), (CHAIR_KYOGITAI, demo.KYOGITAI)]:
        chair = browse(email)
        chair.goto(journey.version_url)
        # Each chair is offered their own body's approval, and only that.
        label = ui("Approve or return as chair of %(body)s", body=body)
        expect(chair.locator("main a[href*='/approve/']")).to_have_text([label])
        chair.get_by_role("link", name=label, exact=True).click()
        expect(chair).to_have_url(f"{journey.version_url}/approve/{journey.body_ids[body]}")
        # Why attendance is not recorded, where they approve.
        expect(chair.locator("main .attendance-reason")).to_have_text(NO_RECORD_REASON)
        # What they approve: the general sections and their body's own.
        expect(chair.locator("article.minutes-document .minutes-bodies")).to_have_text(body)
        if body == demo.SUPPORT:
            section = document_section(chair, SECRET_TITLE)
            expect(section.locator(".markdown strong")).to_have_text(SECRET_WORDS[0])
            expect(section).to_contain_text(SECRET_WORDS[2])
            expect(document_section(chair, PUBLIC_TITLE)).to_have_count(0)
        else:
            expect(document_section(chair, PUBLIC_TITLE).locator("li")).to_have_text(
                PUBLIC_TEXT.removeprefix("- ")
            )
            html = chair.content()
            assert all(secret not in html for secret in [SECRET_TITLE, *SECRET_WORDS])
        chair.locator("main form button[name=decision][value=approve]").click()
        expect(chair).to_have_url(journey.version_url)
        expect(chair.locator(".flash.flash-success")).to_be_visible()
        mine = chair.locator(
            "main dl.facts ul.approvals li",
            has_text=ui("%(label)s: %(value)s", label=body, value=""),
        )
        expect(mine.locator(".badge.decision-approved")).to_have_text(ui("Approved"))
        expect(chair.locator("main a[href*='/approve/']")).to_have_count(0)
        # The first approval leaves the other body waiting; the second completes them.
        waiting = chair.locator("main dl.facts ul.approvals li:not(:has(.badge))")
        expect(waiting).to_have_text(
            [ui("%(label)s: %(value)s", label=demo.KYOGITAI, value=ui("Waiting"))]
            if body == demo.SUPPORT
            else []
        )
    expect(chair.locator(".flash.flash-success")).to_have_text(
        ui("Every approval is in: the minutes are approved and locked.")
    )

    # The secretary's page: 承認済, with the hash of what was approved; no editor any more.
    page.reload()
    expect(page.locator(".minutes-meta")).to_contain_text(ui("Approved"))
    expect(approvals.locator(".badge.decision-approved")).to_have_count(2)
    digest = page.locator("main dl.facts code.hash")
    expect(digest).to_have_text(SHA256)
    expect(page.locator("main dl.facts .badge.ok")).to_have_text(ui("Matches the approved content"))
    expect(page.locator(".minutes-approval code.hash")).to_have_text(digest.inner_text())
    expect(page.locator("main a[href$='/edit']")).to_have_count(0)
    expect(page.locator("main form[action$='/withdraw']")).to_have_count(0)
    # The editor's own address sends back to the minutes, saying they are locked.
    page.goto(f"{journey.version_url}/edit")
    expect(page).to_have_url(journey.version_url)
    expect(page.locator(".flash.flash-error")).to_have_text(
        ui("Minutes awaiting approval or approved cannot be edited.")
    )
    # The session page lists them as approved.
    page.goto(journey.session_url)
    expect(page.locator("section#minutes .status.minutes-approved")).to_have_text(ui("Approved"))

    journey.reached.add("approved")
    assert console.csp_violations() == []
    assert list(console) == []


def test_a_member_of_the_kyogitai_never_meets_the_closed_item(
    page: Page, browse, journey: Journey, console
):
    journey.require("approved")
    secrets = [SECRET_TITLE, *SECRET_WORDS]
    log_in(page, MEMBER_KYOGITAI)
    page.goto(journey.session_url)
    expect(page.locator("main h1")).to_contain_text(TITLE)
    closed = page.locator("#agenda tr.agenda-item.closed")
    expect(closed.locator(".agenda-title")).to_have_text([ui("Closed agenda item")])
    html = page.content()
    assert all(secret not in html for secret in secrets)

    # The minutes, from the session page: the closed item is a placeholder (非公開議題).
    page.locator("section#minutes a[href^='/minutes/']").click()
    expect(page).to_have_url(journey.version_url)
    expect(page.locator(".minutes-meta")).to_contain_text(ui("Approved"))
    placeholder = page.locator("article.minutes-document section.minutes-section.closed")
    expect(placeholder).to_have_count(1)
    expect(placeholder.locator("h2, h3")).to_have_text(
        ui("Item %(n)d: %(title)s", n=1, title=ui("Closed agenda item"))
    )
    expect(placeholder.locator("p.muted")).to_have_text(
        ui("This agenda item was discussed in closed session.")
    )
    expect(document_section(page, PUBLIC_TITLE).locator(".markdown li")).to_have_text(
        PUBLIC_TEXT.removeprefix("- ")
    )
    html = page.content()
    assert all(secret not in html for secret in secrets)

    # The 全文 view is not offered, and not given when asked for by address.
    views = page.locator("main dl.facts dd.choices").first
    expect(views).to_be_visible()
    expect(views).not_to_contain_text(ui("Full"))
    expect(page.locator("main a[href*='view=full']")).to_have_count(0)
    response = page.goto(f"{journey.version_url}?view=full")
    assert response is not None and response.status == 403
    # Nor do the 支援会議's extract or the downloaded file carry the closed item.
    page.goto(f"{journey.version_url}?body={journey.body_ids[demo.SUPPORT]}")
    expect(page.locator("article.minutes-document section.minutes-section.closed")).to_have_count(1)
    html = page.content()
    assert all(secret not in html for secret in secrets)
    download = page.request.get(f"{journey.version_url}/download")
    assert download.ok
    assert PUBLIC_TITLE in download.text()
    assert all(secret not in download.text() for secret in secrets)

    assert console.csp_violations() == []
    assert [m for m in console if "status of 403" not in m] == []


def test_the_approved_minutes_print_on_a4(page: Page, browse, journey: Journey, console):
    journey.require("approved")
    log_in(page, SECRETARY)
    page.goto(journey.version_url)
    # The full view, as the pledged secretary may print it.
    page.locator("main dl.facts dd.choices a[href*='view=full']").click()
    expect(page).to_have_url(re.compile(r"/minutes/\d+\?view=full$"))
    expect(document_section(page, SECRET_TITLE)).to_contain_text(SECRET_WORDS[2])
    expect(page.locator(".site-header")).to_be_visible()
    buttons = page.locator("main button, main a.button")
    assert any(button.is_visible() for button in buttons.all())

    page.emulate_media(media="print")
    for chrome in [
        ".site-header",
        "nav.site-nav",
        ".site-footer",
        ".breadcrumbs",
        ".minutes-tools",
    ]:
        expect(page.locator(chrome)).to_be_hidden()
    for button in buttons.all():
        expect(button).to_be_hidden()
    # Every sheet is headed with the bodies and the date: a margin box of @page, from the
    # minutes' own small stylesheet (page.css), which the page has loaded.
    expect(page.locator("head link[rel=stylesheet][href*='/page.css']")).to_have_count(1)
    head = page.evaluate(RUNNING_HEAD)
    assert head and demo.SUPPORT in head and demo.KYOGITAI in head, head
    assert japanese_date(journey.day) in head, head  # 和暦, the install's default
    # What the paper is for stays: the title, every section, the hash.
    expect(page.locator("article.minutes-document h1")).to_contain_text(TITLE)
    expect(document_section(page, SECRET_TITLE)).to_be_visible()
    expect(document_section(page, PUBLIC_TITLE)).to_be_visible()
    expect(page.locator(".minutes-approval code.hash")).to_have_text(SHA256)

    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF-") and len(pdf) > 1_000
    assert re.search(rb"/Type\s*/Page\b", pdf)

    page.emulate_media(media="screen")
    expect(page.locator(".site-header")).to_be_visible()
    assert list(console) == []
