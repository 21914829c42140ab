"""E-mail through the pages, to a real SMTP server (aiosmtpd): scheduling a session sends
nothing; its convening notice (read first, then sent) invites each person once; changes to
a convened session wait for the change notices (the button, or the timer after the delay),
one message each; cancelling tells everyone at once. Failures show on the page and can be
retried; without a mail server the messages land in the outbox; reminders and the notices
come from the CLI too."""

import email
import email.policy
import time as clock
from datetime import time, timedelta
from pathlib import Path

import icalendar
import vobject
from flask_babel import force_locale, gettext, ngettext
from markupsafe import escape
from sqlalchemy import select

from renkei.db import utcnow
from renkei.links import Links
from renkei.models import AgendaItem, MailMessage, MeetingSession, Person, Visibility
from renkei.services import mail, notices
from renkei.services.dates import today
from tests.conftest import login
from tests.helpers import body_named, count
from tests.sessions_helpers import DAY, LAYER1, SUPPORT, make_session, shown
from tests.sessions_helpers import session_form as shared_session_form
from tests.smtp import use_smtp

# Those with an address convened to a joint session of the 支援会議 and the layer-1 協議体
# (the secretariat organises it: it is not sent its own invitation).
JOINT_ADDRESSES = {
    "chair.support@example.jp",
    "chair.kyogitai@example.jp",
    "member.both@example.jp",
    "member.kyogitai@example.jp",
}
# In the order of the invitee list (by kana).
JOINT_WITHOUT_ADDRESS = ["介護 由美", "社協 大地", "生協 実", "税務 健", "相談 愛", "民生 ふみ"]
CANARY = "CANARY-ケース検討-0815"
TITLE = f"{DAY.month}月合同会議"  # the session of the form, on DAY


def ja(app, text, *plural, **variables) -> str:
    """What the page shows for an interface string (Japanese once the catalog has it)."""
    with app.test_request_context(), force_locale("ja"):
        if plural:
            return str(escape(ngettext(text, plural[0], variables.pop("num"), **variables)))
        return str(escape(gettext(text, **variables)))


def session_form(world, *body_names, **extra):
    return shared_session_form(world, *body_names, **{"title": TITLE, **extra})


def edit_form(world, session, **changes):
    from renkei.services.dates import in_tokyo

    start, end = in_tokyo(session.start_at), in_tokyo(session.end_at)
    data = session_form(
        world,
        *[b.name for b in session.bodies],
        title=session.title,
        start_date=start.date().isoformat(),
        start_time=f"{start:%H:%M}",
        end_time=f"{end:%H:%M}",
        place=session.place,
        notes=session.notes,
        confirmed="yes",
    )
    data["host_body_id"] = session.host_body_id
    data.update(changes)
    return data


def post_and_follow(client, url, data):
    response = client.post(url, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client.get(response.headers["Location"]).get_data(as_text=True)


def calendar_part(message):
    (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return part


def vevent(message):
    ics = calendar_part(message).get_payload(decode=True)
    vobject.readOne(ics.decode("utf-8"))  # a second, independent parser accepts it too
    return next(iter(icalendar.Calendar.from_ical(ics).walk("VEVENT")))


def vevents(message) -> list:
    ics = calendar_part(message).get_payload(decode=True)
    return list(icalendar.Calendar.from_ical(ics).walk("VEVENT"))


def decoded(message) -> str:
    parts = [f"{name}: {value}" for name, value in message.items()]
    for part in message.walk():
        if part.get_content_maintype() != "multipart":
            content = part.get_content()
            parts.append(content.decode() if isinstance(content, bytes) else content)
    return "\n".join(parts)


def kinds(world) -> list[str]:
    world.expire_all()
    return [m.kind for m in world.scalars(select(MailMessage).order_by(MailMessage.id))]


def the_session(world) -> MeetingSession:
    world.expire_all()
    return world.scalars(select(MeetingSession).order_by(MeetingSession.start_at)).first()


def schedule(client, world, *body_names, **extra) -> MeetingSession:
    """A session scheduled through the form: prepared, nothing sent."""
    post_and_follow(client, "/sessions/new", session_form(world, *body_names, **extra))
    return the_session(world)


def convene(client, session) -> str:
    """Send the session's convening notice; the page it leads to."""
    return post_and_follow(client, f"/sessions/{session.id}/convene", {})


def send_notices(client, session) -> str:
    """Press Send the change notices now; the page it leads to."""
    return post_and_follow(client, f"/sessions/{session.id}/notices", {})


def plain(message) -> str:
    return message.get_body(("plain",)).get_content()


# --- Scheduling and convening ---------------------------------------------------------------


def test_scheduling_sends_nothing_and_the_convening_notice_invites_each_address_once(
    app, as_secretary, world, smtp
):
    response = as_secretary.post("/sessions/new", data=session_form(world, SUPPORT, LAYER1))
    session = the_session(world)
    assert response.headers["Location"] == f"/sessions/{session.id}"
    page = as_secretary.get(response.headers["Location"]).get_data(as_text=True)
    prepared = ja(
        app,
        "The session has been saved as being prepared. Members see it once you send the "
        "convening notice.",
        "%(num)d sessions have been saved as being prepared. Members see them once you send "
        "the convening notice.",
        num=1,
    )
    assert prepared in page and f'href="/sessions/{session.id}/convene"' in page
    assert session.status.value == "prepared" and session.convened_at is None
    assert smtp.received == [] and count(world, MailMessage) == 0

    # The notice is read first: to whom it goes, who must be sent a letter, and its text.
    preview = as_secretary.get(f"/sessions/{session.id}/convene").get_data(as_text=True)
    recipients = preview.split('id="recipients-heading"')[1].split("</section>")[0]
    assert all(address in recipients for address in JOINT_ADDRESSES)
    assert "secretary@example.jp" not in recipients  # the organizing side
    names = "、".join(JOINT_WITHOUT_ADDRESS)
    letters = "No e-mail address for: %(names)s. Send them the notice by post."
    assert ja(app, letters, names=names) in recipients
    text = preview.split('id="message-heading"')[1]
    assert TITLE in text and "役場 第1会議室" in text
    assert ja(app, "You are invited to the following session.") in text
    assert smtp.received == [] and count(world, MailMessage) == 0  # reading sends nothing

    page = convene(as_secretary, session)
    assert ja(app, "The convening notice has been sent.") in page
    assert (
        ja(
            app,
            "An invitation is being sent to %(num)d person.",
            "Invitations are being sent to %(num)d people.",
            num=len(JOINT_ADDRESSES),
        )
        in page
    )
    assert ja(app, "No e-mail address for: %(names)s", names=names) in page
    assert "outbox" not in page

    rcpts = [a for r in smtp.received for a in r.rcpt_tos]
    assert sorted(rcpts) == sorted(JOINT_ADDRESSES)  # 兼務 三郎 of both bodies: one message
    for received in smtp.received:
        message = received.message
        assert TITLE in message["Subject"]
        assert shown(DAY, time(14)) in message["Subject"]
        part = calendar_part(message)
        assert part.get_param("method") == "REQUEST"
        assert [p.get_filename() for p in message.iter_attachments()] == ["invite.ics"]
        event = vevent(message)
        assert event["SUMMARY"] == TITLE and event["SEQUENCE"] == 0
        (to,) = message["To"].addresses
        assert to.addr_spec in received.rcpt_tos
    session = the_session(world)
    assert session.status.value == "convened" and session.convened_at is not None
    assert count(world, MailMessage) == len(JOINT_ADDRESSES)
    assert {m.status for m in world.scalars(select(MailMessage))} == {"sent"}
    assert f'action="/sessions/{session.id}/mail/retry"' not in page  # nothing failed


def test_a_series_from_the_form_is_convened_with_one_series_invitation_each(
    app, as_secretary, world, smtp
):
    first = schedule(as_secretary, world, SUPPORT, repeat="weekly", repeat_count="4")
    assert count(world, MeetingSession) == 4 and smtp.received == []
    preview = as_secretary.get(f"/sessions/{first.id}/convene").get_data(as_text=True)
    assert ja(app, "This notice convenes the %(n)d sessions of the series:", n=4) in preview
    page = convene(as_secretary, first)
    world.expire_all()
    statuses = world.scalars(select(MeetingSession.status)).all()
    assert {s.value for s in statuses} == {"convened"}  # one notice convenes them all
    assert len(smtp.to("member.both@example.jp")) == 1
    assert len(smtp.received) == 2  # chair.support, member.both
    event = vevent(smtp.to("member.both@example.jp")[0])
    assert "COUNT=4" in event["RRULE"].to_ical().decode()
    assert 'id="mail"' in page and "member.both@example.jp" in page


def test_a_session_cancelled_before_its_notice_tells_nobody(as_secretary, world, smtp):
    session = schedule(as_secretary, world, SUPPORT)
    post_and_follow(as_secretary, f"/sessions/{session.id}/cancel", {"reason": ""})
    assert the_session(world).status.value == "cancelled"
    assert smtp.received == [] and count(world, MailMessage) == 0


# --- Changing and cancelling ----------------------------------------------------------------


def test_notes_alone_send_nothing_a_new_time_sends_an_update_when_asked(
    app, as_secretary, world, smtp
):
    session = schedule(as_secretary, world, SUPPORT)
    convene(as_secretary, session)
    invited = kinds(world)
    url = f"/sessions/{session.id}/edit"
    post_and_follow(as_secretary, url, edit_form(world, session, notes="資料は当日配布"))
    page = send_notices(as_secretary, session)
    assert ja(app, "No one needed to be told of a change.") in page
    assert kinds(world) == invited

    page = post_and_follow(
        as_secretary, url, edit_form(world, session, start_time="15:00", end_time="17:00")
    )
    waiting = ja(
        app,
        "Those convened will be told of the changes in a few minutes, in one message each. "
        "To tell them now, use Send the change notices now on the session page.",
    )
    assert waiting in page and f'action="/sessions/{session.id}/notices"' in page
    assert kinds(world) == invited  # not at once
    page = send_notices(as_secretary, session)
    sent = ja(
        app,
        "A change notice is being sent to %(num)d person.",
        "Change notices are being sent to %(num)d people.",
        num=2,
    )
    assert sent in page and f'action="/sessions/{session.id}/notices"' not in page
    assert kinds(world) == invited + ["update", "update"]
    _invite, message = smtp.to("member.both@example.jp")
    event = vevent(message)
    assert event["SEQUENCE"] == 1 and event.decoded("DTSTART").hour == 15
    assert "15:00–17:00" in plain(message) and ja(app, "What has changed") in plain(message)

    # The same edit again changes nothing, and sends nothing.
    post_and_follow(
        as_secretary, url, edit_form(world, session, start_time="15:00", end_time="17:00")
    )
    send_notices(as_secretary, session)
    assert len(smtp.to("member.both@example.jp")) == 2


def test_change_notices_wait_for_the_delay_then_go_in_one_message_each(
    app, as_secretary, world, smtp
):
    session = schedule(as_secretary, world, SUPPORT)
    convene(as_secretary, session)
    smtp.clear()
    url = f"/sessions/{session.id}/edit"
    post_and_follow(as_secretary, url, edit_form(world, session, place="公民館"))
    session = the_session(world)  # as the edit left it; the services read it afresh
    post_and_follow(as_secretary, url, edit_form(world, session, title=f"{TITLE}（変更）"))
    world.expire_all()
    settings = mail.MailSettings.from_config(app.config, app.instance_path)
    args = {"links": Links.of(app), "sender": settings.sender}
    with app.app_context():
        early = notices.send_due(world, now=utcnow(), **args)  # within the delay
        assert early.messages == []
        world.commit()
        runner = app.test_cli_runner()
        assert "change notices queued: 0" in runner.invoke(args=["send-notices"]).output
        later = utcnow() + notices.DEFAULT_DELAY + timedelta(seconds=1)
        due = notices.send_due(world, now=later, **args)
        world.commit()
    assert sorted(m.to_address for m in due.messages) == [
        "chair.support@example.jp",
        "member.both@example.jp",
    ]
    assert runner.invoke(args=["send-mail"]).exit_code == 0
    (message,) = smtp.to("member.both@example.jp")  # both changes, one message
    assert "公民館" in plain(message) and f"{TITLE}（変更）" in plain(message)
    assert vevent(message)["SEQUENCE"] == 1
    assert send_notices(as_secretary, session) and len(smtp.received) == 2  # sent once


def test_the_notice_command_sends_what_has_waited(app, as_secretary, world, smtp):
    session = schedule(as_secretary, world, SUPPORT)
    convene(as_secretary, session)
    smtp.clear()
    url = f"/sessions/{session.id}/edit"
    post_and_follow(as_secretary, url, edit_form(world, session, place="公民館"))
    app.config["NOTICE_DELAY_MINUTES"] = "0"
    result = app.test_cli_runner().invoke(args=["send-notices"])
    assert result.exit_code == 0 and "change notices queued: 2" in result.output
    assert sorted(a for r in smtp.received for a in r.rcpt_tos) == [
        "chair.support@example.jp",
        "member.both@example.jp",
    ]


def test_cancelling_sends_method_cancel_at_once_with_a_higher_sequence(
    app, as_secretary, world, smtp
):
    session = schedule(as_secretary, world, SUPPORT)
    convene(as_secretary, session)
    post_and_follow(as_secretary, f"/sessions/{session.id}/cancel", {"reason": "台風"})
    invite, cancel = smtp.to("member.both@example.jp")  # no button, no waiting
    part = calendar_part(cancel)
    assert part.get_param("method") == "CANCEL"
    assert [p.get_filename() for p in cancel.iter_attachments()] == ["cancel.ics"]
    assert vevent(cancel)["SEQUENCE"] > vevent(invite)["SEQUENCE"]
    assert vevent(cancel)["UID"] == vevent(invite)["UID"]
    assert ja(app, "Reason: %(reason)s", reason="台風") in plain(cancel)
    assert kinds(world).count("cancel") == 2
    send_notices(as_secretary, session)
    assert kinds(world).count("cancel") == 2  # once


def test_no_confidential_title_reaches_any_message(as_secretary, world, smtp):
    session = schedule(as_secretary, world, SUPPORT, LAYER1)
    world.add(
        AgendaItem(
            session=session,
            body=body_named(world, SUPPORT),
            position=1,
            title=CANARY,
            visibility=Visibility.CONFIDENTIAL,
        )
    )
    world.commit()
    convene(as_secretary, session)
    url = f"/sessions/{session.id}/edit"
    post_and_follow(as_secretary, url, edit_form(world, session, place="公民館"))
    send_notices(as_secretary, session)
    post_and_follow(as_secretary, f"/sessions/{session.id}/cancel", {"reason": ""})
    assert len(smtp.received) == 3 * len(JOINT_ADDRESSES)
    for received in smtp.received:
        assert CANARY.encode() not in received.content
        assert CANARY not in decoded(received.message)


PLAN_REVIEW = "プラン協議：R8-0003"


def test_a_body_item_of_a_joint_session_reaches_no_calendar_and_no_mail(
    app, client, as_secretary, world, smtp
):
    """A joint session of the 支援調整会議 and the 協議体 with the 支援調整会議's plan review
    (`body`), added after the convening notice: the 協議体-only member's change notice,
    download and feed do not carry its title, nor does any e-mail (invitation, change,
    reminder); and neither does the calendar of the 支援調整会議's own chair, who reads it
    on the session page."""
    from renkei.services.dates import tokyo_date
    from tests.sessions_helpers import COORDINATION

    session = schedule(as_secretary, world, COORDINATION, LAYER1)
    convene(as_secretary, session)
    item = {"title": PLAN_REVIEW, "body_id": body_named(world, COORDINATION).id}
    post_and_follow(
        as_secretary, f"/sessions/{session.id}/items/new", {**item, "visibility": "body"}
    )
    url = f"/sessions/{session.id}/edit"
    post_and_follow(as_secretary, url, edit_form(world, session, place="社協会館"))
    send_notices(as_secretary, session)
    days = (tokyo_date(session.start_at) - today()).days
    reminded = app.test_cli_runner().invoke(args=["send-reminders", "--days", str(days)])
    assert reminded.exit_code == 0, reminded.output
    assert set(kinds(world)) == {"invite", "update", "reminder"}
    assert "member.kyogitai@example.jp" in {a for r in smtp.received for a in r.rcpt_tos}
    for received in smtp.received:
        assert PLAN_REVIEW not in decoded(received.message)
        assert PLAN_REVIEW.encode() not in received.content
    later = world.scalars(select(MailMessage).where(MailMessage.kind != "invite")).all()
    for message in later:  # the agenda is there, the plan review as 非公開議題
        parsed = email.message_from_bytes(message.content, policy=email.policy.default)
        assert "非公開議題" in decoded(parsed) and PLAN_REVIEW not in decoded(parsed)
    assert later
    for address, on_page in (
        ("member.kyogitai@example.jp", False),
        ("chair.support@example.jp", True),
    ):
        reader = login(app.test_client(), address)
        page = reader.get(f"/sessions/{session.id}").get_data(as_text=True)
        assert (PLAN_REVIEW in page) is on_page
        token = world.scalar(select(Person.feed_token).where(Person.email == address))
        for path in (f"/sessions/{session.id}/invite.ics", f"/calendar/{token}.ics"):
            response = reader.get(path)
            assert response.status_code == 200, path
            text = response.get_data(as_text=True).replace("\r\n ", "")
            assert PLAN_REVIEW not in text and "非公開議題" in text, (address, path)


def test_a_guest_added_later_is_invited_alone_and_removed_is_cancelled(as_secretary, world, smtp):
    session = schedule(as_secretary, world, SUPPORT)
    convene(as_secretary, session)
    smtp.clear()
    post_and_follow(
        as_secretary,
        f"/sessions/{session.id}/guests",
        {"name": "外部 講師", "email": "guest@example.jp", "organisation": "県"},
    )
    assert smtp.received == []  # with the change notices
    send_notices(as_secretary, session)
    assert [r.rcpt_tos for r in smtp.received] == [["guest@example.jp"]]
    assert calendar_part(smtp.received[0].message).get_param("method") == "REQUEST"
    assert kinds(world)[-1] == "invite"

    world.expire_all()
    (guest,) = the_session(world).guests
    post_and_follow(as_secretary, f"/sessions/guests/{guest.id}/delete", {})
    send_notices(as_secretary, session)
    assert [r.rcpt_tos for r in smtp.received] == [["guest@example.jp"]] * 2
    invite, cancel = smtp.to("guest@example.jp")
    assert calendar_part(cancel).get_param("method") == "CANCEL"
    assert vevent(cancel)["UID"] == vevent(invite)["UID"]


# --- Failures and retry -----------------------------------------------------------------------


def test_failed_messages_show_on_the_page_and_are_retried(app, as_secretary, world, smtp):
    session = schedule(as_secretary, world, SUPPORT)
    smtp.stop()
    page = convene(as_secretary, session)
    world.expire_all()
    rows = world.scalars(select(MailMessage)).all()
    assert len(rows) == 2 and {r.status for r in rows} == {"failed"}
    assert page.count('class="mail-failed"') == 2
    assert f'action="/sessions/{session.id}/mail/retry"' in page
    assert rows[0].error in page
    assert (
        ja(
            app,
            "%(num)d message could not be sent: see Mail on the session page.",
            "%(num)d messages could not be sent: see Mail on the session page.",
            num=2,
        )
        in page
    )

    smtp.start()
    page = post_and_follow(as_secretary, f"/sessions/{session.id}/mail/retry", {})
    assert len(smtp.received) == 2
    assert page.count('class="mail-sent"') == 2 and 'class="mail-failed"' not in page
    post_and_follow(as_secretary, f"/sessions/{session.id}/mail/retry", {})
    assert len(smtp.received) == 2  # nothing is sent twice


def test_mail_section_and_retry_are_for_the_secretariat(client, world, smtp):
    session = make_session(world, SUPPORT)
    login(client, "member.both@example.jp")
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert 'id="mail"' not in page
    assert client.post(f"/sessions/{session.id}/mail/retry", data={}).status_code == 403


# --- Without a mail server ----------------------------------------------------------------------


def test_without_a_mail_server_the_messages_go_to_the_outbox(app, as_secretary, world):
    use_smtp(app, None)
    session = schedule(as_secretary, world, SUPPORT, LAYER1)
    page = convene(as_secretary, session)
    assert (
        ja(app, "No mail server is configured: the messages were kept on the server, not sent.")
        in page
    )
    world.expire_all()
    ids = world.scalars(select(MailMessage.id)).all()
    files = sorted(p.name for p in (Path(app.instance_path) / "outbox").glob("*.eml"))
    assert files == sorted(f"{i}-invite.eml" for i in ids) and len(files) == len(JOINT_ADDRESSES)


def test_thread_delivery_does_not_need_the_request(app, as_secretary, world, smtp):
    app.config["MAIL_DELIVERY"] = "thread"
    session = schedule(as_secretary, world, SUPPORT)
    convene(as_secretary, session)
    deadline = clock.monotonic() + 10
    while clock.monotonic() < deadline:
        world.expire_all()
        statuses = set(world.scalars(select(MailMessage.status)))
        if statuses == {"sent"}:
            break
        clock.sleep(0.05)
    assert statuses == {"sent"} and len(smtp.received) == 2


# --- Command line -----------------------------------------------------------------------------


def test_reminders_are_sent_once_however_often_the_command_runs(app, world, smtp):
    soon = make_session(world, SUPPORT, day=today() + timedelta(days=3), start=time(10))
    make_session(world, LAYER1, day=today() + timedelta(days=3), convened=False)  # prepared
    make_session(world, SUPPORT, day=today() + timedelta(days=2))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["send-reminders", "--days", "3"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["send-reminders", "--days", "3"])
    assert second.exit_code == 0, second.output
    assert "sent: 2" in first.output and "sent: 0" in second.output
    assert sorted(a for r in smtp.received for a in r.rcpt_tos) == sorted(
        ["chair.support@example.jp", "member.both@example.jp"]
    )
    for received in smtp.received:  # the calendar is the notices' to keep
        assert not [p for p in received.message.walk() if "calendar" in p.get_content_type()]
        assert received.message.get_content_type() == "text/plain"
    world.expire_all()
    assert {m.session_id for m in world.scalars(select(MailMessage))} == {soon.id}
    assert set(kinds(world)) == {"reminder"}


def test_send_mail_command_delivers_what_failed(app, as_secretary, world, smtp):
    session = schedule(as_secretary, world, SUPPORT)
    smtp.stop()
    convene(as_secretary, session)
    runner = app.test_cli_runner()
    failed = runner.invoke(args=["send-mail", "--now"])
    assert failed.exit_code == 1 and "failed: 2" in failed.output
    smtp.start()
    waiting = runner.invoke(args=["send-mail"])  # the retry is not due yet
    assert waiting.exit_code == 0 and "sent: 0" in waiting.output and not smtp.received
    result = runner.invoke(args=["send-mail", "--now"])
    assert result.exit_code == 0 and "sent: 2" in result.output
    assert len(smtp.received) == 2


def test_series_occurrence_and_following_changes(as_secretary, world, smtp):
    first = schedule(as_secretary, world, SUPPORT, repeat="weekly", repeat_count="5")
    convene(as_secretary, first)
    world.expire_all()
    occurrences = world.scalars(select(MeetingSession).order_by(MeetingSession.start_at)).all()
    first, second, third = occurrences[:3]
    old_series = first.series_id
    domain = str(vevent(smtp.received[0].message)["UID"]).partition("@")[2]

    # One occurrence moved: an update of that occurrence alone (RECURRENCE-ID).
    moved = edit_form(world, second, start_time="10:00", end_time="12:00", scope="this")
    post_and_follow(as_secretary, f"/sessions/{second.id}/edit", moved)
    assert len(smtp.to("member.both@example.jp")) == 1  # with the change notices
    send_notices(as_secretary, second)
    invite, update = smtp.to("member.both@example.jp")
    (event,) = [e for e in vevents(update) if "RECURRENCE-ID" in e]
    assert event["UID"] == vevent(update)["UID"] == f"series-{old_series}@{domain}"
    assert event.decoded("RECURRENCE-ID") == vevent(invite).decoded("DTSTART") + timedelta(weeks=1)
    assert event.decoded("DTSTART").hour == 10

    # This and the following: the series is split; both parts are sent anew.
    following = edit_form(world, third, place="北公民館", scope="following")
    post_and_follow(as_secretary, f"/sessions/{third.id}/edit", following)
    send_notices(as_secretary, third)
    world.expire_all()
    new_series = world.get(MeetingSession, third.id).series_id
    assert new_series != old_series
    messages = smtp.to("member.both@example.jp")[2:]
    uids = {str(vevent(m)["UID"]) for m in messages}
    assert uids == {f"series-{s}@{domain}" for s in (old_series, new_series)}
    rules = {str(vevent(m)["UID"]): vevent(m)["RRULE"].to_ical().decode() for m in messages}
    assert "UNTIL=" in rules[f"series-{old_series}@{domain}"]  # cut short
    assert "COUNT=3" in rules[f"series-{new_series}@{domain}"]
    assert len(smtp.received) == 2 * 4  # 2 invitees: invitation, moved one, two series parts
