"""E-mail through the pages: scheduling, changing and cancelling a session sends what it
should to a real SMTP server (aiosmtpd), once; failures show on the page and can be retried;
without a mail server the messages land in the outbox; reminders come from the CLI."""

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

from renkei.models import AgendaItem, MailMessage, MeetingSession, Person, Visibility
from renkei.services.dates import today
from tests.conftest import login
from tests.helpers import body_named, count
from tests.sessions_helpers import LAYER1, SUPPORT, make_session
from tests.sessions_helpers import session_form as shared_session_form
from tests.smtp import use_smtp

JOINT_ADDRESSES = {
    "secretary@example.jp",
    "chair.support@example.jp",
    "chair.kyogitai@example.jp",
    "member.both@example.jp",
    "member.kyogitai@example.jp",
}
# In the order of the invitee list (by kana).
JOINT_WITHOUT_ADDRESS = ["介護 由美", "社協 大地", "生協 実", "税務 健", "相談 愛", "民生 ふみ"]
CANARY = "CANARY-ケース検討-0815"


def ja(app, text, *plural, **variables) -> str:
    """What the page shows for an interface string (Japanese once the catalog has it)."""
    with app.test_request_context(), force_locale("ja"):
        if plural:
            return str(escape(ngettext(text, plural[0], variables.pop("num"), **variables)))
        return str(escape(gettext(text, **variables)))


def session_form(world, *body_names, **extra):
    return shared_session_form(world, *body_names, **{"title": "12月合同会議", **extra})


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


# --- Scheduling ---------------------------------------------------------------------------


def test_scheduling_a_joint_session_invites_each_address_once(app, as_secretary, world, smtp):
    page = post_and_follow(as_secretary, "/sessions/new", session_form(world, SUPPORT, LAYER1))

    rcpts = [a for r in smtp.received for a in r.rcpt_tos]
    assert sorted(rcpts) == sorted(JOINT_ADDRESSES)  # 兼務 三郎 of both bodies: one message
    assert (
        ja(
            app,
            "An invitation is being sent to %(num)d person.",
            "Invitations are being sent to %(num)d people.",
            num=len(JOINT_ADDRESSES),
        )
        in page
    )
    names = "、".join(JOINT_WITHOUT_ADDRESS)
    assert ja(app, "No e-mail address for: %(names)s", names=names) in page
    assert "outbox" not in page

    for received in smtp.received:
        message = received.message
        assert "12月合同会議" in message["Subject"]
        assert "2026年12月10日(木) 14:00" in message["Subject"]
        part = calendar_part(message)
        assert part.get_param("method") == "REQUEST"
        assert [p.get_filename() for p in message.iter_attachments()] == ["invite.ics"]
        event = vevent(message)
        assert event["SUMMARY"] == "12月合同会議" and event["SEQUENCE"] == 0
        (to,) = message["To"].addresses
        assert to.addr_spec in received.rcpt_tos
    world.expire_all()
    session = world.scalars(select(MeetingSession)).one()
    assert count(world, MailMessage) == len(JOINT_ADDRESSES)
    assert {m.status for m in world.scalars(select(MailMessage))} == {"sent"}
    assert f'action="/sessions/{session.id}/mail/retry"' not in page  # nothing failed


def test_a_series_from_the_form_sends_one_series_invitation_each(as_secretary, world, smtp):
    form = session_form(world, SUPPORT, repeat="weekly", repeat_count="4")
    page = post_and_follow(as_secretary, "/sessions/new", form)
    assert count(world, MeetingSession) == 4
    assert len(smtp.to("member.both@example.jp")) == 1
    assert len(smtp.received) == 3  # secretary, chair.support, member.both
    event = vevent(smtp.to("member.both@example.jp")[0])
    assert "COUNT=4" in event["RRULE"].to_ical().decode()
    assert 'id="mail"' in page and "member.both@example.jp" in page


# --- Changing and cancelling ----------------------------------------------------------------


def test_notes_alone_send_nothing_a_new_time_sends_an_update(as_secretary, world, smtp):
    session = make_session(world, SUPPORT)
    url = f"/sessions/{session.id}/edit"
    post_and_follow(as_secretary, url, edit_form(world, session, notes="資料は当日配布"))
    assert smtp.received == [] and kinds(world) == []

    post_and_follow(
        as_secretary, url, edit_form(world, session, start_time="15:00", end_time="17:00")
    )
    assert set(kinds(world)) == {"update"}
    (message,) = smtp.to("member.both@example.jp")
    event = vevent(message)
    assert event["SEQUENCE"] == 1 and event.decoded("DTSTART").hour == 15
    assert "15:00–17:00" in message.get_body(("plain",)).get_content()

    # The same edit again changes nothing, and sends nothing.
    post_and_follow(
        as_secretary, url, edit_form(world, session, start_time="15:00", end_time="17:00")
    )
    assert len(smtp.to("member.both@example.jp")) == 1


def test_cancelling_sends_method_cancel_with_a_higher_sequence(as_secretary, world, smtp):
    post_and_follow(as_secretary, "/sessions/new", session_form(world, SUPPORT))
    session = world.scalars(select(MeetingSession)).one()
    post_and_follow(as_secretary, f"/sessions/{session.id}/cancel", {"reason": "台風"})
    invite, cancel = smtp.to("member.both@example.jp")
    part = calendar_part(cancel)
    assert part.get_param("method") == "CANCEL"
    assert [p.get_filename() for p in cancel.iter_attachments()] == ["cancel.ics"]
    assert vevent(cancel)["SEQUENCE"] > vevent(invite)["SEQUENCE"]
    assert vevent(cancel)["UID"] == vevent(invite)["UID"]
    assert "台風" not in cancel.as_string()  # the reason stays in the history
    assert kinds(world).count("cancel") == 3


def test_no_confidential_title_reaches_any_message(as_secretary, world, smtp):
    session = make_session(world, SUPPORT, LAYER1)
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
    url = f"/sessions/{session.id}/edit"
    post_and_follow(as_secretary, url, edit_form(world, session, place="公民館"))
    post_and_follow(as_secretary, f"/sessions/{session.id}/cancel", {"reason": ""})
    assert len(smtp.received) == 2 * len(JOINT_ADDRESSES)
    for received in smtp.received:
        assert CANARY.encode() not in received.content
        assert CANARY not in decoded(received.message)


PLAN_REVIEW = "プラン協議：R8-0003"


def test_a_body_item_of_a_joint_session_reaches_no_calendar_and_no_mail(
    app, client, as_secretary, world, smtp
):
    """A joint session of the 支援調整会議 and the 協議体 with the 支援調整会議's plan review
    (`body`): the 協議体-only member's invitation, download and feed do not carry its title,
    nor does any e-mail (invitation, change, reminder); and neither does the calendar of
    the 支援調整会議's own chair, who reads it on the session page."""
    from renkei.services.dates import tokyo_date
    from tests.sessions_helpers import COORDINATION

    form = session_form(world, COORDINATION, LAYER1)
    post_and_follow(as_secretary, "/sessions/new", form)
    session = world.scalars(select(MeetingSession)).one()
    item = {"title": PLAN_REVIEW, "body_id": body_named(world, COORDINATION).id}
    post_and_follow(
        as_secretary, f"/sessions/{session.id}/items/new", {**item, "visibility": "body"}
    )
    url = f"/sessions/{session.id}/edit"
    post_and_follow(as_secretary, url, edit_form(world, session, place="社協会館"))
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


def test_a_guest_added_later_is_invited_alone(as_secretary, world, smtp):
    session = make_session(world, SUPPORT)
    post_and_follow(
        as_secretary,
        f"/sessions/{session.id}/guests",
        {"name": "外部 講師", "email": "guest@example.jp", "organisation": "県"},
    )
    assert [r.rcpt_tos for r in smtp.received] == [["guest@example.jp"]]


# --- Failures and retry -----------------------------------------------------------------------


def test_failed_messages_show_on_the_page_and_are_retried(app, as_secretary, world, smtp):
    session = make_session(world, SUPPORT)
    smtp.stop()
    page = post_and_follow(
        as_secretary, f"/sessions/{session.id}/edit", edit_form(world, session, place="公民館")
    )
    world.expire_all()
    rows = world.scalars(select(MailMessage)).all()
    assert len(rows) == 3 and {r.status for r in rows} == {"failed"}
    assert page.count('class="mail-failed"') == 3
    assert f'action="/sessions/{session.id}/mail/retry"' in page
    assert rows[0].error in page
    assert (
        ja(
            app,
            "%(num)d message could not be sent: see Mail on the session page.",
            "%(num)d messages could not be sent: see Mail on the session page.",
            num=3,
        )
        in page
    )

    smtp.start()
    page = post_and_follow(as_secretary, f"/sessions/{session.id}/mail/retry", {})
    assert len(smtp.received) == 3
    assert page.count('class="mail-sent"') == 3 and 'class="mail-failed"' not in page
    post_and_follow(as_secretary, f"/sessions/{session.id}/mail/retry", {})
    assert len(smtp.received) == 3  # nothing is sent twice


def test_mail_section_and_retry_are_for_the_secretariat(client, world, smtp):
    session = make_session(world, SUPPORT)
    login(client, "member.both@example.jp")
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert 'id="mail"' not in page
    assert client.post(f"/sessions/{session.id}/mail/retry", data={}).status_code == 403


# --- Without a mail server ----------------------------------------------------------------------


def test_without_a_mail_server_the_messages_go_to_the_outbox(app, as_secretary, world):
    use_smtp(app, None)
    page = post_and_follow(as_secretary, "/sessions/new", session_form(world, SUPPORT, LAYER1))
    assert (
        ja(app, "No mail server is configured: the messages were saved in the outbox folder.")
        in page
    )
    world.expire_all()
    ids = world.scalars(select(MailMessage.id)).all()
    files = sorted(p.name for p in (Path(app.instance_path) / "outbox").glob("*.eml"))
    assert files == sorted(f"{i}-invite.eml" for i in ids) and len(files) == len(JOINT_ADDRESSES)


def test_thread_delivery_does_not_need_the_request(app, as_secretary, world, smtp):
    app.config["MAIL_DELIVERY"] = "thread"
    session = make_session(world, SUPPORT)
    post_and_follow(as_secretary, f"/sessions/{session.id}/cancel", {"reason": ""})
    deadline = clock.monotonic() + 10
    while clock.monotonic() < deadline:
        world.expire_all()
        statuses = set(world.scalars(select(MailMessage.status)))
        if statuses == {"sent"}:
            break
        clock.sleep(0.05)
    assert statuses == {"sent"} and len(smtp.received) == 3


# --- Command line -----------------------------------------------------------------------------


def test_reminders_are_sent_once_however_often_the_command_runs(app, world, smtp):
    soon = make_session(world, SUPPORT, day=today() + timedelta(days=3), start=time(10))
    make_session(world, SUPPORT, day=today() + timedelta(days=2))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["send-reminders", "--days", "3"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["send-reminders", "--days", "3"])
    assert second.exit_code == 0, second.output
    assert "sent: 3" in first.output and "sent: 0" in second.output
    assert sorted(a for r in smtp.received for a in r.rcpt_tos) == sorted(
        ["secretary@example.jp", "chair.support@example.jp", "member.both@example.jp"]
    )
    assert {str(vevent(r.message)["UID"]) for r in smtp.received} == {
        f"session-{soon.id}@renkei.example.jp"
    }
    assert set(kinds(world)) == {"reminder"}


def test_send_mail_command_delivers_what_failed(app, as_secretary, world, smtp):
    session = make_session(world, SUPPORT)
    smtp.stop()
    post_and_follow(as_secretary, f"/sessions/{session.id}/cancel", {"reason": ""})
    runner = app.test_cli_runner()
    failed = runner.invoke(args=["send-mail"])
    assert failed.exit_code == 1 and "failed: 3" in failed.output
    smtp.start()
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0 and "sent: 3" in result.output
    assert len(smtp.received) == 3


def test_series_occurrence_and_following_changes(as_secretary, world, smtp):
    form = session_form(world, SUPPORT, repeat="weekly", repeat_count="5")
    post_and_follow(as_secretary, "/sessions/new", form)
    world.expire_all()
    occurrences = world.scalars(select(MeetingSession).order_by(MeetingSession.start_at)).all()
    first, second, third = occurrences[:3]
    old_series = first.series_id

    # One occurrence moved: an update of that occurrence alone (RECURRENCE-ID).
    moved = edit_form(world, second, start_time="10:00", end_time="12:00", scope="this")
    post_and_follow(as_secretary, f"/sessions/{second.id}/edit", moved)
    invite, update = smtp.to("member.both@example.jp")
    event = vevent(update)
    assert event["UID"] == f"series-{old_series}@renkei.example.jp"
    assert event.decoded("RECURRENCE-ID") == vevent(invite).decoded("DTSTART") + timedelta(weeks=1)
    assert event.decoded("DTSTART").hour == 10

    # This and the following: the series is split; both parts are sent anew.
    following = edit_form(world, third, place="北公民館", scope="following")
    post_and_follow(as_secretary, f"/sessions/{third.id}/edit", following)
    world.expire_all()
    new_series = world.get(MeetingSession, third.id).series_id
    assert new_series != old_series
    messages = smtp.to("member.both@example.jp")[2:]
    uids = {str(vevent(m)["UID"]) for m in messages}
    assert uids == {f"series-{s}@renkei.example.jp" for s in (old_series, new_series)}
    rules = {str(vevent(m)["UID"]): vevent(m)["RRULE"].to_ical().decode() for m in messages}
    assert "UNTIL=" in rules[f"series-{old_series}@renkei.example.jp"]  # cut short
    assert "COUNT=3" in rules[f"series-{new_series}@renkei.example.jp"]
    assert len(smtp.received) == 3 * 4  # 3 invitees: invitation, moved one, two series parts
