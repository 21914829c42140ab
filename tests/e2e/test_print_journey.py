"""Prints as paper, in a real browser: the demo's approved joint minutes (last month's 支援会議
and 協議体) printed by the pledged secretary in the full view, rendered to an A4 PDF by
Chromium and read back with pypdf. The paper is a 会議録 with a 和暦 date, the approval block
with each chair's name and the hash of what was approved on the same page, and — holding a
confidential item — 「秘」 with the reader's name and the print time in the head of every page.
The 次第 prints the same way, without the mark for a member who sees no closed item.
"""

import io
import re
import unicodedata

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from renkei.services import demo
from tests.e2e.journeys import log_in, ui

pytestmark = pytest.mark.e2e

SECRETARY = "secretary@example.jp"
MEMBER_KYOGITAI = "member.kyogitai@example.jp"
LAST_MONTH = "支援会議・協議体 共同開催（前月）"  # demo: held, minutes approved by both chairs
CONFIDENTIAL_TITLE = "個別ケースの検討（B地区）"  # its 支援会議's confidential item
# As ``flat`` reads it: NFKC turns the full-width brackets into ASCII ones.
WAREKI_DATE = re.compile(r"令和\d+年\d{1,2}月\d{1,2}日\([月火水木金土日]\)")
HASH = re.compile(r"[0-9a-f]{64}")


def name_of(email: str) -> str:
    return next(name for address, name, *_ in demo.PEOPLE if address == email)


def flat(text: str) -> str:
    """Text as pypdf extracts it, without the spaces and line breaks layout puts in, and
    compared in NFKC: the CJK fonts map some kanji to their Kangxi radicals (⽉ for 月)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def pdf_pages(page: Page) -> list[str]:
    """The page printed as Chromium prints it (A4), as the text of each sheet. Once the page
    has loaded: its running head is a stylesheet of its own (page.css, made for the reader),
    which a busy server may still be writing when the page's text is already there."""
    page.wait_for_load_state("load")
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4")
    page.emulate_media(media="screen")
    assert pdf.startswith(b"%PDF-")
    return [flat(sheet.extract_text()) for sheet in PdfReader(io.BytesIO(pdf)).pages]


def open_last_months_session(page: Page, body: str) -> None:
    """Through the body's list of sessions, to the demo's joint session of last month."""
    page.goto("/bodies/")
    page.locator("main a", has_text=body).first.click()
    page.locator("#sessions a", has_text=LAST_MONTH).first.click()
    expect(page.locator("h1")).to_contain_text(LAST_MONTH)


def test_the_minutes_print_as_a_kaigiroku_marked_secret(page: Page, console):
    log_in(page, SECRETARY)
    open_last_months_session(page, demo.SUPPORT)
    page.locator("#minutes a[href^='/minutes/']").first.click()
    page.locator("main dl.facts dd.choices a[href*='view=full']").click()
    expect(page).to_have_url(re.compile(r"/minutes/\d+\?view=full$"))
    expect(page.locator("article.minutes-document .print-mark")).to_have_text(ui("Secret"))

    sheets = pdf_pages(page)
    text = "".join(sheets)
    assert WAREKI_DATE.search(text), text[:400]
    for label in ("Date and time", "Place", "Members present", "Secretariat", "Agenda"):
        assert flat(ui(label)) in text, label
    assert flat(CONFIDENTIAL_TITLE) in text  # the full view, for the pledged secretary
    # Every sheet is headed 「秘」 with the reader's name and the time of printing.
    head = flat(
        ui("%(mark)s  Printed by %(name)s on %(when)s", mark=ui("Secret"), name="@", when="@")
    )
    before_name, between, _after = head.split("@")
    head = before_name + flat(name_of(SECRETARY)) + between
    for number, sheet in enumerate(sheets, start=1):
        assert head in sheet, (number, head, sheet[:300])
        printed_at = sheet[sheet.index(head) + len(head) :]
        assert WAREKI_DATE.match(printed_at), (number, printed_at[:40])
    # The approval block names each approving chair, and the hash is under it on that sheet.
    with_approval = [s for s in sheets if flat(ui("Date of approval")) in s]
    assert len(with_approval) == 1, sheets
    approval = with_approval[0]
    for chair in ("chair.support@example.jp", "chair.kyogitai@example.jp"):
        assert flat(name_of(chair)) in approval, chair
    assert HASH.search(approval), "the hash is not on the approval block's sheet"
    assert [s for s in sheets if HASH.search(s)] == [approval]
    assert list(console) == []


def test_a_member_prints_the_order_of_business_without_a_mark(page: Page, console):
    log_in(page, MEMBER_KYOGITAI)
    open_last_months_session(page, demo.KYOGITAI)
    page.locator("#agenda a", has_text=ui("Print the order of business")).click()
    expect(page).to_have_url(re.compile(r"/sessions/\d+/order$"))
    expect(page.locator(".print-mark")).to_have_count(0)

    text = "".join(pdf_pages(page))
    assert flat(ui("Order of business")) in text and WAREKI_DATE.search(text)
    assert flat(ui("Closed agenda item")) in text
    assert flat(CONFIDENTIAL_TITLE) not in text
    assert flat(ui("List of materials")) + flat(ui("None")) in text
    assert flat(name_of(MEMBER_KYOGITAI)) not in text  # an unmarked print names no reader
    assert list(console) == []
