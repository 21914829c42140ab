"""A mail outage (issue 24): a message left 'sending' by a worker that died is sent once
after its lease and not before; retries wait with a growing delay; messages to one person go
in the order they were queued (a cancellation waits for its invitation); a permanent
refusal fails alone and holds nothing back — against a real SMTP server (aiosmtpd)."""

from datetime import timedelta

from sqlalchemy import select, update

import tests.smtp
from renkei.db import utcnow
from renkei.models import Guest, MailMessage
from renkei.services import mail, scheduling
from renkei.services.mail import delivery
from tests.helpers import person_by_email
from tests.services.test_mail import convene, prepared, send_now, settings_for
from tests.sessions_helpers import SUPPORT
from tests.smtp import use_smtp

MEMBER = "member.both@example.jp"


def message_to(db, address: str, kind: str) -> MailMessage:
    db.expire_all()
    return db.scalar(
        select(MailMessage).where(MailMessage.to_address == address, MailMessage.kind == kind)
    )


def claimed_ago(db, message_id: int, seconds: float) -> None:
    """Date the message's claim back, as if its worker had died that long ago."""
    db.execute(
        update(MailMessage)
        .where(MailMessage.id == message_id)
        .values(claimed_at=utcnow() - timedelta(seconds=seconds))
    )
    db.commit()


def _kind(message) -> str:
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return parts[0].get_param("method") if parts else message.get_content_type()


def test_a_message_left_sending_by_a_dead_worker_goes_once_after_the_lease(
    app, world, ctx, smtp_server, links
):
    use_smtp(app, smtp_server)
    session = prepared(world, SUPPORT)
    convene(app, world, session, links)
    stuck = message_to(world, MEMBER, "invite")
    assert delivery._claim(world, stuck.id, owner="dead-host:4242")  # then the worker died
    result = mail.deliver(world, settings_for(app))
    assert stuck.id not in result.errors and not smtp_server.to(MEMBER)
    assert result.sent == len(smtp_server.received) > 0  # the others went

    claimed_ago(world, stuck.id, 299)  # the lease (300 s) still runs: not yet
    assert mail.deliver(world, settings_for(app), now=True).sent == 0
    assert not smtp_server.to(MEMBER)

    claimed_ago(world, stuck.id, 301)
    assert mail.deliver(world, settings_for(app)).sent == 1
    assert mail.deliver(world, settings_for(app), now=True).sent == 0  # once
    assert len(smtp_server.to(MEMBER)) == 1
    row = message_to(world, MEMBER, "invite")
    assert row.status == "sent" and row.claimed_by == delivery.worker_name()


def test_an_expired_lease_is_taken_by_one_worker_only(app, world, ctx, links):
    session = prepared(world, SUPPORT)
    (first, *_) = convene(app, world, session, links).ids
    assert delivery._claim(world, first, owner="dead-host:1")
    claimed_ago(world, first, 400)
    other = app.extensions["renkei.sessionmaker"]()
    try:
        assert delivery._claim(other, first) is True
        assert delivery._claim(world, first) is False  # the new claim is fresh
    finally:
        other.close()


def test_failures_wait_longer_each_time(app, world, ctx, smtp_server, links):
    use_smtp(app, smtp_server)
    session = prepared(world, SUPPORT)
    ids = convene(app, world, session, links).ids
    smtp_server.stop()
    mail.deliver(world, settings_for(app), now=True)
    row = message_to(world, MEMBER, "invite")
    first_wait = row.next_attempt_at - row.claimed_at
    assert timedelta(seconds=59) < first_wait <= timedelta(seconds=61) and not row.refused
    assert mail.deliver(world, settings_for(app)).failed == 0  # not due: not even tried
    mail.deliver(world, settings_for(app), now=True)
    row = message_to(world, MEMBER, "invite")
    assert row.attempts == 2 and row.next_attempt_at - row.claimed_at > 2 * first_wait - timedelta(
        seconds=1
    )
    smtp_server.start()
    world.execute(update(MailMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    world.commit()
    assert mail.deliver(world, settings_for(app)).sent == len(ids)  # due again


def test_a_cancellation_waits_for_its_invitation(app, world, ctx, smtp_server, links):
    use_smtp(app, smtp_server)
    session = prepared(world, SUPPORT)
    smtp_server.stop()
    convene(app, world, session, links)
    mail.deliver(world, settings_for(app))  # the invitations fail
    scheduling.cancel_session(world, session, by=person_by_email(world, "secretary@example.jp"))
    cancels = send_now(app, world, session, links).ids
    smtp_server.start()

    # The cancellations asked for after the change: each invitation goes first.
    invite = message_to(world, MEMBER, "invite")
    result = mail.deliver(world, settings_for(app), [message_to(world, MEMBER, "cancel").id])
    assert result.sent == 2 and [_kind(m) for m in smtp_server.to(MEMBER)] == ["REQUEST", "CANCEL"]
    assert message_to(world, MEMBER, "invite").id == invite.id

    # The others: while an invitation is not due, its cancellation is held back.
    others = [i for i in cancels if i != message_to(world, MEMBER, "cancel").id]
    result = mail.deliver(world, settings_for(app))
    assert result.sent == 0 and result.held == len(others)
    world.expire_all()
    assert {world.get(MailMessage, i).status for i in others} == {"pending"}
    mail.deliver(world, settings_for(app), now=True)
    for address in {r for m in smtp_server.received for r in m.rcpt_tos}:
        assert [_kind(m) for m in smtp_server.to(address)] == ["REQUEST", "CANCEL"], address


def test_a_permanent_refusal_fails_alone_and_holds_nothing_back(
    app, world, ctx, smtp_server, links, monkeypatch
):
    use_smtp(app, smtp_server)
    session = prepared(world, SUPPORT)
    world.add(Guest(session=session, name="外部 講師", email="refused@example.jp"))
    world.commit()
    convene(app, world, session, links)
    mail.deliver(world, settings_for(app))
    invite = message_to(world, "refused@example.jp", "invite")
    assert invite.status == "failed" and invite.refused and invite.next_attempt_at is None
    assert "550" in invite.error

    monkeypatch.setattr(tests.smtp, "REFUSED_MARK", "nobody-has-this")  # the box is back
    assert mail.deliver(world, settings_for(app), now=True).sent == 0  # not retried by itself
    scheduling.cancel_session(world, session, by=person_by_email(world, "secretary@example.jp"))
    send_now(app, world, session, links)
    result = mail.deliver(world, settings_for(app))
    assert result.held == 0 and len(smtp_server.to("refused@example.jp")) == 1  # the cancel
    # The session page's "send again" does retry it.
    assert mail.deliver(world, settings_for(app), [invite.id]).sent == 1
    assert message_to(world, "refused@example.jp", "invite").refused is False
