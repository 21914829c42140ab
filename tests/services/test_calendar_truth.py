"""Calendar truth: every message each person received, replayed into a calendar app by RFC
5546 rules, shows exactly the sessions the pages say they are convened to — through a
session's whole life and a series' (issue 18). Real SMTP (aiosmtpd), real parsing
(icalendar, vobject), real expansion (recurring-ical-events)."""

from dataclasses import replace
from datetime import time, timedelta

import pytest
from flask import current_app
from sqlalchemy import select

from renkei.db import utcnow
from renkei.links import Links
from renkei.models import Guest, MeetingSession, Membership, Status
from renkei.services import (
    agenda,
    calendar,
    convening,
    feeds,
    mail,
    memberships,
    notices,
    polls,
    scheduling,
    series,
)
from renkei.services.dates import tokyo_to_utc
from renkei.services.errors import DomainError
from tests.calendar_replay import CalendarStore, Mailboxes, load_feed
from tests.helpers import body_named, person_by_email
from tests.sessions_helpers import COORDINATION, DAY, LAYER1, LAYER2, SUPPORT, session_data

# The calendars are compared over every session of these tests (around DAY).
WINDOW = (
    tokyo_to_utc(DAY - timedelta(days=365), time(0)),
    tokyo_to_utc(DAY + timedelta(days=2 * 365), time(0)),
)


class Town:
    """The demo town, with the secretary acting and every message delivered by SMTP."""

    def __init__(self, db, smtp):
        self.db, self.smtp = db, smtp
        self.secretary = person_by_email(db, "secretary@example.jp")
        self.settings = mail.MailSettings.from_config(current_app.config, current_app.instance_path)
        self.links = Links.of(current_app)
        self.args = {"links": self.links, "sender": self.settings.sender}

    def deliver(self, queued: mail.QueueResult) -> int:
        self.db.commit()
        if queued.messages:
            result = mail.deliver(self.db, self.settings, queued.ids)
            assert result.failed == 0
        return len(queued.messages)

    def convene(self, session):
        return self.deliver(notices.convene(self.db, session, by=self.secretary, **self.args))

    def send_now(self, session):
        return self.deliver(notices.send_now(self.db, session, by=self.secretary, **self.args))

    def send_due(self):
        later = utcnow() + notices.DEFAULT_DELAY
        return self.deliver(notices.send_due(self.db, now=later, **self.args))

    def expected(self) -> dict[str, set[tuple]]:
        """What the session pages say: per address, the sessions its person is convened to
        (invitee, participant or guest) that are convened or held."""
        shown: dict[str, set[tuple]] = {}
        sessions = self.db.scalars(
            select(MeetingSession).where(
                MeetingSession.status.in_([Status.CONVENED, Status.HELD]),
                MeetingSession.convened_at.is_not(None),
            )
        ).all()
        for session in sessions:
            fact = (session.start_at, session.end_at, session.title, session.place or None)
            # The secretariat organises: it is not sent its own invitation.
            invitees = scheduling.invitees(self.db, session)
            people = [i.person for i in invitees if not i.is_secretariat_only]
            people += [p.person for p in session.participants]
            assert all(scheduling.is_invitee(self.db, session, p) for p in people)
            addresses = [p.email for p in people] + [g.email for g in session.guests]
            for address in filter(None, addresses):
                shown.setdefault(address.lower(), set()).add(fact)
        return shown

    def check(self) -> dict:
        """Replay every message received so far into each person's calendar and compare."""
        stores = Mailboxes(self.smtp.received).replay()
        expected = self.expected()
        for address in set(stores) | set(expected):
            store = stores.get(address)
            assert store is None or store.ignored == [], (address, store.ignored)
            got = set()
            if store is not None:
                got = {
                    (o.start, o.end, o.summary, o.location or None) for o in store.events(*WINDOW)
                }
            assert got == expected.get(address, set()), address
        return stores


def received_by(smtp, address: str) -> int:
    return sum(1 for r in smtp.received if r.rcpt_tos[0].lower() == address.lower())


@pytest.fixture
def town(app, world, smtp):
    with app.app_context():
        yield Town(world, smtp)


def test_a_session_through_its_life_reaches_exactly_those_concerned(town):
    db, secretary = town.db, town.secretary
    session = scheduling.create_session(db, session_data(db, COORDINATION), by=secretary)
    agenda.add_item(
        db, session, agenda.ItemData(title="地域の見守り", body_id=session.host_body_id),
        by=secretary,
    )  # fmt: skip
    db.commit()
    assert town.smtp.received == []  # prepared: nothing goes out
    assert town.convene(session) > 0
    town.check()

    # A burst of edits: one message per person, saying what changed.
    member = next(i.person for i in scheduling.invitees(db, session) if i.person.email)
    before = received_by(town.smtp, member.email)
    data = session_data(db, COORDINATION, start=time(15), end=time(17), place="福祉センター")
    scheduling.update_session(db, session, data, by=secretary)
    scheduling.update_session(db, session, replace(data, title="定例会（変更）"), by=secretary)
    db.commit()
    town.send_due()
    assert received_by(town.smtp, member.email) == before + 1
    text = town.smtp.received[-1].message.get_body(("plain",)).get_content()
    assert "日時が変わりました" in text and "名称が変わりました" in text
    town.check()

    agenda.update_item(
        db, session.items[0], agenda.ItemData(title="見守りの仕組み", body_id=session.host_body_id),
        by=secretary,
    )  # fmt: skip
    town.send_now(session)
    town.check()

    scheduling.add_guest(
        db, session, name="来賓 一", email="guest.one@example.jp", organisation="", by=secretary
    )
    town.send_now(session)
    assert received_by(town.smtp, "guest.one@example.jp") == 1
    town.check()
    guest = db.scalars(select(Guest).where(Guest.email == "guest.one@example.jp")).one()
    scheduling.remove_guest(db, guest, by=secretary)
    town.send_now(session)
    assert received_by(town.smtp, "guest.one@example.jp") == 2
    town.check()

    # A body added, then taken away again.
    both = session_data(db, COORDINATION, LAYER2, start=time(15), end=time(17))
    both = replace(both, title=session.title, place=session.place)
    scheduling.update_session(db, session, both, by=secretary)
    town.send_now(session)
    town.check()
    alone = replace(both, body_ids=[session.host_body_id])
    scheduling.update_session(db, session, alone, by=secretary)
    town.send_now(session)
    town.check()

    # Selected members: the others' calendars lose it; all again: they get it back.
    coordination = body_named(db, COORDINATION)
    members = [i.person for i in scheduling.invitees(db, session)]
    chosen = [p.id for p in members[:2]]
    convening.set_selection(db, session, coordination.id, chosen, by=secretary)
    town.send_now(session)
    town.check()
    convening.set_selection(db, session, coordination.id, None, by=secretary)
    town.send_now(session)
    town.check()

    # A term ending before the session: batched with the body's other sessions.
    term = db.scalars(
        select(Membership).where(
            Membership.body_id == coordination.id, Membership.person_id == members[-1].id
        )
    ).first()
    memberships.end_membership(db, term, DAY - timedelta(days=1), by=secretary)
    town.send_due()
    town.check()

    scheduling.cancel_session(db, session, by=secretary, reason="台風の接近のため")
    town.send_now(session)
    stores = town.check()
    assert "台風の接近のため" in town.smtp.received[-1].message.get_body(("plain",)).get_content()
    assert all(not s.events(*WINDOW) for s in stores.values())


def test_a_series_with_moves_cancellations_a_split_and_bodies_reaches_everyone(town):
    db, secretary = town.db, town.secretary
    data = session_data(db, LAYER1, title="協議体 定例会")
    monthly = series.RepeatRule("monthly_by_weekday", count=6)
    made = series.create_series(db, data, monthly, by=secretary)
    db.commit()
    occurrences = sorted(made.sessions, key=lambda s: s.start_at)
    town.convene(occurrences[0])
    town.check()

    moved = occurrences[1]
    start = moved.start_at + timedelta(days=1)
    data_moved = replace(data, start=start, end=start + timedelta(hours=2))
    scheduling.update_session(db, moved, data_moved, by=secretary)
    town.send_now(moved)
    town.check()

    scheduling.cancel_session(db, occurrences[2], by=secretary, reason="会場の都合")
    town.send_now(occurrences[2])
    town.check()

    # One occurrence's bodies: the 第2層 members are convened to that one only.
    fourth = occurrences[3]
    both = session_data(db, LAYER1, LAYER2, title="協議体 定例会")
    both = replace(both, start=fourth.start_at, end=fourth.end_at)
    scheduling.update_session(db, fourth, both, by=secretary)
    town.send_now(fourth)
    town.check()

    # This and the following: the old series is shortened, the new one announced.
    fifth = occurrences[4]
    start = fifth.start_at + timedelta(hours=1)
    series.update_following(
        db, fifth, replace(data, start=start, end=start + timedelta(hours=2)), by=secretary
    )
    town.send_now(fifth)
    stores = town.check()

    # The feed and the session page's download show each member what their mail did.
    issuer = calendar.issuer(db, town.links, town.settings.sender)
    whole = {i.person.id for i in scheduling.invitees(db, occurrences[0])}
    for invitee in scheduling.invitees(db, fourth):  # the 第2層's members: that one alone
        person = invitee.person
        if not person.email or invitee.is_secretariat_only:
            continue
        fed = load_feed(feeds.render(db, person, issuer=issuer, name="Renkei"))
        assert fed.events(*WINDOW) == stores[person.email.lower()].events(*WINDOW)
        if person.id not in whole:
            continue
        theirs = [s for s in made.sessions if s.status == Status.CONVENED]
        downloaded = CalendarStore()
        uid = calendar.session_uid(theirs[0], issuer)
        downloaded.receive("PUBLISH", calendar.download(theirs, issuer, uid=uid))
        mailed = stores[person.email.lower()].events(*WINDOW)
        assert set(downloaded.events(*WINDOW)) <= set(mailed)


def test_a_poll_decided_into_a_session_is_convened_like_any_other(town):
    db, secretary = town.db, town.secretary
    support = body_named(db, SUPPORT)
    start = tokyo_to_utc(DAY + timedelta(days=7), time(10))
    slot = polls.SlotData(start=start, end=start + timedelta(hours=1))
    poll = polls.create_poll(
        db,
        polls.PollData(
            title="支援会議 日程", body_ids=[support.id], host_body_id=support.id, slots=[slot]
        ),
        by=secretary,
    )
    session = polls.decide(db, poll, poll.slots[0].id, by=secretary, place="本庁舎 3階")
    db.commit()
    assert session.status == Status.PREPARED
    town.convene(session)
    town.check()


def test_no_session_mail_goes_to_the_organizer_and_a_late_record_sends_nothing(town):
    db, secretary = town.db, town.secretary
    past = session_data(db, COORDINATION, day=DAY - timedelta(days=60))
    session = scheduling.create_session(db, past, by=secretary)
    db.commit()
    assert session.status == Status.HELD
    with pytest.raises(DomainError):
        notices.convene(db, session, by=secretary, **town.args)
    db.rollback()
    assert town.smtp.received == []
