"""The attendance record (出席記録) of a held session, and the quorum it shows.

The secretariat records, for every invitee, whether they were present, late or left early
(with times), represented by a proxy, or absent, starting from the replies. Everyone
present sat through the public and session items; for each item closed to all but its owning
body (``body`` or ``confidential``: in a joint session the other bodies' members leave the
room) the record says who was in the room, and only those entitled to the item may be
(docs/architecture.md, "The confidentiality rule"). The record feeds the quorum on the
session page and in the minutes, and the apportionment of meeting hours between programmes.

The minutes' attendance section of each body is written here too: laid out from the record
(or, before there is one, from the replies), and following the record while the draft still
reads as it was laid out.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from renkei.db import rowcount, utcnow
from renkei.i18n import LazyText, format_tokyo, labelled
from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.models import (
    AgendaItem,
    Answer,
    Attendance,
    ItemPresence,
    MeetingSession,
    MinutesSection,
    MinutesStatus,
    Person,
    Presence,
    Reply,
    SectionKind,
    Status,
)
from renkei.services import audit, policy, quorum, scheduling
from renkei.services.dates import in_tokyo, tokyo_date, tokyo_to_utc
from renkei.services.errors import DomainError
from renkei.services.minutes_document import minutes_of

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


@dataclass
class Refreshed:
    """What saving the attendance record did to the minutes' attendance sections."""

    updated: int = 0
    kept: int = 0  # edited by hand, or awaiting approval or approved: left as they were


class RecordErrors(DomainError):
    """Some lines are wrong; ``lines`` maps a person id to {field: message}."""

    def __init__(self, lines: dict[int, dict[str, object]]):
        super().__init__(_l("Please check the marked lines. Nothing has been saved."))
        self.lines = lines


def _local_time(moment: datetime | None) -> time | None:
    return in_tokyo(moment).time() if moment is not None else None


def attendances_of(db: Session, session: MeetingSession) -> dict[int, Attendance]:
    """The session's attendance record (出席記録), by person id; empty until recorded."""
    rows = db.scalars(
        select(Attendance)
        .where(Attendance.session_id == session.id)
        .options(selectinload(Attendance.items))
    )
    return {row.person_id: row for row in rows}


def is_recorded(db: Session, session: MeetingSession) -> bool:
    """Whether the session's attendance record has been made (the form saves every line
    at once: one line means the record)."""
    found = db.scalar(select(Attendance.id).where(Attendance.session_id == session.id).limit(1))
    return found is not None


def record_of(db: Session, session: MeetingSession) -> Record:
    invitees = scheduling.invitees(db, session)
    owned = policy.owned_items(session.items)
    entitled = policy.may_be_present(db, owned, tokyo_date(session.start_at))
    replies = {reply.person_id: reply for reply in session.replies}
    saved = attendances_of(db, session)
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
) -> tuple[list[Attendance], Refreshed]:
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
    before = attendance_texts(db, session)
    saved = [_apply(db, session, lines[e.person_id], e, shown, by) for e in entries]
    db.flush()
    seen = [owned[item_id] for item_id in shown if item_id in owned]
    audit.content_shown(db, by, "edit", session, seen, subject_type="attendance")
    return saved, refresh_attendance(db, session, before)


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


# --- The attendance sections of the minutes -----------------------------------------------


def attendance_texts(
    db: Session,
    session: MeetingSession,
    people: list[scheduling.Invitee] | None = None,
    record: dict[int, Attendance] | None = None,
) -> dict[int, str]:
    """Each body's attendance section as laid out: from the attendance record, with the
    quorum, once there is one; from the replies before. ``people`` (the session's
    invitees) and ``record`` (its attendances) when the caller has read them already."""
    if people is None:
        people = scheduling.invitees(db, session)
    if record is None:
        record = attendances_of(db, session)
    answers = {reply.person_id: reply for reply in session.replies}
    reckoning = quorum.of_session(session, people, record)
    quorums = {q.body.id: q for q in reckoning.quorums}
    texts = {}
    for body in session.bodies:
        members = [i for i in people if body in i.bodies]
        if reckoning.recorded:
            texts[body.id] = _recorded(members, record, quorums[body.id])
        else:
            texts[body.id] = _replied(members, answers)
    return texts


def _listed(groups: dict[str, list[str]], labels: dict[str, str]) -> list[str]:
    return [
        "- " + labelled(f"**{labels[key]}**（{len(groups[key])}）", "、".join(groups[key]))
        for key in labels
        if key in groups
    ]


def _replied(members: Iterable[scheduling.Invitee], answers: dict[int, Reply]) -> str:
    groups: dict[str, list[str]] = {}
    for invitee in members:
        reply = answers.get(invitee.person.id)
        name = invitee.person.name
        if reply is None or reply.answer == Answer.UNDECIDED:
            key = "unknown"
        elif reply.answer == Answer.PROXY:
            key, name = "proxy", _("%(name)s (proxy: %(proxy)s)", name=name, proxy=reply.proxy_name)
        else:
            key = reply.answer.value
        groups.setdefault(key, []).append(name)
    labels = {
        "attend": _("Present"),
        "proxy": _("Attending by proxy"),
        "absent": _("Absent"),
        "unknown": _("Not known"),
    }
    return "\n".join(_listed(groups, labels))


def _recorded(
    members: Iterable[scheduling.Invitee], record: dict[int, Attendance], counted: quorum.Quorum
) -> str:
    groups: dict[str, list[str]] = {}
    for invitee in members:
        entry = record.get(invitee.person.id)
        name = invitee.person.name
        if entry is None:
            key = "unknown"
        elif entry.presence == Presence.PARTIAL:
            key, name = "present", f"{name}（{partial_times(entry)}）"
        elif entry.presence == Presence.PROXY:
            key, name = "proxy", _("%(name)s (proxy: %(proxy)s)", name=name, proxy=entry.proxy_name)
        else:
            key = entry.presence.value
        groups.setdefault(key, []).append(name)
    labels = {
        "present": _("Present"),
        "proxy": _("Attending by proxy"),
        "absent": _("Absent"),
        "unknown": _("Not recorded"),
    }
    quorate = "- " + labelled(f"**{_('Quorum')}**", quorum_text(counted))
    return "\n".join([quorate, *_listed(groups, labels)])


def partial_times(entry: Attendance) -> str:
    """ "from 14:10", "until 15:00" or "14:10–15:00": the part of the session attended."""
    arrived = format_tokyo(entry.arrived_at, "time") if entry.arrived_at else None
    left = format_tokyo(entry.left_at, "time") if entry.left_at else None
    if arrived and left:
        return f"{arrived}–{left}"
    if arrived:
        return _("from %(time)s", time=arrived)
    return _("until %(time)s", time=left)


def quorum_text(counted: quorum.Quorum) -> str:
    values = {"present": counted.present, "total": counted.total, "needed": counted.required}
    if counted.met:
        return _("%(present)d of %(total)d members present (%(needed)d needed): quorate", **values)
    return _("%(present)d of %(total)d members present (%(needed)d needed): not quorate", **values)


def refresh_attendance(db: Session, session: MeetingSession, before: dict[int, str]) -> Refreshed:
    """The attendance record changed (``before``: the texts it gave until now). The draft's
    attendance sections that still read as laid out follow it; a section someone has
    written in is kept, and so is any version awaiting approval or approved."""
    record = minutes_of(db, session)
    if record is None:
        return Refreshed()
    after = attendance_texts(db, session)
    result = Refreshed()
    version = record.latest
    for section in version.sections:
        body_id = section.body_id
        if section.kind != SectionKind.ATTENDANCE or body_id is None:
            continue
        new = after.get(body_id)
        if new is None or section.text == new:
            continue
        if version.status != MinutesStatus.DRAFT or section.text != before.get(body_id):
            result.kept += 1
            continue
        done = db.execute(
            update(MinutesSection)
            .where(MinutesSection.id == section.id, MinutesSection.revision == section.revision)
            .values(text=new, revision=section.revision + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        db.refresh(section)
        result.updated += rowcount(done)
    return result
