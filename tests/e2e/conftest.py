"""Browser tests: the app with the demo town, served over real HTTP, driven through Debian's
Chromium by Playwright.

The live server always uses its own SQLite file, whatever RENKEI_TEST_DATABASE_URL says: the
browser tests check the pages, and the other tests check the databases.
"""

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright
from werkzeug.serving import make_server

from renkei import create_app, migrate
from renkei.services import demo
from tests.e2e.journeys import log_in

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Screenshots of failed browser tests land here (CI keeps the folder as an artefact).
ARTEFACTS = Path(os.environ.get("RENKEI_ARTEFACTS", Path(__file__).parents[2] / "test-artefacts"))
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}


def _browser_required() -> bool:
    return os.environ.get("RENKEI_REQUIRE_BROWSER", "").strip().lower() not in ("", "0", "false")


@contextmanager
def serve_demo_town(root: Path) -> Iterator[str]:
    """Serve the app over HTTP with a fresh demo town in ``root``; its base URL."""
    url = f"sqlite:///{root / 'e2e.sqlite3'}"
    migrate.upgrade(url)
    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "e2e-secret"},
        instance_path=str(root / "instance"),
    )
    with app.app_context():
        session = app.extensions["renkei.sessionmaker"]()
        try:
            demo.load(session)
            session.commit()
        finally:
            session.close()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["renkei.engine"].dispose()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[str]:
    """The base URL of the app, serving the demo town from a fresh SQLite file. A module
    whose journey changes much of the town overrides it with a town of its own
    (``serve_demo_town``, module-scoped)."""
    with serve_demo_town(tmp_path_factory.mktemp("e2e")) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium package"
        if _browser_required():
            pytest.fail(f"{message} (RENKEI_REQUIRE_BROWSER is set)")
        pytest.skip(message)
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    except BaseException:
        playwright.stop()
        raise
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()


class ConsoleLog(list):
    """Error messages from the browser console and uncaught page errors, as text."""

    def csp_violations(self) -> list[str]:
        return [message for message in self if "Content Security Policy" in message]


def new_context(browser: Browser, base_url: str, viewport: dict) -> BrowserContext:
    """A browser as the town's staff have it: Japanese, on Tokyo time."""
    context = browser.new_context(
        base_url=base_url, viewport=viewport, locale="ja-JP", timezone_id="Asia/Tokyo"
    )
    context.set_default_timeout(10_000)
    return context


def _open_page(browser: Browser, base_url: str, viewport: dict, console: ConsoleLog) -> Page:
    context = new_context(browser, base_url, viewport)
    page = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        url = message.location.get("url", "")
        # Chromium asks for /favicon.ico on its own; the app has none, and no page links one.
        if message.type == "error" and not url.endswith("/favicon.ico"):
            console.append(f"{message.text} [{url}]" if url else message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: console.append(f"page error: {error}"))
    return page


def screenshot(page: Page, name: str) -> Path:
    """Save what ``page`` shows as ARTEFACTS/<name>.png, for a failure to be looked at."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    try:
        page.screenshot(path=str(path), full_page=True)
    except Exception as error:  # a crashed page must not hide the test's own failure
        print(f"no screenshot of {name}: {error}")
    else:
        print(f"screenshot: {path}")
    return path


@contextmanager
def setup_page(browser: Browser, base_url: str, name: str) -> Iterator[Page]:
    """A desktop tab of its own for a module's fixture that prepares its data through the
    pages, closed when done; if preparing fails, its last view is saved as <name>.png."""
    context = new_context(browser, base_url, DESKTOP)
    page = context.new_page()
    try:
        yield page
    except BaseException:
        screenshot(page, name)
        raise
    finally:
        context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's outcome on the test, so fixtures can tell a failure."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


def _screenshot_if_failed(request, page: Page) -> None:
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        screenshot(page, request.node.name)


@pytest.fixture
def console() -> ConsoleLog:
    """What went wrong in the browser console of ``page`` or ``phone_page``."""
    return ConsoleLog()


@pytest.fixture
def page(request, browser, live_server, console) -> Iterator[Page]:
    """A fresh, logged-out browser tab at desktop width, with its own cookies; on failure
    its last view is saved under ARTEFACTS."""
    page = _open_page(browser, live_server, DESKTOP, console)
    yield page
    _screenshot_if_failed(request, page)
    page.context.close()


@pytest.fixture
def phone_page(request, browser, live_server, console) -> Iterator[Page]:
    """A fresh, logged-out browser tab at a phone's width (375 CSS pixels)."""
    page = _open_page(browser, live_server, PHONE, console)
    yield page
    _screenshot_if_failed(request, page)
    page.context.close()


@pytest.fixture
def browse(browser: Browser, live_server, page: Page, request) -> Iterator:
    """``browse(email)``: a new browser context (own cookies) logged in as ``email``. If the
    test fails, every page it had open, ``page`` and its pop-ups included, is saved under
    ARTEFACTS as <journey>-<test>-<n>.png (an expected failure, xfail, is not a failure here)."""
    pages = [page]

    def open_as(email: str) -> Page:
        context = new_context(browser, live_server, DESKTOP)
        other = context.new_page()
        pages.append(other)
        log_in(other, email)
        return other

    failed_before = request.session.testsfailed
    yield open_as
    if request.session.testsfailed > failed_before:
        module = request.module.__name__.rsplit(".", 1)[-1]  # test_minutes_journey: minutes
        journey = module.removeprefix("test_").removesuffix("_journey")
        for number, shown in enumerate(pages + [p for p in page.context.pages if p not in pages]):
            if not shown.is_closed():
                screenshot(shown, f"{journey}-{request.node.name}-{number}")
    for other in pages[1:]:
        other.context.close()
