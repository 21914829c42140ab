"""Apportionment (按分): the meeting hours of staff holding posts, charged to programmes.

One person may hold 相談支援員 (livelihood support) and 生活支援コーディネーター (care
insurance) at once, provided subsidised costs are split, for example by hours worked in each
(docs/architecture.md, "Minutes and apportionment"). The rule, which the report page states
in plain words:

1. Sessions count where the attendance record says the person was present, or late or left
   early; proxies and absences do not.
2. The session's time, from start to end, is shared among its agenda items in proportion
   to their planned minutes, the items taken in agenda order. Time outside any item
   (opening, closing, unassigned) is so shared in the same proportions.
3. Only the part of each item's share that falls while the person was there counts, and
   none of an item closed to all but its owning body (``body`` or ``confidential``) the
   person was not recorded as present for. Who was present for such an item is itself
   closed: a report read by someone else, not entitled to the item, counts the person as
   present for it whenever they were there (the line says so), so that the figures never
   tell that reader who stepped out.
4. Each item's time is charged to the programme of the body that owns it.
5. A session whose items have no planned minutes is shared equally among the bodies served.
6. Each session's figures are rounded to whole minutes, their sum to the nearest minute and
   the parts so that they add up to it; totals add these whole minutes, so the page and the
   CSV agree to the minute.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from renkei.i18n import format_tokyo
from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.models import (
    AgendaItem,
    Attendance,
    MeetingSession,
    Person,
    Post,
    Presence,
    Programme,
    Status,
)
from renkei.services import policy, posts
from renkei.services.dates import fiscal_year_of, today, tokyo_date, tokyo_day_bounds
from renkei.services.errors import DomainError

ATTENDED = [presence for presence in Presence if presence.attended]


# --- Periods ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A Japanese fiscal year (April to March) or a calendar month, ``key`` as in the URL."""

    key: str
    first: date
    last: date

    @property
    def is_month(self) -> bool:
        return "-" in self.key

    @property
    def label(self) -> str:
        if self.is_month:
            return _("Month %(month)d of %(year)d", year=self.first.year, month=self.first.month)
        return _("Fiscal year %(year)d", year=self.first.year)


def fiscal_year(year: int) -> Period:
    return Period(str(year), date(year, 4, 1), date(year + 1, 3, 31))


def month(year: int, number: int) -> Period:
    following = date(year + number // 12, number % 12 + 1, 1)
    return Period(
        f"{year}-{number:02d}", date(year, number, 1), date.fromordinal(following.toordinal() - 1)
    )


PERIOD_HELP = _l("Enter a fiscal year such as 2026, or a month such as 2026-05.")


def parse_period(text: str | None) -> Period:
    """``2026`` (fiscal year 2026: April 2026 to March 2027) or ``2026-05``; none: this year."""
    text = (text or "").strip()
    if not text:
        return fiscal_year(fiscal_year_of(today()))
    found = re.fullmatch(r"(\d{4})(?:-(\d{1,2}))?", text)
    if not found:
        raise DomainError(PERIOD_HELP, "period")
    year = int(found.group(1))
    if not 2000 <= year <= 2099:
        raise DomainError(PERIOD_HELP, "period")
    if found.group(2) is None:
        return fiscal_year(year)
    number = int(found.group(2))
    if not 1 <= number <= 12:
        raise DomainError(PERIOD_HELP, "period")
    return month(year, number)


def recorded_years(db: Session) -> tuple[int, int] | None:
    """The first and last fiscal years with an attendance record, for saying where the data
    lies when a period has none."""
    first, last = db.execute(
        select(func.min(MeetingSession.start_at), func.max(MeetingSession.start_at)).where(
            MeetingSession.id.in_(select(Attendance.session_id))
        )
    ).one()
    if first is None:
        return None
    return fiscal_year_of(tokyo_date(first)), fiscal_year_of(tokyo_date(last))


# --- Splitting one session ----------------------------------------------------------------


def _seconds(since: datetime, moment: datetime) -> int:
    return int((moment - since).total_seconds())


def split(
    session: MeetingSession, attendance: Attendance, closed_to_reader: frozenset[int] = frozenset()
) -> dict[Programme, Fraction]:
    """The minutes of ``session`` charged to each programme for the person of
    ``attendance``, exactly (rules 2 to 5 of the module's docstring). Presence for the
    items whose ids are in ``closed_to_reader`` is not read (rule 3)."""
    length = _seconds(session.start_at, session.end_at)
    there_from = max(_seconds(session.start_at, attendance.arrived_at or session.start_at), 0)
    there_to = min(_seconds(session.start_at, attendance.left_at or session.end_at), length)
    planned = sum(item.planned_minutes for item in session.items)
    if planned == 0:
        # Each body served weighs one.
        weights = [(body.programme, 1, True) for body in session.bodies]
    else:
        present_for = attendance.item_ids
        weights = [
            (
                item.body.programme,
                item.planned_minutes,
                not policy.is_owned(item) or item.id in closed_to_reader or item.id in present_for,
            )
            for item in session.items
        ]
    # Whole numbers throughout: a time of t seconds is t × total weight units, and a weight
    # w spans w × length units, so that no share is ever a fraction until the end.
    total = sum(weight for _, weight, _ in weights)
    there_from, there_to = there_from * total, there_to * total
    units: dict[Programme, int] = {}
    begins = 0
    for programme, weight, in_room in weights:
        ends = begins + weight * length
        overlap = min(ends, there_to) - max(begins, there_from)
        if in_room and overlap > 0:
            units[programme] = units.get(programme, 0) + overlap
        begins = ends
    return {programme: Fraction(value, total * 60) for programme, value in units.items()}


def whole_minutes(exact: dict[Programme, Fraction]) -> dict[Programme, int]:
    """Rule 6: the total rounded half up, the parts by largest remainder so they add up."""
    total = int(sum(exact.values(), Fraction(0)) + Fraction(1, 2))
    floors = {programme: int(value) for programme, value in exact.items()}
    spare = total - sum(floors.values())
    by_remainder = sorted(exact, key=lambda p: (-(exact[p] - floors[p]), list(Programme).index(p)))
    for programme in by_remainder[:spare]:
        floors[programme] += 1
    return floors


# --- The report ---------------------------------------------------------------------------


@dataclass
class SessionLine:
    session: MeetingSession
    attendance: Attendance
    minutes: dict[Programme, int]
    unposted: set[Programme]  # charged to a programme the person held no post in that day
    # Presence for its closed items was not read: the reader may not know it (rule 3).
    presence_withheld: bool = False

    @property
    def total(self) -> int:
        return sum(self.minutes.values())


@dataclass
class PersonReport:
    person: Person
    posts: list[Post]
    lines: list[SessionLine] = field(default_factory=list)

    @property
    def totals(self) -> dict[Programme, int]:
        result = dict.fromkeys(Programme, 0)
        for line in self.lines:
            for programme, value in line.minutes.items():
                result[programme] += value
        return result

    @property
    def total(self) -> int:
        return sum(line.total for line in self.lines)


@dataclass
class Report:
    period: Period
    people: list[PersonReport]
    unrecorded: int  # held sessions in the period with no attendance record at all

    @property
    def programmes(self) -> list[Programme]:
        """The programmes with hours, at least those of the posts held: the columns."""
        used = {p.programme for person in self.people for p in person.posts}
        for person in self.people:
            used |= {p for p, value in person.totals.items() if value}
        return [p for p in Programme if p in used]


def _bounds(period: Period) -> tuple[datetime, datetime]:
    return tokyo_day_bounds(period.first)[0], tokyo_day_bounds(period.last)[1]


def report(db: Session, period: Period, people: list[Person], *, reader: Person) -> Report:
    """The hours of ``people`` in ``period`` as ``reader`` may see them (rule 3): a fixed
    number of queries however many sessions they attended."""
    held = posts.posts_by_person(db, {p.id for p in people})
    reports = {p.id: PersonReport(person=p, posts=held.get(p.id, [])) for p in people}
    readable = policy.reader_access(db, reader)
    for attendance in _attendances(db, period, set(reports)):
        person_report = reports[attendance.person_id]
        session = attendance.session
        closed: frozenset[int] = frozenset()
        if attendance.person_id != reader.id:
            closed = policy.unreadable_items(session.items, readable)
        minutes = whole_minutes(split(session, attendance, closed))
        day = tokyo_date(session.start_at)
        posted = {p.programme for p in person_report.posts if p.is_held(day)}
        unposted = {p for p, value in minutes.items() if value and p not in posted}
        line = SessionLine(session, attendance, minutes, unposted, presence_withheld=bool(closed))
        person_report.lines.append(line)
    return Report(period=period, people=list(reports.values()), unrecorded=_unrecorded(db, period))


def _attendances(db: Session, period: Period, person_ids: set[int]) -> list[Attendance]:
    if not person_ids:
        return []
    start, end = _bounds(period)
    return list(
        db.scalars(
            select(Attendance)
            .join(MeetingSession, MeetingSession.id == Attendance.session_id)
            .where(
                Attendance.person_id.in_(person_ids),
                Attendance.presence.in_(ATTENDED),
                MeetingSession.status == Status.HELD,
                MeetingSession.start_at >= start,
                MeetingSession.start_at < end,
            )
            .order_by(MeetingSession.start_at, MeetingSession.id)
            .options(
                selectinload(Attendance.items),
                selectinload(Attendance.session).selectinload(MeetingSession.bodies),
                selectinload(Attendance.session)
                .selectinload(MeetingSession.items)
                .selectinload(AgendaItem.body),
            )
        )
    )


def _unrecorded(db: Session, period: Period) -> int:
    start, end = _bounds(period)
    return (
        db.scalar(
            select(func.count(MeetingSession.id)).where(
                MeetingSession.status == Status.HELD,
                MeetingSession.start_at >= start,
                MeetingSession.start_at < end,
                MeetingSession.id.not_in(select(Attendance.session_id)),
            )
        )
        or 0
    )


def hours(minutes: int) -> str:
    """125 -> "2:05": hours and minutes, as the page and the CSV both show them."""
    return f"{minutes // 60}:{minutes % 60:02d}"


def day_text(session: MeetingSession) -> str:
    return tokyo_date(session.start_at).isoformat()


def attended_text(line: SessionLine) -> str:
    """The part of the session the person was there for, e.g. "14:30–16:00"."""
    session, there = line.session, line.attendance
    begins = format_tokyo(there.arrived_at or session.start_at, "time")
    ends = format_tokyo(there.left_at or session.end_at, "time")
    return f"{begins}–{ends}"


def csv_rows(report: Report) -> list[list[object]]:
    """The page's figures: one line per session attended, one total line per person."""
    programmes = report.programmes
    rows: list[list[object]] = [
        [
            _("Name"),
            _("Date"),
            _("Session"),
            _("Bodies served"),
            _("Attended"),
            *[_("%(programme)s (minutes)", programme=p.label) for p in programmes],
            _("Total (minutes)"),
            _("Total (hours:minutes)"),
            _("Charged where no post was held"),
            _("Presence at closed items not shown"),
        ]
    ]
    for person in report.people:
        for line in person.lines:
            rows.append(
                [
                    person.person.name,
                    day_text(line.session),
                    line.session.title,
                    "・".join(b.name for b in line.session.bodies),
                    attended_text(line),
                    *[line.minutes.get(p, 0) for p in programmes],
                    line.total,
                    hours(line.total),
                    "・".join(p.label for p in programmes if p in line.unposted),
                    "†" if line.presence_withheld else "",
                ]
            )
        totals = person.totals
        rows.append(
            [
                person.person.name,
                "",
                _("Total for %(period)s", period=report.period.label),
                "",
                "",
                *[totals[p] for p in programmes],
                person.total,
                hours(person.total),
                "",
                "",
            ]
        )
    return rows
