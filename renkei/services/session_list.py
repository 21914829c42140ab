"""The list of sessions (/sessions/): every session a person may know of, coming and past,
filtered by body, status and fiscal year, and the month (or week) calendar of them.

Which sessions a person may know of is ``policy.SessionAccess.can_view``, asked here in SQL
so that a list of hundreds loads only what it shows: a session of a body the person sits on
today, or sat on on the session's date (any role: a member not chosen for a body convened
with selected members still knows that it meets), one they take part in as 関係者, every
session for an administrator; and a session being prepared only for its secretariat
(``scheduling._known_to``). The tests hold the two to agree session by session.
"""

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from renkei.i18n import lazy_gettext as _l
from renkei.models import Body, MeetingSession, Membership, Participant, Person, Status
from renkei.models.sessions import session_bodies
from renkei.services import policy, scheduling
from renkei.services.dates import (
    fiscal_year_of,
    holiday_name,
    install_style,
    japanese_fiscal_year,
    tokyo_date,
    tokyo_to_utc,
)
from renkei.services.errors import DomainError
from renkei.services.scheduling import FIRST_YEAR, LAST_YEAR, ONE_DAY, _known_to

PER_PAGE = 30
# Japanese municipal calendars start the week on Sunday (日曜始まり).
FIRST_WEEKDAY = calendar.SUNDAY
MONTH_PATTERN = re.compile(r"(\d{4})-(\d{1,2})")
YEAR_PATTERN = re.compile(r"\d{4}")


@dataclass
class Filters:
    """What the list is narrowed to; None: no narrowing."""

    body_id: int | None = None
    status: Status | None = None
    fiscal_year: int | None = None


def narrowed_to(filters: Filters, bodies: Sequence[Body], *, by_year: bool) -> list[str]:
    """What the list was narrowed to, in words, for the printed page (where the filter form
    is not printed). ``by_year``: the list view, the one the fiscal year narrows."""
    chosen = [body.name for body in bodies if body.id == filters.body_id]
    if filters.status:
        chosen.append(str(filters.status.label))
    if filters.fiscal_year and by_year:
        chosen.append(japanese_fiscal_year(filters.fiscal_year, install_style()))
    return chosen


# --- Who may know of which sessions ---------------------------------------------------------


def visible_to(db: Session, person: Person, on: date) -> ColumnElement[bool]:
    """SQL for ``policy.session_access(db, person, session).can_view`` (``on``: today)."""
    known = _known_to(db, person)
    if person.is_admin:
        return known
    return and_(
        known,
        or_(
            scheduling.served_by_terms(scheduling.person_terms(db, person), on),
            _participant(person),
        ),
    )


def _participant(person: Person) -> ColumnElement[bool]:
    return exists().where(
        Participant.session_id == MeetingSession.id, Participant.person_id == person.id
    )


def body_choices(db: Session, person: Person) -> list[Body]:
    """The bodies the list may be narrowed to: every body for an administrator, else those
    the person has (or had) a term on, whose sessions they may know of."""
    query = select(Body).order_by(Body.name)
    if not person.is_admin:
        mine = select(Membership.body_id).where(Membership.person_id == person.id)
        query = query.where(Body.id.in_(mine))
    return list(db.scalars(query))


def status_choices(db: Session, person: Person) -> list[Status]:
    """準備中 is offered to a secretariat only: nobody else may know of such a session."""
    if policy.secretary_body_ids(db, person):
        return list(Status)
    return [s for s in Status if s != Status.PREPARED]


# --- Reading the filters ----------------------------------------------------------------------


def parse_filters(
    args: dict[str, str], bodies: Sequence[Body], statuses: Sequence[Status]
) -> tuple[Filters, dict[str, str]]:
    """The filters from a query string, and a message per field that was not understood (a
    filter not understood narrows nothing)."""
    filters, errors = Filters(), {}
    body = (args.get("body") or "").strip()
    if body:
        found = next((b.id for b in bodies if str(b.id) == body), None)
        if found is None:
            errors["body"] = str(_l("Choose a body from the list."))
        filters.body_id = found
    status = (args.get("status") or "").strip()
    if status:
        found_status = next((s for s in statuses if s.value == status), None)
        if found_status is None:
            errors["status"] = str(_l("Choose a status from the list."))
        filters.status = found_status
    year = (args.get("year") or "").strip()
    if year:
        try:
            filters.fiscal_year = parse_fiscal_year(year)
        except DomainError as error:
            errors["year"] = str(error.message)
    return filters, errors


def parse_fiscal_year(text: str) -> int:
    """A fiscal year as four Western digits (2026 for 令和8年度, April 2026 to March 2027)."""
    text = text.strip()
    if not YEAR_PATTERN.fullmatch(text) or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        raise DomainError(
            _l(
                "Enter the fiscal year as four digits between %(first)d and %(last)d, "
                "such as 2026.",
                first=FIRST_YEAR,
                last=LAST_YEAR,
            ),
            "year",
        )
    return int(text)


def parse_month(text: str | None, default: date) -> date:
    """The first day of a month written 2026-12; ``default``'s month when nothing is given."""
    if not text or not text.strip():
        return default.replace(day=1)
    match = MONTH_PATTERN.fullmatch(text.strip())
    if match is None or not 1 <= int(match[2]) <= 12:
        raise DomainError(_l("Enter the month as year and month, such as 2026-12."), "month")
    year = int(match[1])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise DomainError(
            _l("Enter a date between %(first)d and %(last)d.", first=FIRST_YEAR, last=LAST_YEAR),
            "month",
        )
    return date(year, int(match[2]), 1)


def parse_week(text: str | None, default: date) -> date:
    """The Sunday starting the week of a day written 2026-12-10; ``default``'s week."""
    day = _day(text) if text and text.strip() else default
    return day - timedelta(days=(day.weekday() + 1) % 7)


def _day(text: str) -> date:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        day = None
    if day is None or not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise DomainError(_l("Enter a day of the week, such as 2026-12-10."), "week")
    return day


# --- The list -------------------------------------------------------------------------------


def _query(db: Session, person: Person, filters: Filters, on: date) -> Select[MeetingSession]:
    query = select(MeetingSession).where(visible_to(db, person, on))
    if filters.body_id is not None:
        query = query.where(
            exists().where(
                session_bodies.c.session_id == MeetingSession.id,
                session_bodies.c.body_id == filters.body_id,
            )
        )
    if filters.status is not None:
        query = query.where(MeetingSession.status == filters.status)
    if filters.fiscal_year is not None:
        first = tokyo_to_utc(date(filters.fiscal_year, 4, 1), time(0))
        last = tokyo_to_utc(date(filters.fiscal_year + 1, 4, 1), time(0))
        query = query.where(MeetingSession.start_at >= first, MeetingSession.start_at < last)
    return query


@dataclass
class Listing:
    coming: list[scheduling.SessionRow]
    past: list[scheduling.SessionRow]
    page: int
    pages: int


def listing(
    db: Session, person: Person, filters: Filters, *, now: datetime, on: date, page: int = 1
) -> Listing:
    """Sessions not yet ended, soonest first; and one page of those ended, newest first."""
    query = _query(db, person, filters, on)
    # The bound on the start (no session lasts longer) lets the database walk the start
    # index from now, rather than from a town's first session ten years ago.
    not_ended = (MeetingSession.end_at >= now) & (
        MeetingSession.start_at >= now - scheduling.MAX_LENGTH
    )
    coming = scheduling.session_rows(
        db, query.where(not_ended).order_by(MeetingSession.start_at, MeetingSession.id)
    )
    past_query = query.where(MeetingSession.end_at < now)
    total = db.scalar(select(func.count()).select_from(past_query.subquery())) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(page, 1), pages)
    past = scheduling.session_rows(
        db,
        past_query.order_by(MeetingSession.start_at.desc(), MeetingSession.id.desc())
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE),
    )
    return Listing(coming=coming, past=past, page=page, pages=pages)


def known_fiscal_years(db: Session, person: Person, on: date) -> list[int]:
    """Fiscal years offered in the filter: from that of the person's first session to that
    of their last, and always this one."""
    # The first and the last by the start index, each stopping at the first session visible:
    # min() and max() tested every session of the town.
    visible = select(MeetingSession.start_at).where(visible_to(db, person, on)).limit(1)
    first = db.scalar(visible.order_by(MeetingSession.start_at))
    last = db.scalar(visible.order_by(MeetingSession.start_at.desc()))
    years = {fiscal_year_of(on)}
    if first is not None and last is not None:
        years |= {fiscal_year_of(tokyo_date(first)), fiscal_year_of(tokyo_date(last))}
    return list(range(min(years), max(years) + 1))


# --- The calendar ---------------------------------------------------------------------------


@dataclass
class Day:
    day: date
    in_range: bool  # in the month shown (a month grid shows the ends of its neighbours)
    is_today: bool
    holiday: str | None
    sessions: list[MeetingSession] = field(default_factory=list)

    @property
    def moment(self) -> datetime:
        """Noon of the day, as the ``tokyo`` filter reads a stored time."""
        return tokyo_to_utc(self.day, time(12))

    @property
    def is_sunday(self) -> bool:
        return self.day.weekday() == calendar.SUNDAY

    @property
    def is_saturday(self) -> bool:
        return self.day.weekday() == calendar.SATURDAY


def _sessions_between(
    db: Session, person: Person, filters: Filters, first: date, last: date, on: date
) -> list[MeetingSession]:
    """Sessions starting (Tokyo) from ``first`` to ``last``, in order."""
    query = _query(db, person, Filters(filters.body_id, filters.status), on).where(
        MeetingSession.start_at >= tokyo_to_utc(first, time(0)),
        MeetingSession.start_at < tokyo_to_utc(last + ONE_DAY, time(0)),
    )
    query = query.options(selectinload(MeetingSession.bodies))
    return list(db.scalars(query.order_by(MeetingSession.start_at, MeetingSession.id)))


def _days(
    db: Session,
    person: Person,
    filters: Filters,
    first: date,
    last: date,
    *,
    on: date,
    shown: tuple[date, date],
) -> list[Day]:
    by_day: dict[date, list[MeetingSession]] = {}
    for session in _sessions_between(db, person, filters, *shown, on):
        by_day.setdefault(tokyo_date(session.start_at), []).append(session)
    days = []
    day = first
    while day <= last:
        days.append(
            Day(
                day=day,
                in_range=shown[0] <= day <= shown[1],
                is_today=day == on,
                holiday=holiday_name(day),
                sessions=by_day.get(day, []),
            )
        )
        day += ONE_DAY
    return days


def month_weeks(
    db: Session, person: Person, filters: Filters, month: date, *, on: date
) -> list[list[Day]]:
    """The month of ``month`` as whole weeks, Sunday first, each day with its sessions."""
    weeks = calendar.Calendar(FIRST_WEEKDAY).monthdatescalendar(month.year, month.month)
    last_day = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    days = _days(db, person, filters, weeks[0][0], weeks[-1][-1], on=on, shown=(month, last_day))
    return [days[i : i + 7] for i in range(0, len(days), 7)]


def week_days(
    db: Session, person: Person, filters: Filters, sunday: date, *, on: date
) -> list[Day]:
    """The seven days from ``sunday``, each with its sessions."""
    saturday = sunday + timedelta(days=6)
    return _days(db, person, filters, sunday, saturday, on=on, shown=(sunday, saturday))


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def previous_month(month: date) -> date:
    return (month - ONE_DAY).replace(day=1)
