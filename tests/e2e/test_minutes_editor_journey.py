"""Writing minutes without knowing Markdown, in a real browser: the secretary formats a
section with the toolbar (見出し, 箇条書き, 太字), by mouse and by keyboard, and reads the result
in the preview beside the text as she writes; the raw text stays hers to edit. Side by side
on a desktop, one above the other on a phone; no console error, no CSP violation.

The journey uses a session of its own: held (registered after its time), its agenda entered
as a correction after the session, its minutes laid out through the page.
"""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from renkei.services import demo
from tests.e2e.conftest import setup_page
from tests.e2e.journeys import (
    add_item,
    log_in,
    open_minutes_editor,
    past_working_day,
    schedule_session,
    ui,
)

pytestmark = pytest.mark.e2e

SECRETARY = "secretary@example.jp"
TITLE = "協議体 定例会（e2e 議事録の書式）"
ITEM = "e2e 通いの場の報告（書式）"
AUTOSAVE_WAIT = 10_000  # ms: the editor saves 3 s after the last keystroke
WRITTEN = (
    "### 通いの場の現状\n- 3か所増えた\n- 参加者は延べ120人\n\n次回は**要注意**の地区を扱う"
    "\n\n- 確認事項\n- 手で書いた行"
)


def item_section(page: Page) -> Locator:
    return page.locator("section.minutes-edit-section").filter(
        has=page.locator("h2", has_text=ITEM)
    )


@pytest.fixture(scope="module")
def editor_url(browser: Browser, live_server) -> Iterator[str]:
    """The editor of the minutes of a held 協議体 session with one public item."""
    with setup_page(browser, live_server, "minutes-editor-setup") as page:
        log_in(page, SECRETARY)
        day = past_working_day(5)
        session_url = schedule_session(page, TITLE, [demo.KYOGITAI], day, "13:30", "15:00")
        expect(page.locator("main h1 .status.status-held")).to_have_text(ui("Held"))
        add_item(page, ITEM, demo.KYOGITAI, "public")
        url = open_minutes_editor(page, session_url)
    yield url


def test_the_toolbar_writes_a_heading_a_list_and_bold_text_seen_in_the_preview(
    page: Page, editor_url: str, console
):
    log_in(page, SECRETARY)
    page.goto(editor_url)
    section = item_section(page)
    textarea = section.locator("textarea")
    toolbar = section.locator(".editor-toolbar[role=group]")
    preview = section.locator(".editor-preview .markdown-preview")
    expect(toolbar).to_be_visible()
    expect(toolbar.locator("button")).to_have_text([ui("Heading"), ui("List"), ui("Bold")])
    for button in toolbar.locator("button").all():
        assert button.get_attribute("type") == "button"
    expect(preview).to_be_visible()
    expect(textarea).to_have_value("")

    # 見出し on an empty line: the mark and a sample word, selected, which typing replaces.
    textarea.click()
    toolbar.get_by_role("button", name=ui("Heading"), exact=True).click()
    expect(textarea).to_be_focused()
    expect(textarea).to_have_value(f"### {ui('Heading')}")
    page.keyboard.type("通いの場の現状")
    expect(textarea).to_have_value("### 通いの場の現状")
    expect(preview.locator("h3")).to_have_text("通いの場の現状")

    # 箇条書き on each new line.
    for line in ("3か所増えた", "参加者は延べ120人"):
        page.keyboard.press("End")
        page.keyboard.press("Enter")
        toolbar.get_by_role("button", name=ui("List"), exact=True).click()
        page.keyboard.type(line)
    expect(preview.locator("li")).to_have_text(["3か所増えた", "参加者は延べ120人"])

    # 太字 by keyboard alone: select the word, Shift+Tab back to the button, Space.
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.keyboard.type("次回は要注意")
    for _ in range(3):
        page.keyboard.press("Shift+ArrowLeft")
    page.keyboard.press("Shift+Tab")
    expect(toolbar.get_by_role("button", name=ui("Bold"), exact=True)).to_be_focused()
    page.keyboard.press("Space")
    expect(textarea).to_be_focused()
    page.keyboard.press("ArrowRight")  # after the selected word and its closing mark
    page.keyboard.press("End")
    page.keyboard.type("の地区を扱う")
    expect(preview.locator("p strong")).to_have_text("要注意")
    expect(preview.locator("h3")).to_have_text("通いの場の現状")

    # A list right under that line: the button leaves the blank line a list needs.
    page.keyboard.press("Enter")
    toolbar.get_by_role("button", name=ui("List"), exact=True).click()
    page.keyboard.type("確認事項")
    # The raw text stays editable by hand; the preview follows it.
    page.keyboard.press("Enter")
    page.keyboard.type("- 手で書いた行")
    expect(textarea).to_have_value(WRITTEN)
    expect(preview.locator("ul")).to_have_count(2)
    expect(preview.locator("li")).to_have_text(
        ["3か所増えた", "参加者は延べ120人", "確認事項", "手で書いた行"]
    )

    # The section saves itself, marks and all.
    expect(section.locator(".save-state")).to_contain_text(ui("Saved"), timeout=AUTOSAVE_WAIT)
    page.reload()
    expect(item_section(page).locator("textarea")).to_have_value(WRITTEN)
    expect(item_section(page).locator(".markdown-preview strong")).to_have_text("要注意")

    # Side by side on a desktop.
    text_box = item_section(page).locator("textarea").bounding_box()
    preview_box = item_section(page).locator(".editor-preview").bounding_box()
    assert preview_box["x"] >= text_box["x"] + text_box["width"], (text_box, preview_box)
    assert console.csp_violations() == []
    assert list(console) == []


def test_on_a_phone_the_preview_is_under_the_text(phone_page: Page, editor_url: str, console):
    log_in(phone_page, SECRETARY)
    phone_page.goto(editor_url)
    section = item_section(phone_page)
    expect(section.locator(".editor-toolbar[role=group]")).to_be_visible()
    text_box = section.locator("textarea").bounding_box()
    preview_box = section.locator(".editor-preview").bounding_box()
    assert preview_box["y"] >= text_box["y"] + text_box["height"], (text_box, preview_box)
    width = phone_page.evaluate("() => document.documentElement.clientWidth")
    assert preview_box["x"] + preview_box["width"] <= width
    assert console.csp_violations() == []
    assert list(console) == []
