"""The mail backlog on the secretariat's pages while the mail server is out (issue 24): the
session page and the home page say how many messages wait and since when, to the
secretariat of those sessions and administrators only; the notice is gone once the mail has
gone; the pages' query counts do not grow with the backlog."""

from sqlalchemy import select, update

from renkei.models import MailMessage, MeetingSession
from tests.blueprints.test_query_counts import queries_for
from tests.blueprints.test_session_mail import convene, ja, schedule
from tests.conftest import client_for
from tests.helpers import count
from tests.sessions_helpers import SUPPORT

NOTICE = 'id="mail-backlog"'


def waiting_text(app, n: int) -> str:
    """The start of the notice, up to the time (which the page writes in its own format)."""
    plural = (
        "The mail server cannot be reached: %(num)d e-mails have not been sent yet (the oldest "
        "waiting since %(since)s)."
    )
    singular = (
        "The mail server cannot be reached: %(num)d e-mail has not been sent yet (waiting since "
        "%(since)s)."
    )
    return ja(app, singular, plural, num=n, since="@").split("@")[0]


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_backlog_is_shown_to_the_secretariat_while_it_lasts(app, as_secretary, world, smtp):
    session = schedule(as_secretary, world, SUPPORT)
    smtp.stop()
    convene(as_secretary, session)
    assert count(world, MailMessage) == 2
    shown = page(as_secretary, f"/sessions/{session.id}")
    assert NOTICE in shown and waiting_text(app, 2) in shown
    assert (
        ja(app, "Sending is retried automatically (last attempt %(when)s).", when="@").split("@")[0]
        in shown
    )
    assert waiting_text(app, 2) in page(as_secretary, "/")
    assert waiting_text(app, 2) in page(client_for(app, "admin"), "/")

    for other in ("member.both", "chair.support"):  # convened, not its secretariat
        browser = client_for(app, other)
        assert NOTICE not in page(browser, "/"), other
        assert NOTICE not in page(browser, f"/sessions/{session.id}"), other
    assert NOTICE not in page(client_for(app, "pref.secretary"), "/")  # another body's

    smtp.start()
    result = app.test_cli_runner().invoke(args=["send-mail", "--now"])
    assert result.exit_code == 0, result.output
    assert NOTICE not in page(as_secretary, f"/sessions/{session.id}")
    assert NOTICE not in page(as_secretary, "/")


def test_mail_merely_queued_is_no_outage(app, as_secretary, world, smtp):
    """Messages not tried yet go out in a moment (the delivery thread, send-mail)."""
    session = schedule(as_secretary, world, SUPPORT)
    smtp.stop()
    convene(as_secretary, session)
    world.execute(update(MailMessage).values(status="pending", claimed_at=None))
    world.commit()
    assert NOTICE not in page(as_secretary, f"/sessions/{session.id}")
    assert NOTICE not in page(as_secretary, "/")


def test_the_backlog_costs_the_same_queries_however_long(app, as_secretary, world, smtp):
    smtp.stop()
    first = schedule(as_secretary, world, SUPPORT)
    convene(as_secretary, first)
    small = [queries_for(app, as_secretary, url) for url in ("/", f"/sessions/{first.id}")]
    for title, start, end in (("二つ目", "09:00", "10:00"), ("三つ目", "17:00", "18:00")):
        schedule(as_secretary, world, SUPPORT, title=title, start_time=start, end_time=end)
        convene(as_secretary, world.scalar(select(MeetingSession).filter_by(title=title)))
    assert count(world, MailMessage) > 4
    large = [queries_for(app, as_secretary, url) for url in ("/", f"/sessions/{first.id}")]
    assert small == large
