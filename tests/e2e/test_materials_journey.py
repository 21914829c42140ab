"""Meeting materials in a real browser: the secretary uploads a PDF to an agenda item of a
session being prepared, convenes it, and a member downloads the file under its Japanese
name. In the demo's coming joint session of the 支援会議 and the 協議体, a member of the 協議体
alone never sees the 支援会議's case summary: not listed, and its address not found. The
materials page passes axe (WCAG 2.1 A and AA), as the other pages do.
"""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from renkei.services import demo, demo_materials
from tests.e2e.journeys import add_item, log_in, schedule_session, ui
from tests.e2e.test_accessibility import AXE, axe_violations
from tests.e2e.test_session_journeys import working_day

pytestmark = pytest.mark.e2e

SECRETARY = "secretary@example.jp"
MEMBER = "member.kyogitai@example.jp"  # 地域 さくら: the 協議体 only, no pledge
TITLE = "第1層協議体 定例会（e2e 資料）"
ITEM_TITLE = "e2e 通いの場の立ち上げ"
FILENAME = "通いの場 立ち上げ計画（案）.pdf"
COMING = "支援会議・協議体 共同開催"  # the demo's convened joint session
CASE_SUMMARY = "ケース概要"  # its 支援会議 material, confidential
DOWNLOAD = re.compile(r"/materials/(\d+)/download$")


def test_secretary_uploads_convenes_and_a_member_downloads(page: Page, browse):
    # 1. The secretary prepares a session of the 協議体 with a public item.
    log_in(page, SECRETARY)
    session_url = schedule_session(page, TITLE, [demo.KYOGITAI], working_day(7))
    add_item(page, ITEM_TITLE, demo.KYOGITAI, "public")

    # 2. Uploads the plan to the item from the materials page.
    page.goto(session_url)
    page.get_by_role("link", name=ui("Manage the materials"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/sessions/\d+/materials$"))
    upload_form = page.locator("section#upload form")
    upload_form.locator("select[name=item_id]").select_option(label=f"1. {ITEM_TITLE}")
    upload_form.locator("input[name=file]").set_input_files(
        {"name": FILENAME, "mimeType": "application/pdf", "buffer": demo_materials.plan()}
    )
    upload_form.locator("button[type=submit]").click()
    expect(page.locator(".flash.flash-success")).to_have_text(
        [ui("The material has been uploaded.")]
    )
    expect(page.locator("section#uploaded")).to_contain_text(FILENAME)

    # 3. Convenes it: the notice goes out with the agenda and its materials.
    page.goto(session_url)
    page.get_by_role("link", name=ui("Send the convening notice…"), exact=True).click()
    page.get_by_role("button", name=ui("Send the convening notice"), exact=True).click()
    expect(page.locator("main h1 .status.status-convened")).to_have_text(ui("Convened"))

    # 4. The member finds it under the item and downloads it under its Japanese name.
    member = browse(MEMBER)
    member.goto(urlsplit(session_url).path)
    link = member.locator("#materials a", has_text="通いの場 立ち上げ計画（案）")
    expect(link).to_have_count(1)
    with member.expect_download() as started:
        link.click()
    download = started.value
    assert download.suggested_filename == FILENAME
    with open(download.path(), "rb") as file:
        assert file.read() == demo_materials.plan()


def coming_session_path(page: Page) -> str:
    page.goto("/")
    page.get_by_role("link", name=COMING, exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/sessions/\d+$"))
    return urlsplit(page.url).path


def test_a_kyogitai_member_never_sees_the_support_meetings_material(page: Page, browse):
    log_in(page, SECRETARY)
    path = coming_session_path(page)
    secret = page.locator("#materials a", has_text=CASE_SUMMARY)
    expect(secret).to_have_count(1)
    address = secret.get_attribute("href")
    assert address is not None and DOWNLOAD.search(address)

    member = browse(MEMBER)
    member.goto(path)
    expect(member.locator("#materials")).to_be_visible()
    expect(member.locator("#materials a", has_text="地域資源マップ")).to_have_count(1)
    assert CASE_SUMMARY not in member.content()
    response = member.request.get(address)
    assert response.status == 404
    assert CASE_SUMMARY not in response.text()


def test_the_materials_page_passes_axe(page: Page):
    if not AXE.exists():
        pytest.skip(f"{AXE} is missing: run `npm ci`")
    log_in(page, SECRETARY)
    path = coming_session_path(page)
    page.goto(f"{path}/materials")
    expect(page.locator("section#uploaded table")).to_be_visible()
    assert axe_violations(page, AXE.read_text(encoding="utf-8")) == []
