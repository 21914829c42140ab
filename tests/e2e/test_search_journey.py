"""The search in a real browser: a member types a phrase into the header's box and reaches
the agenda item; a filter narrows the results; a one-character query is answered with the
reason, in Japanese; on a phone the box and the results fit the screen.

Only the demo town is read (nothing is changed). Labels are the app's own catalog's (``ui``).
"""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.journeys import horizontal_overflow, log_in, ui

pytestmark = pytest.mark.e2e

SECRETARY = "secretary@example.jp"
PHRASE = "買い物支援"  # the demo's 協議体 items and materials
SESSION_PATH = re.compile(r"/sessions/\d+")


def search_from_header(page: Page, text: str) -> None:
    box = page.locator("header form[role=search] input[name=q]")
    box.fill(text)
    box.press("Enter")
    page.wait_for_load_state()


def test_a_phrase_typed_in_the_header_leads_to_the_agenda_item(page: Page, console):
    log_in(page, SECRETARY)
    search_from_header(page, PHRASE)
    expect(page).to_have_url(re.compile(r"/search\?q="))
    hits = page.locator("ol.search-results li.search-hit")
    expect(hits.first).to_be_visible()
    # The phrase is marked where it was found, as typed.
    expect(hits.first.locator("mark").first).to_have_text(PHRASE)
    # The box keeps what was searched for, to be changed.
    expect(page.locator("header input[name=q]")).to_have_value(PHRASE)

    facet = page.locator("nav.search-facets a", has_text=ui("Agenda item"))
    facet.click()
    page.wait_for_load_state()
    tags = page.locator("ol.search-results .search-hit-head .tag")
    expect(tags.first).to_be_visible()
    assert set(tags.all_inner_texts()) == {ui("Agenda item")}

    page.locator("ol.search-results .search-hit-title a").first.click()
    page.wait_for_load_state()
    expect(page).to_have_url(SESSION_PATH)
    expect(page.locator("main")).to_contain_text(PHRASE)
    assert not console, console


def test_a_one_character_query_is_refused_with_the_reason(page: Page):
    log_in(page, SECRETARY)
    search_from_header(page, "市")
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text(ui("Search for two or more characters."))
    expect(page.locator("#search-q")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("ol.search-results")).to_have_count(0)


def test_the_search_fits_a_phone(phone_page: Page):
    log_in(phone_page, SECRETARY)
    phone_page.goto(f"/search?q={PHRASE}")
    expect(phone_page.locator("ol.search-results li.search-hit").first).to_be_visible()
    assert not horizontal_overflow(phone_page)
