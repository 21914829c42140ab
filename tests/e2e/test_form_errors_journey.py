"""A form sent with faults, in a real browser: the page comes back with the focus on the
summary of what is wrong (a screen reader reads it first), each link in the summary takes
the focus to its field, and the browser console stays clean (the CSP allows no inline
script: the focus is moved by static/js/app.js)."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.journeys import log_in, submit, ui
from tests.sessions_helpers import DAY

pytestmark = pytest.mark.e2e

SECRETARY = "secretary@example.jp"


def console_errors(console) -> list[str]:
    """What went wrong in the console, but the refused form's own answer (400), which
    Chromium logs as a failed load."""
    return [message for message in console if "status of 400" not in message]


def focused_id(page: Page) -> str:
    return page.evaluate("() => document.activeElement && document.activeElement.id")


def focus_is_on_summary(page: Page) -> bool:
    return page.evaluate(
        "() => document.activeElement === document.querySelector('.error-summary')"
    )


def summary_targets(page: Page) -> list[str]:
    return page.eval_on_selector_all(
        ".error-summary a[href^='#']", "(links) => links.map((a) => a.hash.slice(1))"
    )


def follow_each_link(page: Page, keyboard: bool) -> None:
    """Each link of the summary puts the focus on the field it names, by click or Enter."""
    for target in summary_targets(page):
        link = page.locator(f".error-summary a[href='#{target}']")
        if keyboard:
            link.focus()
            page.keyboard.press("Enter")
        else:
            link.click()
        assert focused_id(page) == target
        expect(page.locator(f"#{target}")).to_be_in_viewport()


def test_an_empty_session_form_comes_back_with_the_focus_on_its_summary(
    page: Page, console, live_server
):
    log_in(page, SECRETARY)
    page.goto("/sessions/new")
    for name in ("start_time", "end_time"):  # the form suggests 14:00–16:00
        page.fill(f"main form input[name={name}]", "")
    submit(page)

    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary.locator("h2")).to_have_text(ui("Please check your entries"))
    assert focus_is_on_summary(page)
    targets = summary_targets(page)
    assert {"title", "body_ids-0", "start_date", "start_time", "end_time"} <= set(targets)
    for target in targets:  # every error is also said on its field
        field = page.locator(f"#{target}")
        expect(field).to_have_attribute("aria-invalid", "true")
        error_id = page.evaluate(
            "(id) => document.getElementById(id).getAttribute('aria-describedby')", target
        ).split()[-1]
        expect(page.locator(f"#{error_id}.field-error")).to_be_visible()
    follow_each_link(page, keyboard=False)
    assert console.csp_violations() == []
    assert console_errors(console) == []


def test_several_faults_are_shown_together_and_reached_by_keyboard(
    page: Page, console, live_server
):
    log_in(page, SECRETARY)
    page.goto("/sessions/new")
    page.fill("main form input[name=title]", "定例会")
    page.fill("main form input[name=start_date]", DAY.isoformat())
    page.fill("main form input[name=start_time]", "16:00")
    page.fill("main form input[name=end_time]", "14:00")
    page.fill("main form input[name=online_url]", "zoom")
    submit(page)

    assert focus_is_on_summary(page)
    assert summary_targets(page) == ["body_ids-0", "end_time", "online_url"]
    expect(page.locator("main form input[name=title]")).to_have_value("定例会")
    follow_each_link(page, keyboard=True)
    assert console.csp_violations() == []
    assert console_errors(console) == []


def test_a_form_without_errors_leaves_the_focus_alone(page: Page, console, live_server):
    log_in(page, SECRETARY)
    page.goto("/sessions/new")
    expect(page.locator(".error-summary")).to_have_count(0)
    assert page.evaluate("() => document.activeElement === document.body")
    assert list(console) == []
