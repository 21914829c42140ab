"""Calendar files, read back with a second, independent parser (vobject)."""

from datetime import time, timedelta

import pytest
import vobject
from sqlalchemy.orm import object_session

from renkei.db import utcnow
from renkei.models import AgendaItem, Visibility
from renkei.services import calendar, installation, scheduling, series
from renkei.services.dates import TOKYO, tokyo_to_utc
from tests.helpers import body_named, person_by_email
from tests.sessions_helpers import DAY, LAYER1, SUPPORT, make_session, session_data

CANARY = "CANARY-秘密の事例"


def parse(content: bytes):
    return vobject.readOne(content.decode("utf-8"))


def recipient(world, email="member.both@example.jp"):
    person = person_by_email(world, email)
    return calendar.Recipient(person.name, person.email, person)


@pytest.fixture
def joint(world):
    session = make_session(world, SUPPORT, LAYER1)
    items = [
        ("開会", LAYER1, Visibility.PUBLIC),
        ("地域資源の共有", LAYER1, Visibility.SESSION),
        (CANARY, SUPPORT, Visibility.CONFIDENTIAL),
    ]
    for position, (title, body, visibility) in enumerate(items, start=1):
        world.add(
            AgendaItem(
                session=session,
                body=body_named(world, body),
                position=position,
                title=title,
                description=CANARY,
                visibility=visibility,
            )
        )
    world.commit()
    return session


SENDER = "renkei@renkei.example.jp"


def invite(session, who, links, answer=None):
    issuer = calendar.issuer(object_session(session), links, SENDER)
    uid = calendar.session_uid(session, issuer)
    return calendar.request([session], who, issuer, uid=uid, answer=answer, dtstamp=utcnow())


def uid(world, kind, number):
    return f"{kind}-{number}@{installation.uid_domain(world)}"


def test_invite_times_uid_attendee_and_timezone(world, joint, links):
    content = invite(joint, recipient(world), links, answer="attend")
    parsed = parse(content)
    assert parsed.method.value == "REQUEST"
    event = parsed.vevent
    assert event.dtstart.value == tokyo_to_utc(DAY, time(14)).astimezone(TOKYO)
    assert event.dtstart.value.utcoffset() == timedelta(hours=9)
    assert f"DTSTART;TZID=Asia/Tokyo:{DAY:%Y%m%d}T140000\r\n".encode() in content
    assert event.uid.value == uid(world, "session", joint.id)
    assert not event.uid.value.endswith("@renkei.example.jp")  # the install's, not BASE_URL's
    assert event.sequence.value == "0"
    assert event.organizer.value == f"mailto:{SENDER}"
    assert event.organizer.params["CN"][0].startswith(joint.host_body.name)  # its secretariat
    assert event.attendee.value == "mailto:member.both@example.jp"
    assert event.attendee.params["PARTSTAT"] == ["ACCEPTED"]
    assert parsed.vtimezone.tzid.value == "Asia/Tokyo"


def test_an_invite_carries_public_titles_only_whoever_receives_it(world, joint, links):
    """A calendar syncs to services the town does not control: the attendees' item and the
    confidential one are 非公開議題 even for the secretary entitled to both; the page link
    is there for the rest."""
    secretary = recipient(world, "secretary@example.jp")  # entitled, with or without pledge
    guest = calendar.Recipient("外部 講師", "guest@example.jp")
    for who in (secretary, recipient(world), guest):
        content = invite(joint, who, links)
        assert CANARY.encode() not in content
        description = parse(content).vevent.description.value
        assert description.count("非公開議題") + description.count("Closed agenda item") == 2
        assert "地域資源の共有" not in description
        assert "開会" in description
        assert links.session(joint.id) in description


def test_long_japanese_lines_fold_without_splitting_a_character(world, joint, links):
    joint.place = "みどり町役場" * 30
    content = invite(joint, recipient(world), links)
    assert content.count(b"\r\n") == content.count(b"\n")  # every line ends with CRLF
    for line in content.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # a fold inside a character would not decode
    assert parse(content).vevent.location.value == "みどり町役場" * 30


def test_a_cancellation_withdraws_the_uid_with_the_sequence_given(world, joint, links):
    issuer = calendar.issuer(world, links, SENDER)
    gone = calendar.Withdrawn(
        uid=uid(world, "session", joint.id),
        title=joint.title,
        start=joint.start_at,
        end=joint.end_at,
        recurrence_id=None,
    )
    content = calendar.cancel(
        [gone], recipient(world), issuer, organizer_body="支援会議", sequence=3, dtstamp=utcnow()
    )
    parsed = parse(content)
    assert parsed.method.value == "CANCEL"
    assert parsed.vevent.status.value == "CANCELLED"
    assert parsed.vevent.sequence.value == "3"
    assert parsed.vevent.uid.value == uid(world, "session", joint.id)
    assert not hasattr(parsed.vevent, "recurrence_id")


def test_series_rrule_exdate_and_moved_occurrence(world, links):
    secretary = person_by_email(world, "secretary@example.jp")
    created = series.create_series(
        world,
        session_data(world, SUPPORT),
        series.RepeatRule(frequency="weekly", count=4),
        by=secretary,
    )
    first, second, third, fourth = created.sessions
    scheduling.cancel_session(world, second, by=secretary)
    moved = session_data(world, SUPPORT, day=DAY + timedelta(days=15), start=time(10), end=time(12))
    scheduling.update_session(world, third, moved, by=secretary)
    world.commit()

    issuer = calendar.issuer(world, links, SENDER)
    content = calendar.request(
        [first, third, fourth],
        recipient(world),
        issuer,
        uid=calendar.session_uid(first, issuer),
        answer=None,
        dtstamp=utcnow(),
    )
    parsed = parse(content)
    master, override = parsed.vevent_list
    assert master.uid.value == override.uid.value == uid(world, "series", created.id)
    starts = [d.astimezone(TOKYO) for d in master.getrruleset()]
    assert [s.date() for s in starts] == [DAY, DAY + timedelta(weeks=2), DAY + timedelta(weeks=3)]
    assert override.recurrence_id.value == third.original_start.astimezone(TOKYO)
    assert override.dtstart.value.astimezone(TOKYO).date() == DAY + timedelta(days=15)
    assert override.dtstart.value.astimezone(TOKYO).time() == time(10)


def test_an_occurrence_alone_goes_under_its_own_uid_without_the_rule(world, links):
    """Someone convened to one occurrence only (their body joined it) is sent it under the
    occurrence's own UID: no RRULE, no RECURRENCE-ID, nothing of the other occurrences."""
    secretary = person_by_email(world, "secretary@example.jp")
    created = series.create_series(
        world, session_data(world, SUPPORT), series.RepeatRule("weekly", count=3), by=secretary
    )
    second = created.sessions[1]
    second.sequence = 2
    issuer = calendar.issuer(world, links, SENDER)
    uid = calendar.occurrence_uid(second, issuer)
    content = calendar.request([second], recipient(world), issuer, uid=uid, answer=None,
                               dtstamp=utcnow())  # fmt: skip
    event = parse(content).vevent
    assert event.uid.value == f"session-{second.id}@{installation.uid_domain(world)}"
    assert b"RRULE" not in content and b"RECURRENCE-ID" not in content
    assert event.sequence.value == "2"
