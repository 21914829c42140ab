"""iCalendar files: an invitation or cancellation per session and invitee, and personal feeds.

A calendar file carries public item titles only, whoever receives it: calendar apps are
shared, synced to services the municipality does not control, and previewed. The agenda in
DESCRIPTION is worked out by the policy module (``policy.calendar_access``): every other
item appears only as 非公開議題, and the session page it links to shows the rest to those
entitled.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from icalendar import Calendar, Event, vCalAddress, vDDDTypes, vRecur, vText

from renkei.i18n import gettext as _
from renkei.links import Links
from renkei.models import Answer, MeetingSession, Person, Series, Status
from renkei.services import policy
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


def _domain(links: Links) -> str:
    return urlsplit(links.base_url).hostname or "renkei.invalid"


def session_uid(session: MeetingSession, links: Links) -> str:
    """Stable per session; a series shares one UID, its occurrences told apart by
    RECURRENCE-ID."""
    if session.series_id is not None:
        return f"series-{session.series_id}@{_domain(links)}"
    return f"session-{session.id}@{_domain(links)}"


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
        parts.append(_("Online meeting link") + ": " + session.online_url)
    parts.append(links.session(session.id))
    return "\n\n".join(parts)


def _event(session: MeetingSession, links: Links, *, sequence: int | None = None) -> Event:
    event = Event()
    event.add("uid", session_uid(session, links))
    # The time of the last revision: the same file for the same state of the session.
    event.add("dtstamp", session.updated_at)
    event.add("dtstart", in_tokyo(session.start_at))
    event.add("dtend", in_tokyo(session.end_at))
    event.add("sequence", session.sequence if sequence is None else sequence)
    event.add("summary", session.title)
    if session.place:
        event.add("location", session.place)
    if session.online_url:
        event.add("url", session.online_url)
    event.add("description", _description(session, links))
    event.add("last-modified", session.updated_at)
    if session.status == Status.CANCELLED:
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED")
    return event


def _organizer(event: Event, organizer: Person | None, links: Links) -> None:
    address = organizer.email if organizer and organizer.email else f"noreply@{_domain(links)}"
    value = vCalAddress(f"mailto:{address}")
    value.params["cn"] = vText(organizer.name if organizer else "Renkei")
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


def _series_events(series: Series, links: Links) -> list[Event]:
    """One VEVENT with RRULE and EXDATE for the series, plus one per moved or changed
    occurrence with its RECURRENCE-ID."""
    occurrences = sorted(series.sessions, key=lambda s: s.rule_start)
    first = occurrences[0]
    sequence = max(s.sequence for s in occurrences)
    master = _event(first, links, sequence=sequence)
    # The master carries the rule's own times, even when its first occurrence was moved.
    master["dtstart"] = vDDDTypes(in_tokyo(first.rule_start))
    master["dtend"] = vDDDTypes(in_tokyo(first.rule_start + (first.end_at - first.start_at)))
    master.add("rrule", vRecur.from_ical(series.rrule))
    master["status"] = "CONFIRMED"
    cancelled = [in_tokyo(s.rule_start) for s in occurrences if s.status == Status.CANCELLED]
    if cancelled:
        master.add("exdate", cancelled)
    events = [master]
    for occurrence in occurrences:
        if occurrence.status != Status.CANCELLED and _differs(occurrence, first):
            event = _event(occurrence, links, sequence=sequence)
            event.add("recurrence-id", in_tokyo(occurrence.rule_start))
            events.append(event)
    return events


def _differs(occurrence: MeetingSession, first: MeetingSession) -> bool:
    """Whether an occurrence is not what the series rule and the first occurrence say."""
    return (
        occurrence.is_moved
        or occurrence.end_at - occurrence.start_at != first.end_at - first.start_at
        or (occurrence.title, occurrence.place, occurrence.online_url, occurrence.status)
        != (first.title, first.place, first.online_url, first.status)
        or [(i.title, i.visibility) for i in occurrence.items]
        != [(i.title, i.visibility) for i in first.items]
    )


def invite(
    session: MeetingSession,
    recipient: Recipient,
    *,
    organizer: Person | None,
    answer: Answer | None,
    links: Links,
) -> bytes:
    """METHOD:REQUEST for one invitee (METHOD:CANCEL once the session is cancelled).

    An occurrence of a series is sent as that occurrence alone, with its RECURRENCE-ID, so
    that moving or cancelling it touches nothing else in the invitee's calendar.
    """
    cancelled = session.status == Status.CANCELLED
    calendar = _calendar("CANCEL" if cancelled else "REQUEST")
    event = _event(session, links)
    if session.series_id is not None:
        event.add("recurrence-id", in_tokyo(session.rule_start))
    _organizer(event, organizer, links)
    _attendee(event, recipient, answer)
    calendar.add_component(event)
    return _finish(calendar)


def series_invite(
    series: Series,
    recipient: Recipient,
    *,
    organizer: Person | None,
    answer: Answer | None,
    links: Links,
) -> bytes:
    """METHOD:REQUEST for a whole series: the recurring event and its exceptions."""
    calendar = _calendar("REQUEST")
    for event in _series_events(series, links):
        _organizer(event, organizer, links)
        _attendee(event, recipient, answer)
        calendar.add_component(event)
    return _finish(calendar)


def feed(
    person: Person,
    sessions: list[MeetingSession],
    *,
    name: str,
    links: Links,
    is_invited: Callable[[MeetingSession], bool],
) -> bytes:
    """METHOD:PUBLISH with the person's sessions. A series the person is invited to in every
    occurrence goes as its recurring event; otherwise only the occurrences they are invited
    to go, each as an event of its own, since the rule would show them the others."""
    calendar = _calendar("PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Asia/Tokyo")
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    whole_series: dict[int, bool] = {}
    for session in sessions:
        series = session.series
        if series is not None and series.id not in whole_series:
            whole_series[series.id] = all(map(is_invited, series.sessions))
            if whole_series[series.id]:
                for event in _series_events(series, links):
                    calendar.add_component(event)
        if series is None or not whole_series[series.id]:
            event = _event(session, links)
            # An occurrence on its own: its own UID, not the series' (no rule goes with it).
            event["uid"] = vText(f"session-{session.id}@{_domain(links)}")
            calendar.add_component(event)
    return _finish(calendar)
