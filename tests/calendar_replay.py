"""Replaying every calendar e-mail a person received, as a strict calendar app would.

``parse_mail`` reads one message as the test SMTP server keeps it (tests/smtp.py) and
``check_calendar`` checks its iCalendar object with two independent parsers. ``CalendarStore``
is one person's calendar: fed the iTIP messages in the order they arrived, it keeps per UID a
master VEVENT and its overrides by RECURRENCE-ID, by the rules of RFC 5546 on SEQUENCE and
DTSTAMP, and ``events`` expands what it holds with recurring-ical-events. ``Mailboxes`` groups
what the server received by recipient and replays each mailbox into a store.

What a strict client drops, this drops too, and notes in ``CalendarStore.ignored``: a
component older than the one held, and an override whose SEQUENCE is below its series'.
A well-behaved server sends nothing a client would drop, so a test can assert it is empty.
"""

import copy
import email
import email.policy
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

import icalendar
import recurring_ical_events
import vobject

from tests.smtp import Received

CALENDAR_TYPES = ("text/calendar", "application/ics")

# The VEVENT properties each METHOD requires (RFC 5546 3.2; DTSTART may be left out of a
# CANCEL). SEQUENCE is required even at 0, stricter than the RFC. A file without METHOD is
# a plain iCalendar object (RFC 5545 3.6.1).
REQUIRED = {
    None: {"UID", "DTSTAMP", "DTSTART"},
    "PUBLISH": {"UID", "DTSTAMP", "DTSTART", "SUMMARY"},
    "REQUEST": {"UID", "DTSTAMP", "DTSTART", "SUMMARY", "SEQUENCE", "ORGANIZER", "ATTENDEE"},
    "CANCEL": {"UID", "DTSTAMP", "SEQUENCE", "ORGANIZER", "ATTENDEE"},
}

# (SEQUENCE, DTSTAMP): RFC 5546 2.1.5 orders two versions of a component by SEQUENCE, then
# by DTSTAMP, which tuple comparison does. A version equal to the one held wins (a resend).
Version = tuple[int, datetime]
RecurrenceKey = date | datetime


def check_calendar(ics: bytes) -> icalendar.Calendar:
    """Parse ``ics`` with icalendar and with vobject and check the properties RFC 5546
    requires of its METHOD; raise AssertionError saying what is wrong."""
    text = ics.decode("utf-8", errors="replace")
    try:
        calendar = icalendar.Calendar.from_ical(ics)
        vobject.readOne(ics.decode("utf-8"))
    except Exception as error:
        raise AssertionError(f"unparsable calendar ({error!r}):\n{text}") from error
    errors = [(c.name, e) for c in calendar.walk() for e in c.errors]
    assert not errors, f"icalendar could not read some values {errors}:\n{text}"
    method = _method(calendar)
    assert method in REQUIRED, f"unexpected METHOD:{method}"
    events = calendar.walk("VEVENT")
    assert events, f"no VEVENT in the calendar:\n{text}"
    for event in events:
        missing = REQUIRED[method] - set(event)
        assert not missing, f"METHOD:{method}, VEVENT {event.get('UID')} lacks {sorted(missing)}"
        stamp = event.decoded("DTSTAMP")
        assert isinstance(stamp, datetime) and stamp.utcoffset() == timedelta(0), (
            f"DTSTAMP must be in UTC (RFC 5545 3.8.7.2), not {stamp!r}"
        )
    return calendar


@dataclass(frozen=True)
class CalendarMail:
    recipient: str  # the To address, lower-cased
    subject: str
    body: str  # the text/plain part
    method: str | None  # None (and ics None): the message carries no calendar
    ics: bytes | None


def parse_mail(raw: bytes) -> CalendarMail:
    """Read a whole RFC 5322 message: text/plain with a ``text/calendar; method=...``
    attachment, or the iMIP structure (RFC 6047): multipart/alternative [text/plain, inline
    text/calendar] in multipart/mixed with an application/ics attachment. Every calendar part
    must carry the same VCALENDAR, and its METHOD the Content-Type's method parameter."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    (to,) = message["To"].addresses
    texts = [
        p for p in message.walk() if p.get_content_type() == "text/plain" and not p.is_attachment()
    ]
    assert len(texts) == 1, f"expected one text/plain part, found {len(texts)}"
    parts = [p for p in message.walk() if p.get_content_type() in CALENDAR_TYPES]
    ics, method = _calendar_of(parts) if parts else (None, None)
    return CalendarMail(
        to.addr_spec.lower(), str(message["Subject"]), texts[0].get_content(), method, ics
    )


def _calendar_of(parts: list[EmailMessage]) -> tuple[bytes, str]:
    payloads = [p.get_payload(decode=True) for p in parts]
    # Compared by content: a text part's line ends may differ from a base64 part's.
    assert len({p.replace(b"\r\n", b"\n") for p in payloads}) == 1, (
        f"the calendar parts differ ({[p.get_content_type() for p in parts]})"
    )
    method = _method(check_calendar(payloads[0]))
    assert method, "an e-mailed calendar says its METHOD (RFC 6047 2.4)"
    for part in parts:
        # RFC 6047 2.4: text/calendar carries the method parameter, equal to METHOD.
        if part.get_content_type() == "text/calendar" or part.get_param("method"):
            given = part.get_param("method")
            assert given and given.upper() == method, (
                f"{part.get_content_type()}; method={given} but the VCALENDAR says {method}"
            )
    return payloads[0], method


def _method(calendar: icalendar.Calendar) -> str | None:
    return str(calendar["METHOD"]).upper() if "METHOD" in calendar else None


@dataclass(frozen=True)
class Occurrence:
    uid: str
    start: datetime  # aware, in UTC
    end: datetime
    summary: str
    location: str | None
    cancelled: bool


@dataclass(frozen=True)
class Ignored:
    """A component the store dropped, and why."""

    method: str
    uid: str
    recurrence_id: RecurrenceKey | None
    reason: str


@dataclass
class Entry:
    """What a calendar holds of one UID."""

    master: icalendar.Event | None = None
    overrides: dict[RecurrenceKey, icalendar.Event] = field(default_factory=dict)
    removed: Version | None = None  # the CANCEL that took the whole UID away

    def version(self) -> Version | None:
        """What a new master must not be older than: the master's or the cancellation's;
        with neither, the newest override's (an old series never wipes newer news)."""
        if self.master is not None:
            return version(self.master)
        return self.removed or max(map(version, self.overrides.values()), default=None)

    def floor(self) -> int:
        """The lowest SEQUENCE an override may have: its series'."""
        held = version(self.master) if self.master is not None else self.removed
        return held[0] if held else 0

    def components(self) -> list[icalendar.Event]:
        return [c for c in (self.master, *self.overrides.values()) if c is not None]


def version(event: icalendar.Event) -> Version:
    return int(event.get("SEQUENCE", 0)), event.decoded("DTSTAMP")


def recurrence_key(event: icalendar.Event) -> RecurrenceKey:
    """RECURRENCE-ID, in UTC for readable records (the same instant named in any zone
    compares and hashes equal anyway)."""
    assert "RANGE" not in event["RECURRENCE-ID"].params, "RANGE=THISANDFUTURE: not supported"
    value = event.decoded("RECURRENCE-ID")
    return value.astimezone(UTC) if isinstance(value, datetime) and value.tzinfo else value


class CalendarStore:
    """One person's calendar app, fed with ``receive`` in the order messages arrived."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}
        self.timezones: dict[str, icalendar.Timezone] = {}
        self.ignored: list[Ignored] = []

    def receive(self, method: str, ics: bytes) -> None:
        calendar = icalendar.Calendar.from_ical(ics)
        method = method.upper()
        assert _method(calendar) in (None, method), f"METHOD {_method(calendar)} sent as {method}"
        assert method in ("REQUEST", "CANCEL", "PUBLISH"), f"a client gets no METHOD:{method}"
        for timezone in calendar.walk("VTIMEZONE"):
            self.timezones[str(timezone["TZID"])] = timezone
        # Masters first: an override is judged against the master of its own message.
        for event in sorted(calendar.walk("VEVENT"), key=lambda e: "RECURRENCE-ID" in e):
            if "RECURRENCE-ID" in event:
                self._override(method, event)
            else:
                self._master(method, event)

    def _master(self, method: str, event: icalendar.Event) -> None:
        """A new master replaces everything held for its UID; CANCEL removes the UID."""
        uid = str(event["UID"])
        held = self.entries.get(uid, Entry())
        if self._accepts(method, event, held.version(), floor=0):
            cancel = method == "CANCEL"
            self.entries[uid] = Entry(removed=version(event)) if cancel else Entry(master=event)

    def _override(self, method: str, event: icalendar.Event) -> None:
        """An override replaces the one held for its instance; a CANCEL is kept as a
        STATUS:CANCELLED override (which ``events`` leaves out unless asked)."""
        entry = self.entries.setdefault(str(event["UID"]), Entry())
        key = recurrence_key(event)
        held = entry.overrides.get(key)
        held_version = version(held) if held is not None else None
        if self._accepts(method, event, held_version, floor=entry.floor()):
            entry.overrides[key] = _cancelled(event) if method == "CANCEL" else event

    def _accepts(
        self, method: str, event: icalendar.Event, held: Version | None, floor: int
    ) -> bool:
        new = version(event)
        if held is not None and new < held:
            reason = f"SEQUENCE/DTSTAMP {new} older than the held {held}"
        elif new[0] < floor:
            reason = f"SEQUENCE {new[0]} below its series' {floor}"
        else:
            return True
        rid = recurrence_key(event) if "RECURRENCE-ID" in event else None
        self.ignored.append(Ignored(method, str(event["UID"]), rid, reason))
        return False

    def events(
        self, start: datetime, end: datetime, *, include_cancelled: bool = False
    ) -> list[Occurrence]:
        """Every occurrence between ``start`` and ``end``, sorted by start."""
        found = []
        for uid, entry in self.entries.items():
            components = entry.components()
            if not components:
                continue
            calendar = icalendar.Calendar()
            for component in (*self.timezones.values(), *components):
                calendar.add_component(component)
            found += [
                _occurrence(uid, e) for e in recurring_ical_events.of(calendar).between(start, end)
            ]
        found = [o for o in found if include_cancelled or not o.cancelled]
        return sorted(found, key=lambda o: (o.start, o.end, o.uid, o.summary))


def _cancelled(event: icalendar.Event) -> icalendar.Event:
    """The instance a CANCEL names, kept as cancelled (at its RECURRENCE-ID if the CANCEL
    does not say when, which RFC 5546 allows)."""
    event = copy.deepcopy(event)
    event["STATUS"] = "CANCELLED"
    if "DTSTART" not in event:
        event.add("DTSTART", event.decoded("RECURRENCE-ID"))
    return event


def _occurrence(uid: str, event: icalendar.Event) -> Occurrence:
    location = event.get("LOCATION")
    return Occurrence(
        uid=uid,
        start=_utc(event.start),
        end=_utc(event.end),
        summary=str(event.get("SUMMARY", "")),
        location=str(location) if location is not None else None,
        cancelled=str(event.get("STATUS", "")).upper() == "CANCELLED",
    )


def _utc(value: date | datetime) -> datetime:
    assert isinstance(value, datetime) and value.tzinfo is not None, (
        f"{value!r}: a date or floating time, which each reader's calendar places differently"
    )
    return value.astimezone(UTC)


def load_feed(ics: bytes) -> CalendarStore:
    """A store built from scratch from a feed or downloaded file (METHOD:PUBLISH or none)."""
    calendar = check_calendar(ics)
    keys = [
        (str(e["UID"]), recurrence_key(e) if "RECURRENCE-ID" in e else None)
        for e in calendar.walk("VEVENT")
    ]
    assert len(keys) == len(set(keys)), f"a UID and RECURRENCE-ID twice in the feed: {keys}"
    store = CalendarStore()
    store.receive(_method(calendar) or "PUBLISH", ics)
    return store


class Mailboxes:
    """Every message the test SMTP server received, by recipient, in order of arrival."""

    def __init__(self, received: Iterable[Received]) -> None:
        self.mails: dict[str, list[CalendarMail]] = {}
        for item in received:
            assert len(item.rcpt_tos) == 1, f"one recipient per message, not {item.rcpt_tos}"
            address = item.rcpt_tos[0].lower()
            mail = parse_mail(item.content)
            assert mail.recipient == address, f"sent to {address}, addressed to {mail.recipient}"
            self.mails.setdefault(address, []).append(mail)

    def replay(self) -> dict[str, CalendarStore]:
        """Each recipient's calendar after every calendar they received (each checked with
        ``check_calendar`` when read); messages without a calendar change nothing."""
        stores = {}
        for address, mails in self.mails.items():
            stores[address] = store = CalendarStore()
            for mail in mails:
                if mail.method and mail.ics:
                    store.receive(mail.method, mail.ics)
        return stores
