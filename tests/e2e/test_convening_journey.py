"""The convening notice (招集通知) in a real browser: the secretary prepares a joint session of
the 支援会議 and the 協議体 with a confidential item and a public one; nobody else sees it
yet. The secretary reads the notice before sending it (to whom, who needs a letter, the
message itself, with the confidential item as 非公開議題 only), on a phone and on paper,
sends it, and the members see the session. A later change of place waits as a change
notice until the secretary sends it at once.

The journey uses a session of its own on the shared live server, and runs in one test: each
step needs the state the one before left. Labels are looked up in the app's own catalog
(``ui``), as in the other journeys.
"""

import re
from datetime import time

import pytest
from playwright.sync_api import Locator, Page, expect

from renkei.models import Role
from renkei.services import demo
from tests.e2e.journeys import add_item, horizontal_overflow, log_in, submit, ui
from tests.e2e.test_session_journeys import fill_session_form, working_day

pytestmark = pytest.mark.e2e

SECRETARY = "secretary@example.jp"
MEMBER = "member.kyogitai@example.jp"  # 地域 さくら: the 協議体 only, no pledge
MEMBER_NAME = next(name for email, name, *_ in demo.PEOPLE if email == MEMBER)

TITLE = "支援会議・協議体 合同会議（e2e 招集通知）"
SECRET_TITLE = "e2e 個別ケース（招集通知）"  # the 支援会議's, confidential
PUBLIC_TITLE = "e2e 地域の居場所づくり（招集通知）"  # the 協議体's, public
PLACE, NEW_PLACE = "みどり町役場 3階 第2会議室", "社協会館 2階 研修室"
PHONE = {"width": 390, "height": 844}
SESSION_PATH = re.compile(r"/sessions/(\d+)$")
BODIES = (demo.SUPPORT, demo.KYOGITAI)


def convened_people() -> dict[str, str | None]:
    """Everyone on either body but the secretariat (the organizing side is not sent its own
    invitation): name -> e-mail address (None: by post)."""
    theirs = [
        (name, email, [role for body, role in roles.items() if body in BODIES])
        for email, name, _k, _o, roles in demo.PEOPLE
    ]
    return {
        name: email
        for name, email, held in theirs
        if held and any(role != Role.SECRETARY for role in held)
    }


def sentence(message: str, **known) -> re.Pattern:
    """A catalog sentence with one unknown placeholder (``%(when)s``) matching anything."""
    head, _sep, tail = ui(message, **known, when="\0").partition("\0")
    return re.compile(rf"{re.escape(head)}.+{re.escape(tail)}")


def mail_log(page: Page, kind: str) -> Locator:
    """The rows of the session page's mail log of one kind of message (招集, 変更, ...)."""
    rows = page.locator("section#mail table.mail tbody tr")
    return rows.filter(has=page.locator("td", has_text=ui(kind)))


def addresses(rows: Locator) -> list[str]:
    return sorted(t.strip() for t in rows.locator("td:first-child .muted").all_inner_texts())


def test_secretary_reads_and_sends_the_convening_notice_then_a_change(page: Page, browse, console):
    people = convened_people()
    with_address = {name: email for name, email in people.items() if email}
    by_post = sorted(name for name, email in people.items() if not email)
    assert MEMBER_NAME in with_address and by_post  # the demo has both kinds

    # 1. The secretary prepares the session; it is 準備中 and says so.
    log_in(page, SECRETARY)
    page.goto("/sessions/new")
    fill_session_form(page, TITLE, list(BODIES), demo.SUPPORT, working_day(6), time(9), time(10))
    page.locator("main form.form input[name=place]").fill(PLACE)
    submit(page)
    expect(page).to_have_url(SESSION_PATH)
    expect(page.locator(".warning-box")).to_have_count(0)
    session_url = page.url
    session_path = SESSION_PATH.search(session_url).group(0)
    expect(page.locator("main h1 .status.status-prepared")).to_have_text(ui("Being prepared"))
    banner = page.locator("#lifecycle")
    expect(banner).to_contain_text(
        ui(
            "Being prepared: members do not see this session yet. When the agenda is ready, "
            "send the convening notice; it goes out with the agenda as it then stands."
        )
    )
    expect(page.locator("section#mail table.mail")).to_have_count(0)  # nothing mailed
    add_item(page, SECRET_TITLE, demo.SUPPORT, "confidential")
    add_item(page, PUBLIC_TITLE, demo.KYOGITAI, "public")

    # Members do not see it yet: the address is not found, the home page does not list it.
    member = browse(MEMBER)
    response = member.goto(session_path)
    assert response is not None and response.status == 404
    member.goto("/")
    expect(member.locator("main table.sessions")).to_be_visible()
    expect(member.get_by_role("link", name=TITLE, exact=True)).to_have_count(0)

    # 2. The preview, from the banner's 「招集通知を確認して送る…」.
    banner.get_by_role("link", name=ui("Send the convening notice…"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/sessions/\d+/convene$"))
    expect(page.locator("main h1")).to_have_text(ui("Send the convening notice"))
    expect(page.locator("main nav.breadcrumbs a")).to_have_text(TITLE)

    # Every person convened with an address, by name and address, once each.
    recipients = page.locator("section[aria-labelledby=recipients-heading]")
    expect(recipients.locator("h2")).to_have_text(ui("Recipients (%(n)d)", n=len(with_address)))
    rows = recipients.locator("table tbody tr")
    expect(rows).to_have_count(len(with_address))
    listed = {
        row.locator("td").nth(0).inner_text().strip(): row.locator("td").nth(1).inner_text().strip()
        for row in rows.all()
    }
    assert listed == with_address
    # Those without one are named, with the way to their letters.
    by_post_notice = recipients.locator(".notice.warn")
    for name in by_post:
        expect(by_post_notice).to_contain_text(name)
    letters = by_post_notice.get_by_role(
        "link", name=ui("Print the notice as letters for those without e-mail"), exact=True
    )
    expect(letters).to_have_attribute("href", f"{session_path}/letters")
    assert page.request.get(letters.get_attribute("href")).ok

    # The message: the session, its place, the public item by title, the confidential one
    # as 非公開議題 only (mail carries public titles only, DESIGN.md).
    message = page.locator(".mail-preview")
    expect(message).to_contain_text(TITLE)
    expect(message).to_contain_text(PLACE)
    expect(message.locator("pre")).to_contain_text(PUBLIC_TITLE)
    expect(message.locator("pre")).to_contain_text(ui("Closed agenda item"))
    assert SECRET_TITLE not in page.content()

    # 3. On a phone the message wraps: nothing scrolls sideways.
    page.set_viewport_size(PHONE)
    assert page.evaluate("() => document.documentElement.clientWidth") == PHONE["width"]
    assert horizontal_overflow(page) <= 1
    pre_overflow = message.locator("pre").evaluate("pre => pre.scrollWidth - pre.clientWidth")
    assert pre_overflow <= 1
    page.set_viewport_size({"width": 1280, "height": 800})

    # On paper (read before sending, say for approval): which session, the recipients and
    # the message; not the navigation, the button or the way to the letters.
    page.emulate_media(media="print")
    for hidden in (".site-header", "main nav.breadcrumbs", "main form", "main p.hint.noprint"):
        expect(page.locator(hidden)).to_be_hidden()
    expect(letters).to_be_hidden()
    expect(page.locator("main .convene-session")).to_contain_text(TITLE)
    expect(rows.first).to_be_visible()
    expect(by_post_notice).to_contain_text(by_post[0])
    expect(message).to_be_visible()
    page.emulate_media(media="screen")

    # 4. Sent: convened, the notice's date on the page, an invitation per address.
    send = page.get_by_role("button", name=ui("Send the convening notice"), exact=True)
    send.click()
    page.wait_for_load_state()
    expect(page).to_have_url(session_url)
    expect(page.locator(".flash.flash-success")).to_have_text(
        [ui("The convening notice has been sent.")]
    )
    expect(page.locator("main h1 .status.status-convened")).to_have_text(ui("Convened"))
    expect(page.locator("#lifecycle")).to_have_count(0)
    sent_on = sentence("Convening notice sent on %(when)s.")
    expect(page.locator("main p.muted.small").filter(has_text=sent_on)).to_have_count(1)
    assert addresses(mail_log(page, "Invitation")) == sorted(with_address.values())

    # The member sees it now: the public item by title, the confidential one closed.
    response = member.goto(session_path)
    assert response is not None and response.ok
    expect(member.locator("main h1")).to_contain_text(TITLE)
    open_titles = member.locator("#agenda tr.agenda-item:not(.closed) .agenda-title")
    expect(open_titles).to_have_text([PUBLIC_TITLE])
    expect(member.locator("#agenda tr.agenda-item.closed")).to_have_count(1)
    assert SECRET_TITLE not in member.content()
    member.goto("/")
    expect(member.get_by_role("link", name=TITLE, exact=True)).to_have_count(1)

    # 5. A change of place waits as a change notice, until 「変更通知を今すぐ送る」.
    page.locator(".page-head a[href$='/edit']").click()
    page.locator("main form.form input[name=place]").fill(NEW_PLACE)
    submit(page)
    expect(page).to_have_url(session_url)
    expect(page.locator("main dl.facts")).to_contain_text(NEW_PLACE)
    pending = page.locator("#lifecycle")
    expect(pending).to_contain_text(
        sentence(
            "Changes since the last notice will be sent to those concerned at about "
            "%(when)s, in one message each."
        )
    )
    expect(mail_log(page, "Change notice")).to_have_count(0)
    pending.get_by_role("button", name=ui("Send the change notices now"), exact=True).click()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(rf"{re.escape(session_path)}#mail$"))
    expect(page.locator("#lifecycle")).to_have_count(0)
    assert addresses(mail_log(page, "Change notice")) == sorted(with_address.values())
    assert addresses(mail_log(page, "Invitation")) == sorted(with_address.values())

    assert console.csp_violations() == []
    assert list(console) == []
