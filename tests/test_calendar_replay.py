"""The calendar replay harness (tests/calendar_replay.py) on hand-written iCalendar objects:
it must keep what a strict calendar app keeps, and drop what it drops."""

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event, vCalAddress, vRecur

from tests.calendar_replay import (
    CalendarStore,
    Mailboxes,
    Occurrence,
    check_calendar,
    load_feed,
    parse_mail,
)
from tests.smtp import Received

TOKYO = ZoneInfo("Asia/Tokyo")
UID = "series-1@renkei.example.jp"
STAMP = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
WINDOW = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
LATER = timedelta(days=1)


def tokyo(month, day, hour=14, minute=0):
    return datetime(2025, month, day, hour, minute, tzinfo=TOKYO)


def vevent(start, *, sequence=0, stamp=STAMP, rid=None, rrule=None, status=None, uid=UID):
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(hours=2))
    event.add("sequence", sequence)
    event.add("summary", "定例会")
    event.add("location", "市役所 3階")
    event.add("organizer", vCalAddress("mailto:secretary@example.jp"))
    event.add("attendee", vCalAddress("mailto:member@example.jp"))
    if rid is not None:
        event.add("recurrence-id", rid)
    if rrule is not None:
        event.add("rrule", vRecur.from_ical(rrule))
    if status is not None:
        event.add("status", status)
    return event


def ics(method, *events):
    calendar = Calendar()
    calendar.add("prodid", "-//test//replay//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    for event in events:
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def replay(*messages):
    store = CalendarStore()
    for method, *events in messages:
        store.receive(method, ics(method, *events))
    return store


def starts(store, **options):
    return [o.start for o in store.events(*WINDOW, **options)]


def utc(moment):
    return moment.astimezone(UTC)


def test_an_update_with_a_higher_sequence_moves_the_event():
    store = replay(
        ("REQUEST", vevent(tokyo(4, 10))),
        ("REQUEST", vevent(tokyo(4, 17), sequence=1, stamp=STAMP + LATER)),
    )
    assert starts(store) == [utc(tokyo(4, 17))]
    assert store.ignored == []


def test_an_update_with_a_lower_sequence_is_ignored_and_recorded():
    store = replay(
        ("REQUEST", vevent(tokyo(4, 10), sequence=2)),
        ("REQUEST", vevent(tokyo(4, 17), sequence=1, stamp=STAMP + LATER)),
    )
    assert starts(store) == [utc(tokyo(4, 10))]
    [ignored] = store.ignored
    assert (ignored.method, ignored.uid, ignored.recurrence_id) == ("REQUEST", UID, None)
    assert "older" in ignored.reason


def test_with_the_same_sequence_the_later_dtstamp_wins():
    store = replay(
        ("REQUEST", vevent(tokyo(4, 10), sequence=1)),
        ("REQUEST", vevent(tokyo(4, 17), sequence=1, stamp=STAMP + LATER)),
        ("REQUEST", vevent(tokyo(4, 24), sequence=1, stamp=STAMP)),  # made before the last
    )
    assert starts(store) == [utc(tokyo(4, 17))]
    assert len(store.ignored) == 1


def test_a_monthly_series_with_one_occurrence_moved_and_one_cancelled():
    series = vevent(tokyo(4, 10), sequence=1, rrule="FREQ=MONTHLY;COUNT=6")
    moved = vevent(tokyo(6, 12, 10), sequence=2, stamp=STAMP + LATER, rid=tokyo(6, 10))
    cancelled = vevent(tokyo(8, 10), sequence=2, stamp=STAMP + LATER, rid=tokyo(8, 10))
    store = replay(("REQUEST", series), ("REQUEST", moved), ("CANCEL", cancelled))
    expected = [tokyo(4, 10), tokyo(5, 10), tokyo(6, 12, 10), tokyo(7, 10), tokyo(9, 10)]
    assert starts(store) == [utc(t) for t in expected]
    with_cancelled = store.events(*WINDOW, include_cancelled=True)
    assert [(o.start, o.cancelled) for o in with_cancelled if o.cancelled] == [
        (utc(tokyo(8, 10)), True)
    ]
    assert store.ignored == []


def test_a_series_replaced_by_a_shortened_rule_drops_later_instances_and_old_overrides():
    moved = vevent(tokyo(6, 12), sequence=1, rid=tokyo(6, 10))
    first = vevent(tokyo(4, 10), sequence=1, rrule="FREQ=MONTHLY;COUNT=6")
    until = tokyo(5, 10).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    shortened = vevent(
        tokyo(4, 10), sequence=2, stamp=STAMP + LATER, rrule=f"FREQ=MONTHLY;UNTIL={until}"
    )
    store = replay(("REQUEST", first, moved), ("REQUEST", shortened))
    assert starts(store) == [utc(tokyo(4, 10)), utc(tokyo(5, 10))]


def test_an_override_below_the_series_sequence_is_ignored():
    """The defect of issue 18: after a split, an occurrence cancelled or moved with its own,
    lower SEQUENCE is dropped by strict clients, which keep the old time."""
    series = vevent(tokyo(4, 10), sequence=3, rrule="FREQ=MONTHLY;COUNT=3")
    stale_move = vevent(tokyo(5, 20), sequence=1, stamp=STAMP + LATER, rid=tokyo(5, 10))
    stale_cancel = vevent(tokyo(6, 10), sequence=2, stamp=STAMP + LATER, rid=tokyo(6, 10))
    store = replay(("REQUEST", series), ("REQUEST", stale_move), ("CANCEL", stale_cancel))
    assert starts(store) == [utc(tokyo(4, 10)), utc(tokyo(5, 10)), utc(tokyo(6, 10))]
    assert [(i.method, i.recurrence_id) for i in store.ignored] == [
        ("REQUEST", utc(tokyo(5, 10))),
        ("CANCEL", utc(tokyo(6, 10))),
    ]
    assert all("below its series' 3" in i.reason for i in store.ignored)


def test_an_instance_named_in_utc_is_the_same_instance_as_in_tokyo():
    series = vevent(tokyo(4, 10), rrule="FREQ=MONTHLY;COUNT=2")
    moved = vevent(tokyo(5, 20), sequence=2, rid=tokyo(5, 10))
    older = vevent(tokyo(5, 21), sequence=1, stamp=STAMP + LATER, rid=utc(tokyo(5, 10)))
    store = replay(("REQUEST", series), ("REQUEST", moved), ("REQUEST", older))
    assert starts(store) == [utc(tokyo(4, 10)), utc(tokyo(5, 20))]
    assert [i.recurrence_id for i in store.ignored] == [utc(tokyo(5, 10))]


def test_an_override_in_the_same_message_is_judged_against_that_message_s_master():
    series = vevent(tokyo(4, 10), sequence=2, rrule="FREQ=MONTHLY;COUNT=2")
    stale = vevent(tokyo(5, 20), sequence=1, rid=tokyo(5, 10))
    store = replay(("REQUEST", stale, series))
    assert starts(store) == [utc(tokyo(4, 10)), utc(tokyo(5, 10))]
    assert [i.recurrence_id for i in store.ignored] == [utc(tokyo(5, 10))]


def test_cancel_of_the_whole_uid_empties_it_and_an_older_request_does_not_bring_it_back():
    store = replay(
        ("REQUEST", vevent(tokyo(4, 10), sequence=1, rrule="FREQ=MONTHLY;COUNT=3")),
        ("REQUEST", vevent(tokyo(5, 12), sequence=1, rid=tokyo(5, 10))),
        ("CANCEL", vevent(tokyo(4, 10), sequence=2, stamp=STAMP + LATER)),
    )
    assert store.events(*WINDOW, include_cancelled=True) == []
    store.receive("REQUEST", ics("REQUEST", vevent(tokyo(4, 10), sequence=1)))
    assert starts(store) == []
    assert len(store.ignored) == 1
    store.receive("REQUEST", ics("REQUEST", vevent(tokyo(4, 17), sequence=3, stamp=STAMP + LATER)))
    assert starts(store) == [utc(tokyo(4, 17))]


def test_a_publish_feed_with_a_cancelled_occurrence_as_a_status_cancelled_override():
    feed = ics(
        "PUBLISH",
        vevent(tokyo(4, 10), sequence=1, rrule="FREQ=MONTHLY;COUNT=3"),
        vevent(tokyo(5, 10), sequence=1, rid=tokyo(5, 10), status="CANCELLED"),
        vevent(tokyo(7, 1), uid="session-9@renkei.example.jp", status="CANCELLED"),
    )
    store = load_feed(feed)
    assert starts(store) == [utc(tokyo(4, 10)), utc(tokyo(6, 10))]
    cancelled = [o for o in store.events(*WINDOW, include_cancelled=True) if o.cancelled]
    assert [(o.uid, o.start) for o in cancelled] == [
        (UID, utc(tokyo(5, 10))),
        ("session-9@renkei.example.jp", utc(tokyo(7, 1))),
    ]
    assert store.ignored == []


def test_a_feed_naming_one_instance_twice_fails():
    twice = vevent(tokyo(5, 10), rid=tokyo(5, 10))
    with pytest.raises(AssertionError, match="twice"):
        load_feed(ics("PUBLISH", vevent(tokyo(4, 10), rrule="FREQ=MONTHLY"), twice, twice))


def test_times_in_tokyo_with_their_vtimezone_compare_equal_to_utc():
    message = ics("REQUEST", vevent(tokyo(4, 10, 9, 30)))
    assert b"BEGIN:VTIMEZONE" in message and b"TZID=Asia/Tokyo:20250410T093000" in message
    store = CalendarStore()
    store.receive("REQUEST", message)
    assert store.events(*WINDOW) == [
        Occurrence(
            uid=UID,
            start=datetime(2025, 4, 10, 0, 30, tzinfo=UTC),
            end=datetime(2025, 4, 10, 2, 30, tzinfo=UTC),
            summary="定例会",
            location="市役所 3階",
            cancelled=False,
        )
    ]
    assert set(store.timezones) == {"Asia/Tokyo"}


def test_check_calendar_refuses_what_rfc_5546_requires():
    event = vevent(tokyo(4, 10))
    del event["ORGANIZER"]
    with pytest.raises(AssertionError, match="ORGANIZER"):
        check_calendar(ics("REQUEST", event))
    with pytest.raises(AssertionError, match="unparsable"):
        check_calendar(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VCALENDAR\r\n")
    floating = vevent(tokyo(4, 10))
    floating["DTSTAMP"].dt = datetime(2025, 3, 1, 9, 0)
    with pytest.raises(AssertionError, match="UTC"):
        check_calendar(ics("REQUEST", floating))
    assert check_calendar(ics("CANCEL", vevent(tokyo(4, 10))))["METHOD"] == "CANCEL"


def imip_message(
    method="REQUEST", event=None, *, inline=None, attached=None, to="Member@Example.jp"
):
    """The iMIP structure (RFC 6047) as Exchange sends it."""
    calendar = ics(method, event or vevent(tokyo(4, 10)))
    message = EmailMessage()
    message["To"] = to
    message["From"] = "renkei@example.jp"
    message["Subject"] = "【招集】第3回 定例会 のご案内"
    message.set_content("次の会議を開催します。")
    # Inline as text (quoted-printable), attached as bytes (base64), as Exchange does.
    inline = (inline or calendar).decode()
    message.add_alternative(inline, subtype="calendar", params={"method": method})
    message.add_attachment(
        attached or calendar, maintype="application", subtype="ics", filename="invite.ics"
    )
    return message.as_bytes()


def test_parse_mail_reads_the_imip_structure():
    raw = imip_message()
    assert b"multipart/alternative" in raw and b"application/ics" in raw
    mail = parse_mail(raw)
    assert mail.recipient == "member@example.jp"
    assert mail.subject == "【招集】第3回 定例会 のご案内"
    assert mail.body.strip() == "次の会議を開催します。"
    assert mail.method == "REQUEST"
    assert b"UID:series-1@renkei.example.jp" in mail.ics


def test_parse_mail_reads_text_with_a_calendar_attachment():
    message = EmailMessage()
    message["To"] = "member@example.jp"
    message["Subject"] = "中止のお知らせ"
    message.set_content("会議は中止になりました。")
    message.add_attachment(
        ics("CANCEL", vevent(tokyo(4, 10), sequence=1)),
        maintype="text",
        subtype="calendar",
        filename="cancel.ics",
        params={"method": "CANCEL"},
    )
    mail = parse_mail(message.as_bytes())
    assert (mail.method, mail.subject) == ("CANCEL", "中止のお知らせ")


def test_parse_mail_refuses_calendar_parts_that_disagree():
    with pytest.raises(AssertionError, match="differ"):
        parse_mail(imip_message(attached=ics("REQUEST", vevent(tokyo(4, 11)))))
    cancel = ics("CANCEL", vevent(tokyo(4, 10)))
    with pytest.raises(AssertionError, match="method=REQUEST but the VCALENDAR says CANCEL"):
        parse_mail(imip_message(inline=cancel, attached=cancel))


def test_mailboxes_replay_each_recipient_s_messages_in_order_of_arrival():
    plain = EmailMessage()
    plain["To"] = "member@example.jp"
    plain["Subject"] = "パスワードの再設定"
    plain.set_content("no calendar here")
    moved = vevent(tokyo(4, 17), sequence=1, stamp=STAMP + LATER)
    received = [
        Received("renkei@example.jp", ["Member@example.jp"], imip_message()),
        Received("renkei@example.jp", ["member@example.jp"], plain.as_bytes()),
        Received("renkei@example.jp", ["other@example.jp"], imip_message(to="other@example.jp")),
        Received("renkei@example.jp", ["member@example.jp"], imip_message(event=moved)),
    ]
    boxes = Mailboxes(received)
    assert [m.method for m in boxes.mails["member@example.jp"]] == ["REQUEST", None, "REQUEST"]
    stores = boxes.replay()
    assert starts(stores["member@example.jp"]) == [utc(tokyo(4, 17))]
    assert starts(stores["other@example.jp"]) == [utc(tokyo(4, 10))]


def test_mailboxes_refuse_a_message_to_several_recipients():
    both = Received("renkei@example.jp", ["a@example.jp", "b@example.jp"], imip_message())
    with pytest.raises(AssertionError, match="one recipient"):
        Mailboxes([both])
