"""iCalendar files: an invitation or cancellation per session and invitee, and personal feeds.

A calendar file carries public item titles only, whoever receives it: calendar apps are
shared, synced to services the municipality does not control, and previewed. The agenda in
DESCRIPTION is worked out by the policy module (``policy.calendar_access``): every other
item appears only as 非公開議題, and the session page it links to shows the rest to those
entitled.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Protocol

from icalendar import Calendar, Event, Timezone, vCalAddress, vDDDTypes, vRecur, vText
from sqlalchemy.orm import Session

from renkei.i18n import gettext as _
from renkei.i18n import labelled
from renkei.links import Links
from renkei.models import Answer, MeetingSession, Person, Series, Status
from renkei.services import installation, policy
from renkei.services.dates import in_tokyo

PRODID = "-//Renkei//Joint meetings of welfare bodies//JA"

PARTSTAT: dict[Answer | None, str] = {
    Answer.ATTEND: "ACCEPTED",
    Answer.PROXY: "DELEGATED",
    Answer.ABSENT: "DECLINED",
    Answer.UNDECIDED: "TENTATIVE",
}


@dataclass
class Recipient:
    """Who a file is for: a member (``person``) or a guest (name and address only). What
    the file carries does not depend on it."""

    name: str
    email: str
    person: Person | None = None


@dataclass(frozen=True)
class Issuer:
    """Who issues calendar objects, the same in e-mail, downloads and feeds, so that a
    calendar app sees one event however it came: the install's UID domain (stable whatever
    BASE_URL says, ``services.installation``), Renkei's sender address as the ORGANIZER, and
    the links to the pages."""

    links: Links
    uid_domain: str
    address: str


def issuer(db: Session, links: Links, sender: str) -> Issuer:
    return Issuer(links, installation.uid_domain(db), sender)


def session_uid(session: MeetingSession, issuer: Issuer) -> str:
    """Stable per session; a series shares one UID, its occurrences told apart by
    RECURRENCE-ID."""
    if session.series_id is not None:
        return f"series-{session.series_id}@{issuer.uid_domain}"
    return occurrence_uid(session, issuer)


def occurrence_uid(session: MeetingSession, issuer: Issuer) -> str:
    """A session's own UID: a one-off's, or an occurrence's for those convened to some
    occurrences of its series only, who must not be sent the series' rule (it would show
    them the other occurrences, which may be another body's to know)."""
    return f"session-{session.id}@{issuer.uid_domain}"


def is_series_uid(uid: str) -> bool:
    return uid.startswith("series-")


def sequence_of(session: MeetingSession, uid: str) -> int:
    """The SEQUENCE of ``uid``: the series' for the series' UID (every message about any
    occurrence speaks for the one UID), else the session's own."""
    if is_series_uid(uid) and session.series is not None:
        return session.series.sequence
    return session.sequence


def agenda_lines(session: MeetingSession) -> list[str]:
    """The agenda as a calendar file or e-mail may carry it ("3. 非公開議題 (40 min)"): the
    policy's calendar rule, so public titles only, whoever receives it."""
    access = policy.calendar_access(session)
    # Translated once per session, not per item: a feed may carry ten thousand items.
    closed, minutes = _("Closed agenda item"), _(" (%(n)d min)")
    lines = []
    for item in session.items:
        title = item.title if access.can_see_item(item) else closed
        planned = minutes % {"n": item.planned_minutes} if item.planned_minutes else ""
        lines.append(f"{item.position}. {title}{planned}")
    return lines


def _description(session: MeetingSession, links: Links) -> str:
    lines = agenda_lines(session)
    parts = [" / ".join(b.name for b in session.bodies)]
    if lines:
        parts.append(_("Agenda") + "\n" + "\n".join(lines))
    if session.online_url:
        parts.append(labelled(_("Online meeting link"), session.online_url))
    parts.append(links.session(session.id))
    return "\n\n".join(parts)


def _event(
    session: MeetingSession, issuer: Issuer, *, sequence: int, dtstamp: datetime | None = None
) -> Event:
    event = Event()
    event.add("uid", session_uid(session, issuer))
    # A message's DTSTAMP is when it was made; a download's or feed's, when this version of
    # the session was (the same text for the same state, so a feed can be kept and reused).
    event.add("dtstamp", dtstamp or session.updated_at)
    event.add("dtstart", in_tokyo(session.start_at))
    event.add("dtend", in_tokyo(session.end_at))
    event.add("sequence", sequence)
    event.add("summary", session.title)
    if session.place:
        event.add("location", session.place)
    if session.online_url:
        event.add("url", session.online_url)
    event.add("description", _description(session, issuer.links))
    event.add("last-modified", session.updated_at)
    event.add("status", "CANCELLED" if session.status == Status.CANCELLED else "CONFIRMED")
    _organizer(event, session.host_body.name, issuer)
    return event


def _organizer(event: Event, body_name: str, issuer: Issuer) -> None:
    """The host body's secretariat at Renkei's address: the same for every message,
    download and feed of the session, whoever of the secretariat made the change (a
    calendar app takes a new ORGANIZER for another event)."""
    value = vCalAddress(f"mailto:{issuer.address}")
    value.params["cn"] = vText(_("%(body)s secretariat", body=body_name))
    event.add("organizer", value)


def _attendee(event: Event, recipient: Recipient, answer: Answer | None) -> None:
    value = vCalAddress(f"mailto:{recipient.email}")
    value.params["cn"] = vText(recipient.name)
    value.params["role"] = vText("REQ-PARTICIPANT")
    value.params["partstat"] = vText(PARTSTAT.get(answer, "NEEDS-ACTION"))
    value.params["rsvp"] = vText("FALSE")
    event.add("attendee", value)


def _calendar(method: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    return calendar


def _finish(calendar: Calendar) -> bytes:
    calendar.add_missing_timezones()
    ical: bytes = calendar.to_ical()  # icalendar leaves it unannotated
    return ical


def series_events(
    occurrences: list[MeetingSession],
    issuer: Issuer,
    *,
    shown: Callable[[MeetingSession], bool],
    sequence: int,
    dtstamp: datetime | None = None,
    cancelled_shown: bool = False,
) -> list[Event]:
    """One VEVENT with RRULE for the series, plus one per occurrence that differs from the
    rule and the first occurrence, with its RECURRENCE-ID. Occurrences not ``shown`` to this
    person (not convened, or cancelled) are EXDATEs; with ``cancelled_shown`` (a feed), a
    cancelled occurrence the person was convened to stays, marked STATUS:CANCELLED."""
    occurrences = sorted(occurrences, key=lambda s: s.rule_start)
    first = occurrences[0]
    series = first.series
    assert series is not None
    master = _event(first, issuer, sequence=sequence, dtstamp=dtstamp)
    # The master carries the rule's own times, even when its first occurrence was moved.
    master["dtstart"] = vDDDTypes(in_tokyo(first.rule_start))
    master["dtend"] = vDDDTypes(in_tokyo(first.rule_start + (first.end_at - first.start_at)))
    master.add("rrule", vRecur.from_ical(series.rrule))
    master["status"] = "CONFIRMED"
    events, excluded = [master], []
    for occurrence in occurrences:
        cancelled = occurrence.status == Status.CANCELLED
        if not shown(occurrence) or (cancelled and not cancelled_shown):
            excluded.append(in_tokyo(occurrence.rule_start))
        elif cancelled or _differs(occurrence, first):
            event = _event(occurrence, issuer, sequence=sequence, dtstamp=dtstamp)
            event.add("recurrence-id", in_tokyo(occurrence.rule_start))
            events.append(event)
    if excluded:
        master.add("exdate", excluded)
    return events


def _differs(occurrence: MeetingSession, first: MeetingSession) -> bool:
    """Whether an occurrence is not what the series rule and the first occurrence say."""
    return (
        occurrence.is_moved
        or occurrence.end_at - occurrence.start_at != first.end_at - first.start_at
        or (occurrence.title, occurrence.place, occurrence.online_url)
        != (first.title, first.place, first.online_url)
        or [(i.title, i.visibility) for i in occurrence.items]
        != [(i.title, i.visibility) for i in first.items]
        or [b.id for b in occurrence.bodies] != [b.id for b in first.bodies]
    )


def events_for(
    sessions: list[MeetingSession],
    issuer: Issuer,
    *,
    uid: str,
    dtstamp: datetime | None = None,
    cancelled_shown: bool = False,
) -> list[Event]:
    """What a person's calendar holds for ``uid``: ``sessions`` are those of the UID the
    person is convened to — a one-off, one occurrence under its own UID, or (the series'
    UID, for those convened to every occurrence) the occurrences of one series."""
    first = sessions[0]
    sequence = sequence_of(first, uid)
    if not is_series_uid(uid) or first.series is None:
        event = _event(first, issuer, sequence=sequence, dtstamp=dtstamp)
        event["uid"] = vText(uid)
        return [event]
    ids = {s.id for s in sessions}
    return series_events(
        first.series.sessions,
        issuer,
        shown=lambda s: s.id in ids,
        sequence=sequence,
        dtstamp=dtstamp,
        cancelled_shown=cancelled_shown,
    )


def request(
    sessions: list[MeetingSession],
    recipient: Recipient,
    issuer: Issuer,
    *,
    uid: str,
    answer: Answer | None,
    dtstamp: datetime,
) -> bytes:
    """METHOD:REQUEST: an invitation or an update, the UID whole as the recipient has it."""
    calendar = _calendar("REQUEST")
    for event in events_for(sessions, issuer, uid=uid, dtstamp=dtstamp):
        _attendee(event, recipient, answer)
        calendar.add_component(event)
    return _finish(calendar)


@dataclass(frozen=True)
class Withdrawn:
    """An event as a recipient last received it (services.notices keeps it), to be
    withdrawn: the session may since have moved to another UID or been deleted."""

    uid: str
    title: str
    start: datetime
    end: datetime
    recurrence_id: datetime | None  # None: the whole UID


def cancel(
    withdrawn: list[Withdrawn],
    recipient: Recipient,
    issuer: Issuer,
    *,
    organizer_body: str,
    sequence: int,
    dtstamp: datetime,
) -> bytes:
    """METHOD:CANCEL of a whole UID, or of some of its occurrences (RECURRENCE-ID)."""
    calendar = _calendar("CANCEL")
    for gone in withdrawn:
        event = Event()
        event.add("uid", gone.uid)
        event.add("dtstamp", dtstamp)
        event.add("dtstart", in_tokyo(gone.start))
        event.add("dtend", in_tokyo(gone.end))
        if gone.recurrence_id is not None:
            event.add("recurrence-id", in_tokyo(gone.recurrence_id))
        event.add("sequence", sequence)
        event.add("summary", gone.title)
        event.add("status", "CANCELLED")
        _organizer(event, organizer_body, issuer)
        _attendee(event, recipient, None)
        calendar.add_component(event)
    return _finish(calendar)


def download(sessions: list[MeetingSession], issuer: Issuer, *, uid: str) -> bytes:
    """METHOD:PUBLISH with what the person's e-mailed invitation carries for the UID (same
    ORGANIZER and SEQUENCE), to add to a calendar by hand."""
    calendar = _calendar("PUBLISH")
    for event in events_for(sessions, issuer, uid=uid):
        calendar.add_component(event)
    return _finish(calendar)


class Listed(Protocol):
    """A session as a feed lists it: an object or a row of the sessions table."""

    @property
    def id(self) -> int: ...
    @property
    def status(self) -> Status: ...
    @property
    def series_id(self) -> int | None: ...


@dataclass(frozen=True)
class FeedUnit:
    """What a feed carries for one UID: a session under its own UID (a one-off, or an
    occurrence for someone convened to some occurrences only), or a whole series. Its text
    depends on the sessions it is made of and nothing of the person, so one text serves
    every feed that carries it (services/feeds.py keeps them)."""

    session: Listed | None = None
    series: Series | None = None

    @property
    def name(self) -> str:
        if self.series is not None:
            return f"series-{self.series.id}"
        assert self.session is not None
        return f"session-{self.session.id}"


def feed_units(
    sessions: Sequence[Listed],
    series: Mapping[int, Series],
    *,
    is_invited: Callable[[MeetingSession], bool],
) -> list[FeedUnit]:
    """A person's feed, UID by UID, in order: a series they are convened to in every
    occurrence as its recurring event; otherwise the occurrences they are convened to,
    each under its own UID (the rule would show them the others). ``series`` holds the
    series of ``sessions``, with their sessions' bodies and selections loaded."""
    units = []
    whole: dict[int, bool] = {}
    for session in sessions:
        if session.status == Status.PREPARED:
            continue
        series_id = session.series_id
        if series_id is not None and series_id not in whole:
            live = [s for s in series[series_id].sessions if s.status != Status.PREPARED]
            whole[series_id] = all(map(is_invited, live))
            if whole[series_id]:
                units.append(FeedUnit(series=series[series_id]))
        if series_id is None or not whole[series_id]:
            units.append(FeedUnit(session=session))
    return units


def _unit_events(
    unit: FeedUnit, issuer: Issuer, sessions: Mapping[int, MeetingSession]
) -> list[Event]:
    if unit.series is not None:
        return series_events(
            unit.series.sessions,
            issuer,
            shown=lambda s: s.status != Status.PREPARED,
            sequence=unit.series.sequence,
            cancelled_shown=True,
        )
    assert unit.session is not None
    session = sessions[unit.session.id]
    return events_for([session], issuer, uid=occurrence_uid(session, issuer))


def unit_text(unit: FeedUnit, issuer: Issuer, sessions: Mapping[int, MeetingSession]) -> bytes:
    """The VEVENTs of ``unit`` as a feed carries them, serialised. ``sessions`` holds a
    one-off's session by id; the sessions (a series' too) must be loaded with their items
    (and the items' bodies) and bodies."""
    return b"".join(event.to_ical() for event in _unit_events(unit, issuer, sessions))


def feed_words() -> tuple[str, ...]:
    """The translated words a feed's events carry: with the links and the issuer, what
    makes one install's and locale's event texts differ from another's."""
    return (
        _("Closed agenda item"),
        _(" (%(n)d min)"),
        _("Agenda"),
        labelled(_("Online meeting link"), "-"),
        _("%(body)s secretariat", body="-"),
    )


def _feed_calendar(name: str) -> Calendar:
    calendar = _calendar("PUBLISH")
    calendar.add("name", name)  # RFC 7986
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Asia/Tokyo")
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    return calendar


_END = b"END:VCALENDAR\r\n"


@cache
def _tokyo_timezone() -> bytes:
    """The VTIMEZONE every feed with an event carries (its events are all in Tokyo time):
    what ``add_missing_timezones`` adds, serialised once."""
    timezone: bytes = Timezone.from_tzid("Asia/Tokyo").to_ical()
    return timezone


def framed(name: str, texts: list[bytes]) -> list[bytes]:
    """A feed's parts from its units' texts (``unit_text``): its calendar's head, the time
    zone and ``texts`` (none without a text), and its end. Joined, byte for byte what
    ``feed`` makes with icalendar, without serialising again what is stored."""
    head: bytes = _feed_calendar(name).to_ical()
    assert head.endswith(_END)
    body = [_tokyo_timezone(), *texts] if texts else []
    return [head[: -len(_END)], *body, _END]


def feed(
    sessions: list[MeetingSession],
    *,
    name: str,
    issuer: Issuer,
    is_invited: Callable[[MeetingSession], bool],
) -> bytes:
    """METHOD:PUBLISH with the person's sessions (``feed_units``), built and serialised
    whole by icalendar: what ``framed``, joined, must reproduce from stored texts, and the
    floor bench/bench_city.py measures it against.

    A cancelled session stays in the feed as STATUS:CANCELLED, a one-off and an occurrence
    alike (an occurrence as an override with its RECURRENCE-ID): a subscribed calendar is
    replaced whole at every poll, and a meeting that silently vanished would leave a member
    unsure whether it was cancelled or their invitation lost."""
    calendar = _feed_calendar(name)
    by_id = {session.id: session for session in sessions}
    series = {s.series.id: s.series for s in sessions if s.series is not None}
    for unit in feed_units(sessions, series, is_invited=is_invited):
        for event in _unit_events(unit, issuer, by_id):
            calendar.add_component(event)
    return _finish(calendar)
