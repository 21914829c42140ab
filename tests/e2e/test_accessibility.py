"""Accessibility in a real browser: axe-core (pinned in package-lock.json, installed by
`npm ci`) checks every main page the secretary, a chair and a member reach, and the pages
before logging in, against WCAG 2.1 A and AA; none may have a violation. Then the attendance
record's layout at 1280 and 390 CSS pixels, the focus indicator's contrast against what it
meets, and text that follows the browser's text-size setting.

The module schedules one held session of its own through the UI (its draft minutes give the
editor to check) and one date poll; the rest is the demo town's: last month's held joint
session of the 支援会議 and the 協議体, with its attendance record and approved minutes.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from renkei.services import demo
from tests.e2e.conftest import _browser_required, setup_page
from tests.e2e.journeys import (
    add_item,
    exact,
    horizontal_overflow,
    log_in,
    open_minutes_editor,
    past_working_day,
    schedule_session,
    submit,
    ui,
)

pytestmark = pytest.mark.e2e

AXE = Path(__file__).parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

SECRETARY = "secretary@example.jp"
CHAIR = "chair.support@example.jp"  # chairs the 支援会議 and the 支援調整会議, pledged
MEMBER = "member.both@example.jp"  # a member of the 支援会議 and the 協議体
LAST_MONTH = "支援会議・協議体 共同開催（前月）"  # the demo's held session, the largest record
COMING = "支援会議・協議体 共同開催"  # the demo's next joint session, convened

TITLE = "e2e アクセシビリティ確認"
ITEM_TITLE = "e2e 個別ケース（アクセシビリティ）"
POLL_TITLE = "e2e 日程調整（アクセシビリティ）"
SESSION_PATH = re.compile(r"/sessions/(\d+)$")
POLL_PATH = re.compile(r"/polls/\d+$")

# Main-menu links the tours do not follow: the language switch and downloads.
SKIPPED_HREFS = ("/language/", ".csv", ".ics")


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe-core's script; like Chromium, required in CI, else its absence skips the tests."""
    if not AXE.exists():
        message = f"{AXE} is missing: run `npm ci` (make test does)"
        if _browser_required():
            pytest.fail(f"{message} (RENKEI_REQUIRE_BROWSER is set)")
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


def axe_violations(page: Page, source: str) -> list[str]:
    """What axe finds against WCAG 2.1 A and AA on the page as shown, one line per rule and
    element. The app's Content-Security-Policy allows no inline script, so axe is evaluated
    through the DevTools protocol, which the policy does not govern (add_script_tag would
    add an inline <script> the policy blocks)."""
    page.wait_for_load_state("load")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(source)
    found = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return result.violations.flatMap(v => v.nodes.map(
                n => `${v.id} [${v.impact}] ${n.target.join(' ')}: ${v.help}`));
        }""",
        WCAG_21_AA,
    )
    return list(found)


@dataclass
class Scene:
    """Addresses the tours visit, found through the UI."""

    session_url: str  # the demo's coming joint session
    held_url: str  # last month's held joint session
    attendance_url: str
    minutes_url: str  # last month's approved minutes
    editor_url: str  # this module's session's draft minutes
    item_form_url: str
    poll_url: str
    body_url: str  # the 支援会議


def session_link(page: Page, body_url: str, title: str) -> str:
    """The address of the session ``title`` listed on a body's page (walking to older pages)."""
    page.goto(body_url)
    while True:
        link = page.locator("main #sessions a[href^='/sessions/']", has_text=exact(title))
        if link.count():
            return link.first.get_attribute("href") or ""
        older = page.locator("main a[rel=next]")
        assert older.count(), f"{title} is not listed on {body_url}"
        older.first.click()
        page.wait_for_load_state()


def _held_session_with_item(page: Page) -> str:
    """A past session of the 支援会議 (held at once) with one confidential item, entered as a
    correction after the session; the address of its item form."""
    own = schedule_session(page, TITLE, [demo.SUPPORT], past_working_day(6), "10:00", "11:00")
    add_item(page, ITEM_TITLE, demo.SUPPORT, "confidential", 30)
    return f"{own}/items/new"


def _create_poll(page: Page) -> str:
    """A date poll of the 支援会議 and the 協議体, so that the chair and the member see it."""
    page.goto("/polls/new")
    form = page.locator("main form.form")
    form.locator("input[name=title]").fill(POLL_TITLE)
    for body in (demo.SUPPORT, demo.KYOGITAI):
        form.locator("label.checkbox").filter(has_text=exact(body)).locator("input").check()
    form.locator("select[name=host_body_id]").select_option(label=demo.SUPPORT)
    for n, weeks in enumerate((7, 8)):
        day = past_working_day(-weeks)  # -weeks ago: a working day some weeks ahead
        form.locator(f"input[name=slots-{n}-day]").fill(day.isoformat())
        form.locator(f"input[name=slots-{n}-start]").fill("14:00")
        form.locator(f"input[name=slots-{n}-end]").fill("15:00")
    submit(page)
    expect(page).to_have_url(POLL_PATH)
    return page.url


@pytest.fixture(scope="module")
def scene(browser: Browser, live_server) -> Iterator[Scene]:
    with setup_page(browser, live_server, "accessibility-setup") as page:
        log_in(page, SECRETARY)
        page.goto("/bodies/")
        page.locator("main a", has_text=exact(demo.SUPPORT)).first.click()
        body_url = page.url
        held_url = session_link(page, body_url, LAST_MONTH)
        session_url = session_link(page, body_url, COMING)
        page.goto(held_url)
        minutes_url = page.locator("section#minutes a[href^='/minutes/']").first.get_attribute(
            "href"
        )
        item_form_url = _held_session_with_item(page)
        own = item_form_url.removesuffix("/items/new")
        scene = Scene(
            session_url=session_url,
            held_url=held_url,
            attendance_url=f"{held_url}/attendance",
            minutes_url=minutes_url or "",
            item_form_url=item_form_url,
            editor_url=open_minutes_editor(page, own),
            poll_url=_create_poll(page),
            body_url=body_url,
        )
    yield scene


def nav_links(page: Page) -> list[str]:
    """The main menu's addresses as the logged-in person sees them, and the minutes and date
    polls their home page leads to (a chair's minutes awaiting approval, a member's poll)."""
    page.goto("/")
    links = "links => links.map(a => a.href)"
    hrefs = page.locator("header .site-nav a").evaluate_all(links)
    hrefs += page.locator("main a[href^='/minutes/'], main a[href^='/polls/']").evaluate_all(links)
    return [h for h in hrefs if not any(s in h for s in SKIPPED_HREFS)]


def tour(page: Page, urls: list[str], axe_source: str) -> dict[str, list[str]]:
    """Each page's violations, by address; every page must load."""
    found: dict[str, list[str]] = {}
    for url in dict.fromkeys(map(local, urls)):  # each once, in order
        response = page.goto(url)
        assert response is not None and response.ok, f"{url}: {response and response.status}"
        violations = axe_violations(page, axe_source)
        if violations:
            found[url] = violations
    return found


def person_link(page: Page) -> str:
    """A person's page, the first the register lists."""
    page.goto("/people/")
    return page.locator("main table a[href^='/people/']").first.get_attribute("href") or ""


def local(url: str) -> str:
    """The address within the site: the same page, whether found as a link or as page.url."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{url}\n  " + "\n  ".join(lines) for url, lines in found.items())


def common_pages(page: Page, scene: Scene) -> list[str]:
    return [
        "/",
        *nav_links(page),
        scene.body_url,
        scene.session_url,
        scene.held_url,
        scene.minutes_url,
        scene.poll_url,
        "/account",
        "/search?q=%E8%B2%B7%E3%81%84%E7%89%A9%E6%94%AF%E6%8F%B4",  # 買い物支援: results
    ]


def test_the_secretarys_pages_have_no_axe_violations(page: Page, scene: Scene, axe_source, console):
    log_in(page, SECRETARY)
    urls = [
        *common_pages(page, scene),
        "/bodies/overlap",
        "/people/",
        person_link(page),
        "/organisations/",
        "/audit/",
        scene.attendance_url,
        f"{scene.held_url}/minutes",
        scene.editor_url,
        "/sessions/new",
        scene.item_form_url,
        "/polls/new",
        "/tasks/new",
    ]
    found = tour(page, urls, axe_source)
    # A form sent empty: its error summary and marked fields are checked too.
    for form_url in ("/sessions/new", scene.item_form_url):
        page.goto(form_url)
        submit(page)
        expect(page.locator(".error-summary")).to_be_visible()
        if violations := axe_violations(page, axe_source):
            found[f"{form_url} (sent empty)"] = violations
    # A search for one character (市) is refused with its reason (400).
    response = page.goto("/search?q=%E5%B8%82")
    assert response is not None and response.status == 400
    if violations := axe_violations(page, axe_source):
        found["/search?q=市 (refused)"] = violations
    assert not found, report(found)
    assert not console.csp_violations(), console


def test_a_chairs_pages_have_no_axe_violations(page: Page, scene: Scene, axe_source, console):
    log_in(page, CHAIR)
    found = tour(page, common_pages(page, scene), axe_source)
    assert not found, report(found)
    assert not console.csp_violations(), console


def test_a_members_pages_have_no_axe_violations(page: Page, scene: Scene, axe_source, console):
    log_in(page, MEMBER)
    found = tour(page, common_pages(page, scene), axe_source)
    assert not found, report(found)
    assert not console.csp_violations(), console


def test_the_pages_before_logging_in_have_no_axe_violations(page: Page, axe_source, console):
    found = tour(page, ["/login", "/password/forgot"], axe_source)
    page.goto("/login")
    page.fill("main form input[name=email]", SECRETARY)
    page.fill("main form input[name=password]", "not the password")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator(".site-user")).to_have_count(0)
    if violations := axe_violations(page, axe_source):
        found["/login (wrong password)"] = violations
    assert not found, report(found)
    assert not console.csp_violations(), console


def test_a_members_pages_on_a_phone_have_no_axe_violations(
    phone_page: Page, scene: Scene, axe_source, console
):
    phone_page.set_viewport_size({"width": 390, "height": 844})
    log_in(phone_page, MEMBER)
    found = tour(phone_page, common_pages(phone_page, scene), axe_source)
    assert not found, report(found)


# --- The attendance record's layout ----------------------------------------------------------

# How the record's table is laid out: its width against its wrapper's, and per header and
# short cell how many lines its text takes (a Range's boxes, one per line fragment).
LAYOUT = """() => {
    const lines = (el) => {
        const range = document.createRange();
        range.selectNodeContents(el);
        return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
    };
    const table = document.querySelector('table.attendance');
    const label = (th) => th.firstChild.textContent.trim();
    return {
        table: table.getBoundingClientRect().width,
        wrapper: table.closest('.table-scroll').clientWidth,
        scrolls: table.closest('.table-scroll').scrollWidth,
        headers: [...table.querySelectorAll('thead th')].map(th => {
            const text = document.createRange();
            text.setStart(th.firstChild, 0);
            text.setEnd(th.firstChild, th.firstChild.length);
            const tops = new Set([...text.getClientRects()].map(r => Math.round(r.top)));
            return [label(th), tops.size];
        }),
        titles: [...table.querySelectorAll('thead .item-title')].map(
            el => [el.textContent, lines(el)]),
        short: [...table.querySelectorAll('tbody td.reply, tbody td.person strong')].map(
            el => [el.textContent.trim(), lines(el)]),
    };
}"""


def test_the_attendance_record_fits_a_desktop_window(page: Page, scene: Scene):
    """The demo's largest record at 1280 px: no scrolling, sideways or inside the table's
    wrapper; each header on one line, and no value broken a character per line."""
    log_in(page, SECRETARY)
    page.goto(scene.attendance_url)
    assert horizontal_overflow(page) == 0
    layout = page.evaluate(LAYOUT)
    assert layout["scrolls"] <= layout["wrapper"], layout
    headers = [label for label, _ in layout["headers"]]
    assert headers[:7] == [
        ui(h) for h in ("Name", "Reply", "Attendance", "Arrived", "Left", "Proxy", "Note")
    ]
    assert len(set(headers)) == len(headers), f"two columns share a header: {headers}"
    assert all(n == 1 for _, n in layout["headers"]), layout["headers"]
    assert layout["titles"], "the pledged secretary sees the confidential item's column"
    for title, n in layout["titles"]:  # an item's title wraps, a few characters a line at least
        assert len(title) / n >= 4, layout["titles"]
    assert all(n == 1 for _, n in layout["short"]), layout["short"]


def test_the_attendance_record_works_on_a_phone(phone_page: Page, scene: Scene):
    """At 390 px the page itself never scrolls sideways (the table's own wrapper may), and
    each line's choice of attendance is there to use."""
    page = phone_page
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, SECRETARY)
    page.goto(scene.attendance_url)
    assert horizontal_overflow(page) == 0
    choices = page.locator("table.attendance tbody select")
    expect(choices.first).to_be_visible()
    choices.first.scroll_into_view_if_needed()
    box = choices.first.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box


# --- Focus indicator and text size -------------------------------------------------------------

# The focused element's ring (outline and box-shadow colours, outline width) and the colours
# it meets: the background behind the element (its nearest ancestor that paints one) and the
# element's own. Colours as [r, g, b]; a transparent background is none.
FOCUSED = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const rgb = (text) => {
        const m = text && text.match(
            /rgba?\\(([\\d.]+),\\s*([\\d.]+),\\s*([\\d.]+)(?:,\\s*([\\d.]+))?/);
        if (!m || (m[4] !== undefined && parseFloat(m[4]) === 0)) return null;
        return [m[1], m[2], m[3]].map(Number);
    };
    let behind = null;
    for (let node = el.parentElement; node && !behind; node = node.parentElement) {
        behind = rgb(getComputedStyle(node).backgroundColor);
    }
    const style = getComputedStyle(el);
    return {
        element: el.outerHTML.slice(0, 120),
        width: style.outlineStyle === 'none' ? 0 : parseFloat(style.outlineWidth),
        rings: [rgb(style.outlineColor), rgb(style.boxShadow)].filter(Boolean),
        behind: behind || [255, 255, 255],
        own: rgb(style.backgroundColor),
    };
}"""


def luminance(rgb: list[float]) -> float:
    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: list[float], b: list[float]) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def weak_focus_rings(page: Page, limit: int = 60) -> list[str]:
    """Tab through the page (up to ``limit`` stops): each focused element whose ring is
    missing, or whose best ring colour stands out by less than 3:1 against the background
    it meets or the element's own."""
    weak, seen = [], set()
    page.locator("body").focus()
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None or focused["element"] in seen:
            break
        seen.add(focused["element"])
        against = [focused["behind"]] + ([focused["own"]] if focused["own"] else [])
        best = min(
            (max((contrast(ring, colour) for ring in focused["rings"]), default=0))
            for colour in against
        )
        if focused["width"] < 2 or best < 3:
            weak.append(f"{focused['element']}: width {focused['width']}, contrast {best:.2f}")
    return weak


def test_the_focus_ring_stands_out_against_every_background(page: Page, scene: Scene):
    """Through the header band, buttons, links in tables, notices and error boxes."""
    found: dict[str, list[str]] = {}
    page.goto("/login")
    page.fill("main form input[name=email]", SECRETARY)
    page.fill("main form input[name=password]", "not the password")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator(".flash-error, .error-summary").first).to_be_visible()
    found["/login (wrong password)"] = weak_focus_rings(page)
    log_in(page, SECRETARY)
    for url in ("/", "/bodies/", scene.session_url, scene.attendance_url):
        page.goto(url)
        found[url] = weak_focus_rings(page)
    page.goto("/sessions/new")
    submit(page)
    expect(page.locator(".error-summary")).to_be_visible()
    found["/sessions/new (sent empty)"] = weak_focus_rings(page)
    found = {url: weak for url, weak in found.items() if weak}
    assert not found, report(found)


def test_text_follows_the_browsers_text_size(page: Page):
    """With the browser's standard font size set to 24px instead of 16px, the page's text,
    headings, tables and form fields grow by half."""
    samples = ["body", "main h1", "main p", "main label", "main input[name=email]", ".site-footer"]
    sizes = """(selectors) => selectors.map(
        s => parseFloat(getComputedStyle(document.querySelector(s)).fontSize))"""
    page.goto("/login")
    usual = page.evaluate(sizes, samples)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 24, "fixed": 20}})
    page.reload()
    larger = page.evaluate(sizes, samples)
    ratios = {s: round(b / a, 2) for s, a, b in zip(samples, usual, larger, strict=True)}
    assert all(r == 1.5 for r in ratios.values()), ratios
