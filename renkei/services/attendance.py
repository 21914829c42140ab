"""The attendance record (出席記録) of a held session, and the quorum it shows.

The secretariat records, for every invitee, whether they were present, late or left early
(with times), represented by a proxy, or absent, starting from the replies. Everyone
present sat through the public and session items; for each item closed to all but its owning
body (``body`` or ``confidential``: in a joint session the other bodies' members leave the
room) the record says who was in the room, and only those entitled to the item may be
(docs/architecture.md, "The confidentiality rule"). The record feeds the quorum on the
session page and in the minutes, and the apportionment of meeting hours between programmes.
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy.orm import Session

from renkei.i18n import LazyText, format_tokyo
from renkei.i18n import lazy_gettext as _l
from renkei.models import (
    AgendaItem,
    Answer,
    Attendance,
    ItemPresence,
    MeetingSession,
    Person,
    Presence,
    Reply,
    Status,
)
from renkei.services import minutes, policy, scheduling
from renkei.services.dates import in_tokyo, tokyo_date, tokyo_to_utc
from renkei.services.errors import DomainError

MAX_PROXY = 100
MAX_NOTE = 200

# What the reply said, as the record's starting point; no reply or "undecided" is left for
# the secretariat to choose.
FROM_REPLY = {
    Answer.ATTEND: Presence.PRESENT,
    Answer.PROXY: Presence.PROXY,
    Answer.ABSENT: Presence.ABSENT,
}


@dataclass
class LineData:
    """What the secretariat entered for one invitee."""

    person_id: int
    presence: str | None
    arrived: time | None = None
    left: time | None = None
    proxy_name: str = ""
    note: str = ""
    item_ids: set[int] = field(default_factory=set)  # owned items present for


@dataclass
class Line:
    """One invitee's row: who they are, what they replied, what was recorded."""

    invitee: scheduling.Invitee
    reply: Reply | None
    attendance: Attendance | None
    may_hear: set[int]  # owned items (``policy.owned_items``) this person may be present for

    @property
    def person(self) -> Person:
        return self.invitee.person

    def entered(self) -> LineData:
        """The record as saved, or else what the reply suggests."""
        person_id = self.person.id
        if self.attendance is not None:
            a = self.attendance
            return LineData(
                person_id,
                a.presence.value,
                arrived=_local_time(a.arrived_at),
                left=_local_time(a.left_at),
                proxy_name=a.proxy_name,
                note=a.note,
                item_ids=a.item_ids,
            )
        presence = FROM_REPLY.get(self.reply.answer) if self.reply else None
        proxy = self.reply.proxy_name if self.reply else ""
        items = set(self.may_hear) if presence == Presence.PRESENT else set()
        return LineData(person_id, presence and presence.value, proxy_name=proxy, item_ids=items)


@dataclass
class Record:
    session: MeetingSession
    lines: list[Line]
    owned_items: list[AgendaItem]  # presence is recorded for each of them

    @property
    def attendances(self) -> dict[int, Attendance]:
        return {line.person.id: line.attendance for line in self.lines if line.attendance}


class RecordErrors(DomainError):
    """Some lines are wrong; ``lines`` maps a person id to {field: message}."""

    def __init__(self, lines: dict[int, dict[str, object]]):
        super().__init__(_l("Please check the marked lines. Nothing has been saved."))
        self.lines = lines


def _local_time(moment: datetime | None) -> time | None:
    return in_tokyo(moment).time() if moment is not None else None


def record_of(db: Session, session: MeetingSession) -> Record:
    invitees = scheduling.invitees(db, session)
    owned = policy.owned_items(session.items)
    entitled = policy.may_be_present(db, owned, tokyo_date(session.start_at))
    replies = {reply.person_id: reply for reply in session.replies}
    saved = minutes.attendances_of(db, session)
    lines = [
        Line(
            invitee=invitee,
            reply=replies.get(invitee.person.id),
            attendance=saved.get(invitee.person.id),
            may_hear={i.id for i in owned if (invitee.person.id, i.id) in entitled},
        )
        for invitee in invitees
    ]
    return Record(session=session, lines=lines, owned_items=owned)


def check_recordable(session: MeetingSession) -> None:
    if session.status != Status.HELD:
        raise DomainError(
            _l("Attendance can only be recorded once the session has been marked as held.")
        )


def save_record(
    db: Session, session: MeetingSession, entries: list[LineData], *, by: Person, shown: set[int]
) -> tuple[list[Attendance], minutes.Refreshed]:
    """Record attendance as ``by``. ``shown`` are the owned items whose presence the form
    showed (those ``by`` may see); presence for any other item is kept as it was.
    Either every line is valid and saved, or ``RecordErrors`` and nothing is written."""
    scheduling.require_manager(db, session, by)
    check_recordable(session)
    record = record_of(db, session)
    lines = {line.person.id: line for line in record.lines}
    owned = {item.id: item for item in record.owned_items}
    if len({entry.person_id for entry in entries}) != len(entries):
        raise DomainError(_l("Someone is in the form twice. Reload the page and try again."))
    errors: dict[int, dict[str, object]] = {}
    for entry in entries:
        line = lines.get(entry.person_id)
        if line is None:
            raise DomainError(_l("One of the people in the form is not invited to this session."))
        problems = _check(session, line, entry, owned, shown)
        if problems:
            errors[entry.person_id] = problems
    if errors:
        raise RecordErrors(errors)
    before = minutes.attendance_texts(db, session)
    saved = [_apply(db, session, lines[e.person_id], e, shown, by) for e in entries]
    db.flush()
    return saved, minutes.refresh_attendance(db, session, before)


def _check(
    session: MeetingSession,
    line: Line,
    entry: LineData,
    owned: dict[int, AgendaItem],
    shown: set[int],
) -> dict[str, object]:
    problems: dict[str, object] = {}
    try:
        presence = Presence(entry.presence or "")
    except ValueError:
        return {"presence": _l("Choose present, late or left early, proxy, or absent.")}
    if len(entry.note) > MAX_NOTE:
        problems["note"] = _l("Use at most %(max)d characters.", max=MAX_NOTE)
    if presence == Presence.PROXY:
        if not entry.proxy_name.strip():
            problems["proxy_name"] = _l("Enter the name of the person who attended.")
        elif len(entry.proxy_name) > MAX_PROXY:
            problems["proxy_name"] = _l("Use at most %(max)d characters.", max=MAX_PROXY)
    if presence == Presence.PARTIAL:
        problems.update(_check_times(session, entry))
    if presence.attended:
        problems.update(_check_items(line, entry, owned, shown))
    return problems


def _check_times(session: MeetingSession, entry: LineData) -> dict[str, object]:
    start, end = session.start_at, session.end_at
    span = {"start": format_tokyo(start, "time"), "end": format_tokyo(end, "time")}
    arrived, left = _moment(session, entry.arrived), _moment(session, entry.left)
    if arrived is None and left is None:
        return {"arrived": _l("Enter the time of arrival, of leaving, or both.")}
    if arrived is not None and arrived >= end:
        return {
            "arrived": _l("The arrival is at or after the end of the session (%(end)s).", **span)
        }
    if arrived is not None and arrived < start:
        return {
            "arrived": _l("The arrival is before the start of the session (%(start)s).", **span)
        }
    if left is not None and left <= start:
        return {"left": _l("Leaving is at or before the start of the session (%(start)s).", **span)}
    if left is not None and left > end:
        return {"left": _l("Leaving is after the end of the session (%(end)s).", **span)}
    if arrived is not None and left is not None and left <= arrived:
        return {"left": _l("Leaving must come after arriving.")}
    return {}


def _moment(session: MeetingSession, at: time | None) -> datetime | None:
    """A time of day on the session's date, as a UTC moment; for a session past midnight,
    an early hour may be the next day's."""
    if at is None:
        return None
    moment = tokyo_to_utc(tokyo_date(session.start_at), at)
    if moment >= session.start_at or tokyo_date(session.end_at) == tokyo_date(session.start_at):
        return moment
    # Before the start of a session that runs past midnight: the reading nearer the session
    # (1:30 is after a 22:00–1:00 session, 21:30 before it).
    next_day = moment + timedelta(days=1)
    if next_day - session.end_at < session.start_at - moment:
        return next_day
    return moment


def _check_items(
    line: Line, entry: LineData, owned: dict[int, AgendaItem], shown: set[int]
) -> dict[str, object]:
    for item_id in sorted(entry.item_ids & shown):
        if item_id not in owned:
            return {"items": _l("That item is not a closed item of this session.")}
        if item_id not in line.may_hear:
            return {"items": _not_entitled(line, owned[item_id])}
    return {}


def _not_entitled(line: Line, item: AgendaItem) -> LazyText:
    values = {"name": line.person.name, "n": item.position, "body": item.body.name}
    if policy.is_confidential(item):
        return _l(
            "%(name)s may not be present for item %(n)d: only members of %(body)s "
            "who have pledged confidentiality may be.",
            **values,
        )
    return _l(
        "%(name)s may not be present for item %(n)d: only members of %(body)s may be.",
        **values,
    )


def _apply(
    db: Session,
    session: MeetingSession,
    line: Line,
    entry: LineData,
    shown: set[int],
    by: Person,
) -> Attendance:
    attendance, first = line.attendance, line.attendance is None
    if attendance is None:
        attendance = Attendance(session_id=session.id, person_id=line.person.id)
        db.add(attendance)
    presence = Presence(entry.presence or "")  # checked by _check
    partial = presence == Presence.PARTIAL
    attendance.presence = presence
    attendance.arrived_at = _moment(session, entry.arrived) if partial else None
    attendance.left_at = _moment(session, entry.left) if partial else None
    attendance.proxy_name = entry.proxy_name.strip() if presence == Presence.PROXY else ""
    attendance.note = entry.note.strip()
    attendance.recorded_by_id = by.id
    # Presence for items the form did not show stays as it was; a first record starts from
    # everyone entitled, as the form does for the items it shows.
    if first:
        kept = line.may_hear - shown
    else:
        kept = {r.agenda_item_id for r in attendance.items if r.agenda_item_id not in shown}
    wanted = (entry.item_ids & shown) | kept if presence.attended else set()
    attendance.items = [r for r in attendance.items if r.agenda_item_id in wanted]
    have = {row.agenda_item_id for row in attendance.items}
    attendance.items.extend(ItemPresence(agenda_item_id=i) for i in sorted(wanted - have))
    return attendance


def present_for(
    items: list[AgendaItem], invitees: list[scheduling.Invitee], record: dict[int, Attendance]
) -> list[tuple[AgendaItem, list[str]]]:
    """Each of ``items`` with the names of the invitees (``scheduling.Invitee``, in their
    order) the record says were present for it. ``items`` are the owned items the reader
    may see (``SessionAccess.owned_items_seen``): nobody else's presence is
    recorded item by item, and nobody may read presence at an item closed to them."""
    return [
        (
            item,
            [
                invitee.person.name
                for invitee in invitees
                if invitee.person.id in record and item.id in record[invitee.person.id].item_ids
            ],
        )
        for item in items
    ]
