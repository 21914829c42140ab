"""E-mail: composing, queueing once, claiming before sending, failures, outbox, reminders,
and no confidential agenda item in any message — against a real SMTP server (aiosmtpd).
The messages about sessions are the convening and change notices (``services.notices``)."""

import email
import email.policy
from datetime import date, time, timedelta
from pathlib import Path

import icalendar
import pytest
from sqlalchemy import select

from renkei.models import AgendaItem, Guest, MailMessage, Pledge, Visibility
from renkei.services import installation, mail, notices, scheduling
from renkei.services.dates import today
from renkei.services.errors import DomainError
from renkei.services.mail import delivery
from renkei.services.mail.queue import queue_reminders
from tests.helpers import body_named, count, person_by_email
from tests.sessions_helpers import DAY, LAYER1, SUPPORT, make_session, session_data, shown
from tests.smtp import use_smtp

BASE_URL = "https://renkei.example.jp"
CANARY = "CANARY-個別ケース-4711"
# Those with an address among the members of the 支援会議 and the layer-1 協議体 (the
# secretariat organises: it is not sent its own invitation).
JOINT_ADDRESSES = {
    "chair.support@example.jp",
    "chair.kyogitai@example.jp",
    "member.both@example.jp",
    "member.kyogitai@example.jp",
}
JOINT_WITHOUT_ADDRESS = {"民生 ふみ", "税務 健", "介護 由美", "相談 愛", "生協 実", "社協 大地"}


def settings_for(app) -> mail.MailSettings:
    return mail.MailSettings.from_config(app.config, app.instance_path)


def convene(app, db, session, links) -> mail.QueueResult:
    """Send the session's convening notice (the invitations), as the secretary."""
    secretary = person_by_email(db, "secretary@example.jp")
    sender = settings_for(app).sender
    result = notices.convene(db, session, by=secretary, links=links, sender=sender)
    db.commit()
    return result


def send_now(app, db, session, links) -> mail.QueueResult:
    """Send the session's waiting change notices (a cancellation among them)."""
    secretary = person_by_email(db, "secretary@example.jp")
    sender = settings_for(app).sender
    result = notices.send_now(db, session, by=secretary, links=links, sender=sender)
    db.commit()
    return result


def prepared(db, *body_names, **kwargs):
    """A session being prepared: nothing sent yet."""
    return make_session(db, *body_names, convened=False, **kwargs)


def texts(message) -> str:
    """Every decoded text part of a message (bodies are base64: raw bytes would hide
    a leak), with its decoded headers."""
    found = [f"{name}: {value}" for name, value in message.items()]
    for part in message.walk():
        if part.get_content_maintype() == "multipart":
            continue
        content = part.get_content()
        found.append(content.decode("utf-8") if isinstance(content, bytes) else content)
    return "\n".join(found)


def calendar_part(message):
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    return parts[0]


def attachments(message) -> list[str]:
    return [part.get_filename() for part in message.iter_attachments()]


def event_of(message):
    calendar = icalendar.Calendar.from_ical(calendar_part(message).get_payload(decode=True))
    return next(iter(calendar.walk("VEVENT"))), calendar


# --- Settings -----------------------------------------------------------------------------


def test_settings_defaults(app):
    app.config.update(SMTP_HOST="", MAIL_FROM="", BASE_URL="https://renkei.town.example.jp")
    settings = settings_for(app)
    assert not settings.uses_smtp
    assert settings.sender == "renkei@renkei.town.example.jp"
    assert settings.outbox == Path(app.instance_path) / "outbox"
    app.config.update(SMTP_HOST="mail.example.jp", SMTP_PORT=None, SMTP_STARTTLS="1")
    assert settings_for(app).port == 587 and settings_for(app).starttls
    app.config.update(MAIL_DELIVERY="later")
    with pytest.raises(ValueError):
        settings_for(app)


# --- Queueing and composing ----------------------------------------------------------------


def test_one_message_per_address_and_names_without_one(app, world, ctx, smtp_server, links):
    use_smtp(app, smtp_server)
    session = prepared(world, SUPPORT, LAYER1, title="合同会議", place="役場 第1会議室")
    result = convene(app, world, session, links)
    assert {m.to_address for m in result.messages} == JOINT_ADDRESSES
    assert len(result.messages) == len(JOINT_ADDRESSES)  # 兼務 三郎 once, not per body
    assert set(result.without_address) == JOINT_WITHOUT_ADDRESS
    uid = f"session-{session.id}@{installation.uid_domain(world)}"
    assert all(
        m.dedupe_key == f"invite:{uid}:{session.sequence}:{m.to_address}" for m in result.messages
    )

    delivered = mail.deliver(world, settings_for(app))
    assert (delivered.sent, delivered.failed) == (len(JOINT_ADDRESSES), 0)
    received = smtp_server.received
    assert sorted(a for r in received for a in r.rcpt_tos) == sorted(JOINT_ADDRESSES)
    raw = received[0].content
    headers = raw.split(b"\r\n\r\n")[0]
    assert headers.isascii() and b"=?utf-8?" in headers  # RFC 2047, no raw UTF-8 in headers
    message = received[0].message
    assert "合同会議" in message["Subject"] and shown(DAY, time(14)) in message["Subject"]
    assert message["Message-ID"] and message["Date"]
    assert message["From"].addresses[0].addr_spec == "renkei@renkei.example.jp"
    assert message["Reply-To"].addresses[0].addr_spec == "secretary@example.jp"
    to = message["To"].addresses[0]
    assert to.addr_spec in JOINT_ADDRESSES and to.display_name  # the Japanese name decoded
    body = message.get_body(("plain",)).get_content()
    assert "役場 第1会議室" in body and "14:00–16:00" in body
    assert f"{BASE_URL}/sessions/{session.id}" in body
    part = calendar_part(message)
    assert part.get_param("method") == "REQUEST" and part.get_param("charset") == "UTF-8"
    assert attachments(message) == ["invite.ics"]
    event, calendar = event_of(message)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert event["UID"] == uid
    assert event["ORGANIZER"] == "mailto:renkei@renkei.example.jp"


def test_a_guest_with_a_members_address_gets_one_message(app, world, ctx, links):
    session = prepared(world, SUPPORT)
    world.add(Guest(session=session, name="兼務 三郎（個人）", email="Member.Both@example.jp"))
    world.commit()
    result = convene(app, world, session, links)
    addresses = [m.to_address.lower() for m in result.messages]
    assert addresses.count("member.both@example.jp") == 1
    assert len(addresses) == len(set(addresses)) == 2  # and the chair


def test_asking_twice_queues_once_and_delivering_twice_sends_once(
    app,
    world,
    ctx,
    smtp_server,
    links,
):
    use_smtp(app, smtp_server)
    session = prepared(world, SUPPORT)
    first = convene(app, world, session, links)
    with pytest.raises(DomainError):  # convened already: refused, nothing queued
        convene(app, world, session, links)
    world.rollback()
    again = send_now(app, world, session, links)  # nothing changed since the notice
    assert first.messages and not again.messages
    assert mail.deliver(world, settings_for(app)).sent == len(first.messages)
    assert mail.deliver(world, settings_for(app)).sent == 0
    assert len(smtp_server.received) == len(first.messages) == count(world, MailMessage)


def test_existing_keys_are_looked_up_in_one_query(app, world, ctx, links):
    """The reminders of a joint session look up which are queued already in one query,
    not one per address."""
    from tests.helpers import counting

    make_session(world, SUPPORT, LAYER1, day=today() + timedelta(days=3))
    args = {"days": 3, "links": links, "sender": settings_for(app).sender}
    _sessions, first = queue_reminders(world, **args)
    world.commit()
    with counting(app.extensions["renkei.engine"]) as statements:
        _sessions, second = queue_reminders(world, **args)
    assert len(first.messages) == len(JOINT_ADDRESSES) and not second.messages
    lookups = [s for s in statements if "dedupe_key" in s and s.lstrip().startswith("SELECT")]
    assert len(lookups) == 1


def test_a_message_claimed_by_another_worker_is_left_alone(
    app,
    world,
    ctx,
    smtp_server,
    monkeypatch,
    links,
):
    """Another worker claims the first message between this one's look-up and its claim:
    this one sends the others only."""
    use_smtp(app, smtp_server)
    session = prepared(world, SUPPORT)
    ids = convene(app, world, session, links).ids
    other = app.extensions["renkei.sessionmaker"]()
    real_claim = delivery._claim

    def racing_claim(db, message_id, **lease):
        if message_id == ids[0]:
            assert real_claim(other, message_id)  # the other worker is first
        return real_claim(db, message_id, **lease)

    monkeypatch.setattr(delivery, "_claim", racing_claim)
    try:
        result = mail.deliver(world, settings_for(app), ids)
    finally:
        other.close()
    assert (result.sent, result.skipped, result.failed) == (len(ids) - 1, 1, 0)
    rcpts = [a for r in smtp_server.received for a in r.rcpt_tos]
    world.expire_all()
    claimed = world.get(MailMessage, ids[0])
    assert claimed.status == "sending" and claimed.to_address not in rcpts


def test_two_workers_claim_each_message_once(app, world, ctx, links):
    session = prepared(world, SUPPORT)
    ids = convene(app, world, session, links).ids
    other = app.extensions["renkei.sessionmaker"]()
    try:
        assert delivery._claim(world, ids[0]) is True
        assert delivery._claim(other, ids[0]) is False
    finally:
        other.close()


def test_a_refused_recipient_fails_alone(app, world, ctx, smtp_server, links):
    use_smtp(app, smtp_server)
    session = prepared(world, SUPPORT)
    world.add(Guest(session=session, name="外部 講師", email="refused@example.jp"))
    world.commit()
    ids = convene(app, world, session, links).ids
    result = mail.deliver(world, settings_for(app))
    assert result.failed == 1 and result.sent == len(ids) - 1
    world.expire_all()
    refused = world.scalar(select(MailMessage).where(MailMessage.to_address.like("refused@%")))
    assert refused.status == "failed" and "550" in refused.error and refused.attempts == 1
    assert len(smtp_server.received) == len(ids) - 1


def test_server_down_fails_then_retry_sends(app, world, ctx, smtp_server, links):
    use_smtp(app, smtp_server)
    session = prepared(world, SUPPORT)
    ids = convene(app, world, session, links).ids
    smtp_server.stop()
    result = mail.deliver(world, settings_for(app))
    assert result.failed == len(ids) and result.sent == 0
    world.expire_all()
    rows = world.scalars(select(MailMessage)).all()
    assert {r.status for r in rows} == {"failed"} and all(r.error for r in rows)
    smtp_server.start()
    assert mail.deliver(world, settings_for(app)).sent == 0  # not due yet (back-off)
    assert mail.deliver(world, settings_for(app), now=True).sent == len(ids)
    world.expire_all()
    rows = world.scalars(select(MailMessage)).all()
    assert {r.status for r in rows} == {"sent"} and {r.attempts for r in rows} == {2}
    assert all(r.sent_at is not None and r.error == "" for r in rows)
    assert len(smtp_server.received) == len(ids)


def test_without_smtp_host_messages_go_to_the_outbox(app, world, ctx, links):
    use_smtp(app, None)
    session = prepared(world, SUPPORT)
    ids = convene(app, world, session, links).ids
    result = mail.deliver(world, settings_for(app))
    assert result.sent == len(ids)
    files = sorted(settings_for(app).outbox.glob("*.eml"))
    assert [f.name for f in files] == sorted(f"{i}-invite.eml" for i in ids)
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert calendar_part(message).get_param("method") == "REQUEST"


def test_cancel_is_method_cancel_with_a_higher_sequence(app, world, ctx, smtp_server, links):
    use_smtp(app, smtp_server)
    session = prepared(world, SUPPORT)
    invited = convene(app, world, session, links)
    assert not send_now(app, world, session, links).messages  # nothing to tell yet
    secretary = person_by_email(world, "secretary@example.jp")
    scheduling.cancel_session(world, session, by=secretary)
    cancelled = send_now(app, world, session, links)
    assert {m.kind for m in cancelled.messages} == {"cancel"}
    assert {m.to_address for m in cancelled.messages} == {m.to_address for m in invited.messages}
    assert not send_now(app, world, session, links).messages  # cancelled once
    mail.deliver(world, settings_for(app))
    invite, cancel = smtp_server.to("member.both@example.jp")
    part = calendar_part(cancel)
    assert part.get_param("method") == "CANCEL" and attachments(cancel) == ["cancel.ics"]
    assert event_of(cancel)[0]["SEQUENCE"] > event_of(invite)[0]["SEQUENCE"]
    assert event_of(cancel)[0]["UID"] == event_of(invite)[0]["UID"]


def test_public_titles_only_in_any_message(app, world, ctx, smtp_server, links):
    """Whoever receives it: a message is forwarded, its calendar file synced elsewhere."""
    use_smtp(app, smtp_server)
    session = prepared(world, SUPPORT, LAYER1)
    support, layer1 = body_named(world, SUPPORT), body_named(world, LAYER1)
    for position, (title, body, visibility) in enumerate(
        [
            ("開会・公開の議題", layer1, Visibility.PUBLIC),
            ("出席者限りの議題", layer1, Visibility.SESSION),
            (CANARY, support, Visibility.CONFIDENTIAL),
        ],
        start=1,
    ):
        world.add(
            AgendaItem(
                session=session, body=body, position=position, title=title, visibility=visibility
            )
        )
    # Even those entitled to see the item on its page do not get it by mail.
    for address in ("member.both@example.jp", "chair.support@example.jp"):
        world.add(
            Pledge(
                person=person_by_email(world, address), body=support, pledged_on=date(2025, 4, 1)
            )
        )
    world.add(Guest(session=session, name="外部 講師", email="guest@example.jp"))
    world.commit()
    convene(app, world, session, links)
    secretary = person_by_email(world, "secretary@example.jp")
    scheduling.update_session(
        world, session, session_data(world, SUPPORT, LAYER1, place="公民館"), by=secretary
    )
    send_now(app, world, session, links)
    scheduling.cancel_session(world, session, by=secretary)
    send_now(app, world, session, links)
    mail.deliver(world, settings_for(app))

    received = smtp_server.received
    assert len(received) == 3 * (len(JOINT_ADDRESSES) + 1)  # invitation, change, cancel
    for item in received:
        for closed in (CANARY, "出席者限りの議題"):
            assert closed.encode() not in item.content
            assert closed not in texts(item.message)
    for message in smtp_server.to("member.both@example.jp")[:2]:  # invitation, change
        member = texts(message)
        assert "開会・公開の議題" in member and member.count("非公開議題") >= 2
    guest = texts(smtp_server.to("guest@example.jp")[0])
    assert "開会・公開の議題" in guest
    member_body = smtp_server.to("member.both@example.jp")[0].get_body(("plain",)).get_content()
    assert f"/sessions/{session.id}" in member_body  # the rest is on the page
    guest_body = smtp_server.to("guest@example.jp")[0].get_body(("plain",)).get_content()
    assert "/sessions/" not in guest_body  # a guest has no page to go to


# --- Series -------------------------------------------------------------------------------


def test_series_invitation_carries_the_rule(app, world, ctx, smtp_server, links):
    from renkei.services import series

    use_smtp(app, smtp_server)
    secretary = person_by_email(world, "secretary@example.jp")
    created = series.create_series(
        world,
        session_data(world, SUPPORT),
        series.RepeatRule(frequency="weekly", count=4),
        by=secretary,
    )
    world.commit()
    result = convene(app, world, created.sessions[0], links)  # convenes every occurrence
    with pytest.raises(DomainError):
        convene(app, world, created.sessions[-1], links)
    world.rollback()
    assert result.messages and len(result.messages) == len(result.recipients)
    mail.deliver(world, settings_for(app))
    (message,) = smtp_server.to("member.both@example.jp")
    event, _calendar = event_of(message)
    assert "COUNT=4" in event["RRULE"].to_ical().decode()
    body = texts(message)
    assert all(shown(DAY + timedelta(weeks=n)) in body for n in range(4))  # every date


# --- Reminders ----------------------------------------------------------------------------


def test_reminders_once_per_session_and_day(app, world, ctx, smtp_server, links):
    use_smtp(app, smtp_server)
    soon = make_session(
        world, SUPPORT, day=today() + timedelta(days=3), start=time(10), end=time(11)
    )
    make_session(world, SUPPORT, day=today() + timedelta(days=4))  # another day
    cancelled = make_session(world, LAYER1, day=today() + timedelta(days=3))
    secretary = person_by_email(world, "secretary@example.jp")
    scheduling.cancel_session(world, cancelled, by=secretary)
    world.commit()
    settings = settings_for(app)
    first = mail.send_reminders(world, settings, days=3, links=links)
    second = mail.send_reminders(world, settings, days=3, links=links)
    assert first.sessions == 1 and first.delivery.sent == len(first.queued.messages) > 0
    assert not second.queued.messages and second.delivery.sent == 0
    assert {m.session_id for m in first.queued.messages} == {soon.id}
    assert len(smtp_server.to("member.both@example.jp")) == 1
