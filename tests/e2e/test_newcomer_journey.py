"""A newcomer's first visit, in a real browser: log in, find the bodies and their members, and
see in the shared-members matrix which bodies could meet jointly.

The interface is Japanese or English depending on the compiled catalog, so the tests look for
the demo town's data (body and person names) and the pages' structure, not for labels.
"""

import re

import pytest
from playwright.sync_api import Page, Response, expect

from renkei.services import demo
from tests.e2e.journeys import horizontal_overflow

pytestmark = pytest.mark.e2e

SECRETARY = "secretary@example.jp"
SECRETARY_NAME = next(name for email, name, *_ in demo.PEOPLE if email == SECRETARY)
BODY_NAMES = [name for name, *_ in demo.BODIES]
KANA = {name: kana for _email, name, kana, *_ in demo.PEOPLE}


def members_of(body: str) -> set[str]:
    """Names of the demo people with a current term on the body, in any role."""
    return {name for _email, name, _kana, _org, roles in demo.PEOPLE if body in roles}


def log_in(page: Page, email: str = SECRETARY, password: str = demo.DEMO_PASSWORD) -> Response:
    """Fill in and send the login form; the answer to the POST."""
    page.goto("/login")
    page.fill("main form input[name=email]", email)
    page.fill("main form input[name=password]", password)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("main form button[type=submit]")
    page.wait_for_load_state()
    return answer.value


def read_matrix(page: Page) -> dict[tuple[str, str], str]:
    """The overlap matrix as shown: (row body, column body) -> the cell's text."""
    cells = page.evaluate(
        """() => {
            const table = document.querySelector("table.matrix");
            const heads = table.querySelectorAll("thead th");
            const columns = [...heads].map((th) => th.innerText.trim());
            const cells = {};
            for (const row of table.querySelectorAll("tbody tr")) {
                const name = row.querySelector("th").innerText.trim();
                row.querySelectorAll("td").forEach((td, i) => {
                    cells[name + "|" + columns[i]] = td.innerText.trim();
                });
            }
            return cells;
        }"""
    )
    return {tuple(key.split("|")): text for key, text in cells.items()}


def test_newcomer_finds_bodies_members_and_shared_members(page: Page, console, live_server):
    # Not logged in: the app sends the newcomer to the login page.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.locator("nav.site-nav")).to_have_count(0)

    log_in(page)
    expect(page).to_have_url(f"{live_server}/")
    expect(page.locator("main h1")).to_contain_text(SECRETARY_NAME)
    expect(page.locator(".site-user")).to_contain_text(SECRETARY_NAME)
    cards = page.locator("main ul.cards")
    for name in BODY_NAMES:  # the secretary runs the secretariat of every demo body
        expect(cards.get_by_role("link", name=name, exact=True)).to_be_visible()

    # The bodies list, from the main menu.
    page.locator("nav.site-nav a[href='/bodies/']").click()
    expect(page).to_have_url(f"{live_server}/bodies/")
    bodies = page.locator("main table.list")
    for name in BODY_NAMES:
        expect(bodies.get_by_role("link", name=name, exact=True)).to_be_visible()

    # One body and its members.
    bodies.get_by_role("link", name=demo.SUPPORT, exact=True).click()
    expect(page).to_have_url(re.compile(r"/bodies/\d+$"))
    expect(page.locator("main h1")).to_have_text(demo.SUPPORT)
    current = page.locator("#members table.list").first
    names = current.locator("tbody tr td:first-child a").all_inner_texts()
    assert sorted(names) == sorted(members_of(demo.SUPPORT))

    # The shared-members matrix, from the main menu.
    page.locator("nav.site-nav a[href='/bodies/overlap']").click()
    expect(page).to_have_url(f"{live_server}/bodies/overlap")
    matrix = page.locator("table.matrix")
    expect(matrix).to_be_visible()
    expected = {
        (row, col): str(len(members_of(row) & members_of(col)))
        for row in BODY_NAMES
        for col in BODY_NAMES
    }
    assert read_matrix(page) == expected
    shared_cells = matrix.locator("td.shared a")
    assert shared_cells.count() == sum(
        1 for (row, col), n in expected.items() if row != col and n != "0"
    )

    # A non-zero cell lists the people both bodies share, in kana order.
    row = matrix.locator("tbody tr").filter(
        has=page.get_by_role("rowheader", name=demo.SUPPORT, exact=True)
    )
    headings = [text.strip() for text in matrix.locator("thead th").all_inner_texts()]
    cell = row.locator("td").nth(headings.index(demo.KYOGITAI))
    shared = members_of(demo.SUPPORT) & members_of(demo.KYOGITAI)
    expect(cell).to_have_class(re.compile(r"\bshared\b"))
    expect(cell).to_have_text(str(len(shared)))
    cell.locator("a").click()
    expect(page).to_have_url(re.compile(r"/bodies/overlap\?a=\d+&b=\d+#shared$"))
    expect(cell).to_have_class(re.compile(r"\bselected\b"))
    section = page.locator("section#shared")
    expect(section).to_be_visible()
    expect(section.locator("h2")).to_contain_text(demo.SUPPORT)
    expect(section.locator("h2")).to_contain_text(demo.KYOGITAI)
    listed = section.locator("table.list tbody tr td:first-child")
    expect(listed).to_have_text(sorted(shared, key=KANA.get))
    # Each name leads to the person's page.
    expect(section.locator("table.list tbody a")).to_have_count(len(shared))

    assert list(console) == []


def test_wrong_password_shows_an_error_and_stays_on_login(page: Page, console, live_server):
    answer = log_in(page, password="not-the-password")
    # A form with errors answers 400 (by design), which the console reports as a failed load.
    assert answer.status == 400
    expect(page).to_have_url(f"{live_server}/login")
    expect(page.locator("main .error-summary[role=alert]")).to_be_visible()
    expect(page.locator("main form input[name=email]")).to_have_value(SECRETARY)
    expect(page.locator("main form input[name=password]")).to_have_value("")
    expect(page.locator("nav.site-nav")).to_have_count(0)
    expect(page.locator(".site-user")).to_have_count(0)
    # Still logged out: a protected page sends back to the login page.
    page.goto("/bodies/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    assert console.csp_violations() == []
    assert [m for m in console if "status of 400" not in m] == []


def test_bodies_list_fits_a_phone_screen(phone_page: Page, console):
    log_in(phone_page)
    phone_page.goto("/bodies/")
    for name in BODY_NAMES:
        expect(phone_page.get_by_role("link", name=name, exact=True)).to_be_visible()
    assert phone_page.evaluate("() => document.documentElement.clientWidth") == 375
    assert horizontal_overflow(phone_page) <= 1
    assert list(console) == []


def test_journey_pages_fit_a_phone_screen(phone_page: Page, console):
    """The wide matrix scrolls inside its own box; the page itself never scrolls sideways."""
    log_in(phone_page)
    overflowing = {}
    phone_page.goto("/bodies/")
    phone_page.get_by_role("link", name=demo.SUPPORT, exact=True).click()
    # Measured once the body's page is there, not while the click still navigates.
    expect(phone_page.locator("main h1")).to_contain_text(demo.SUPPORT)
    overflowing[demo.SUPPORT] = horizontal_overflow(phone_page)
    phone_page.goto("/bodies/overlap")
    phone_page.locator("table.matrix td.shared a").first.click()
    expect(phone_page.locator("section#shared")).to_be_visible()
    overflowing[phone_page.url] = horizontal_overflow(phone_page)
    for path in ["/", "/login", "/people/", "/organisations/"]:
        phone_page.goto(path)
        overflowing[path] = horizontal_overflow(phone_page)
    assert {page: px for page, px in overflowing.items() if px > 1} == {}
    assert list(console) == []


def test_pages_send_a_csp_and_break_none_of_it(page: Page, console):
    def visit(path: str) -> None:
        response = page.goto(path.split("#")[0])
        assert response is not None and response.ok, path
        policy = response.headers.get("content-security-policy", "")
        assert "default-src 'self'" in policy, path
        assert "script-src 'self'" in policy, path
        # The stylesheet loaded despite the policy: the header has its coloured band.
        background = page.evaluate(
            "() => getComputedStyle(document.querySelector('.site-header')).backgroundColor"
        )
        assert background not in ("rgba(0, 0, 0, 0)", "transparent"), path

    visit("/login")
    log_in(page)
    for path in ["/", "/bodies/", "/bodies/overlap", "/organisations/", "/people/"]:
        visit(path)
    page.goto("/bodies/")
    page.get_by_role("link", name=demo.SUPPORT, exact=True).click()
    visit(page.url)
    page.goto("/bodies/overlap")
    page.locator("table.matrix td.shared a").first.click()
    visit(page.url)

    assert console.csp_violations() == []
    assert list(console) == []


def test_a_csp_violation_would_be_noticed(page: Page, console):
    """The console check above is not blind: an inline style is refused, and reported."""
    page.goto("/login")
    with page.expect_console_message(lambda m: "Content Security Policy" in m.text):
        page.evaluate(
            """() => {
                const style = document.createElement("style");
                style.textContent = "body { background: red; }";
                document.head.append(style);
            }"""
        )
    assert console.csp_violations()
