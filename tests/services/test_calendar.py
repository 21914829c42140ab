"""Calendar files, read back with a second, independent parser (vobject)."""

from datetime import date, time, timedelta

import pytest
import vobject

from renkei.models import AgendaItem, Visibility
from renkei.services import calendar, scheduling, series
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


def invite(session, who, links, answer=None):
    return calendar.invite(session, who, organizer=None, answer=answer, links=links)


def test_invite_times_uid_attendee_and_timezone(world, joint, links):
    content = invite(joint, recipient(world), links, answer="attend")
    parsed = parse(content)
    assert parsed.method.value == "REQUEST"
    event = parsed.vevent
    assert event.dtstart.value == tokyo_to_utc(DAY, time(14)).astimezone(TOKYO)
    assert event.dtstart.value.utcoffset() == timedelta(hours=9)
    assert b"DTSTART;TZID=Asia/Tokyo:20261210T140000\r\n" in content
    assert event.uid.value == f"session-{joint.id}@renkei.example.jp"
    assert event.sequence.value == "0"
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


def test_cancel_is_method_cancel_with_a_higher_sequence(world, joint, links):
    secretary = person_by_email(world, "secretary@example.jp")
    before = int(parse(invite(joint, recipient(world), links)).vevent.sequence.value)
    scheduling.cancel_session(world, joint, by=secretary)
    parsed = parse(invite(joint, recipient(world), links))
    assert parsed.method.value == "CANCEL"
    assert parsed.vevent.status.value == "CANCELLED"
    assert int(parsed.vevent.sequence.value) > before
    assert parsed.vevent.uid.value == f"session-{joint.id}@renkei.example.jp"


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

    content = calendar.series_invite(
        created, recipient(world), organizer=None, answer=None, links=links
    )
    parsed = parse(content)
    master, override = parsed.vevent_list
    assert master.uid.value == override.uid.value == f"series-{created.id}@renkei.example.jp"
    starts = [d.astimezone(TOKYO) for d in master.getrruleset()]
    assert [s.date() for s in starts] == [DAY, DAY + timedelta(weeks=2), DAY + timedelta(weeks=3)]
    assert override.recurrence_id.value == third.original_start.astimezone(TOKYO)
    assert override.dtstart.value.astimezone(TOKYO).date() == DAY + timedelta(days=15)
    assert override.dtstart.value.astimezone(TOKYO).time() == time(10)


def test_one_moved_occurrence_is_sent_with_its_recurrence_id(world, links):
    secretary = person_by_email(world, "secretary@example.jp")
    created = series.create_series(
        world, session_data(world, SUPPORT), series.RepeatRule("weekly", count=3), by=secretary
    )
    occurrence = created.sessions[1]
    original = occurrence.original_start
    scheduling.update_session(
        world, occurrence, session_data(world, SUPPORT, day=date(2026, 12, 18)), by=secretary
    )
    event = parse(invite(occurrence, recipient(world), links)).vevent
    assert event.recurrence_id.value == original.astimezone(TOKYO)
    assert event.uid.value == f"series-{created.id}@renkei.example.jp"
    assert event.sequence.value == "1"


def test_cutting_a_series_short_raises_its_sequence(world, links):
    secretary = person_by_email(world, "secretary@example.jp")
    created = series.create_series(
        world, session_data(world, SUPPORT), series.RepeatRule("weekly", count=4), by=secretary
    )
    before = parse(
        calendar.series_invite(created, recipient(world), organizer=None, answer=None, links=links)
    ).vevent.sequence.value
    third = created.sessions[2]
    series.update_following(
        world,
        third,
        session_data(world, SUPPORT, day=DAY + timedelta(weeks=2), place="公民館"),
        by=secretary,
    )
    after = parse(
        calendar.series_invite(created, recipient(world), organizer=None, answer=None, links=links)
    )
    assert int(after.vevent.sequence.value) > int(before)
    assert len(list(after.vevent.getrruleset())) == 2
