"""The fiscal-year report (年度実績): the figures of one 年度 as ``Table``s and ``Chart``s.

A fiscal year runs from 1 April to 31 March (令和7年度 = 2025-04-01 to 2026-03-31); months are
Tokyo months, times are stored in UTC. The report is for the whole install or for one body
(its own sessions, items, referrals taken to its items, local issues and tasks; not its
subcommittees', which have reports of their own). Who may read which is ``policy``'s
(``can_see_install_report``, ``can_see_body_report``); this module only counts.

What is counted, and why:

- Sessions: those held (開催済) or cancelled (中止) that start in the year, by form. A
  session is 書面開催 when held by written procedure, else 共同開催 when it serves several
  bodies, else 分科会 when its body has a parent, else 単独 (one form each, in that order, so
  that the forms add up to the sessions held). Per body, a joint session counts for each
  body it served; the install's totals count it once.
- Attendance and quorum: the held sessions with an attendance record, reckoned per body as
  the session page does (``services/quorum.py``): the voting members convened (of a body
  convened with selected members, those chosen), present when they attended (or sent a
  proxy where the body counts proxies), quorate when at least the number the rule requires
  was. The rate of a session is present ÷ voting members; the average is the mean of the
  sessions' rates.
- Agenda items of held sessions, by visibility and by topic. Items have no topic of their
  own: an item is counted under the topics of the referrals taken to it (a case brought to a
  支援会議 carries the referral's topics, 家計, 住まい, …), once per topic, and under 「なし」
  when no referral was taken to it. Inventing a second topic list for items would ask the
  secretariat for a field nobody fills in; the referral's topics are already kept.
- Cases discussed: distinct case numbers of the items of held sessions. Only the count ever
  leaves this module: no title, case number or name of an item is in any table.
- Referrals received in the year (受付日), by source, destination, topic, consent and current
  status; the funnel counts those that ever reached each status; the median days from 受付
  to the first 接触済 comes from the status history (ReferralEvent).
- Local issues: raised in the year (提起日); in discussion: taken up by a session of the year;
  resolved: turned into a resource or resolved in the year (the date of that status).
- Meeting hours by programme: ``services/apportionment.py``'s report for the staff holding
  posts in two programmes in the year (for a body: their hours in its sessions).
- Follow-up tasks: opened in the year, done in the year, and overdue: not done at the end
  of the year (or today, for the current year) though due before it.

The number of SQL statements is fixed: every figure is a GROUP BY in SQL (months through a
CASE over the month boundaries, the same on SQLite and PostgreSQL); for attendance, a count
per held session, body and term, whose term is checked against the session's day here.
"""

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, Select, case, distinct, func, select, true, union
from sqlalchemy.orm import Session

from renkei.i18n import gettext as _
from renkei.models import (
    ActionItem,
    AgendaItem,
    Attendance,
    Body,
    Consent,
    IssueDiscussion,
    IssueStatus,
    LocalIssue,
    MeetingSession,
    Membership,
    Mode,
    Organisation,
    Person,
    Post,
    Presence,
    Programme,
    Referral,
    ReferralEvent,
    ReferralStatus,
    Status,
    Topic,
    Visibility,
)
from renkei.models.convening import SelectedMember, Selection
from renkei.models.referrals import referral_topics
from renkei.models.sessions import session_bodies
from renkei.services import apportionment, posts, quorum
from renkei.services.dates import (
    fiscal_year_of,
    japanese_fiscal_year,
    today,
    tokyo_date,
    tokyo_to_utc,
)
from renkei.services.report_tables import Cell, Chart, ChartKind, Column, Kind, Series, Table

FORMS = ("standalone", "joint", "subcommittee", "written")
FUNNEL = (
    ReferralStatus.RECEIVED,
    ReferralStatus.CONTACTED,
    ReferralStatus.SUPPORTING,
    ReferralStatus.CLOSED,
)
RESOLVED = (IssueStatus.RESOURCED, IssueStatus.RESOLVED)


def form_labels() -> dict[str, str]:
    return {
        "standalone": _("Standalone"),
        "joint": _("Joint"),
        "subcommittee": _("Subcommittee"),
        "written": _("Written"),
    }


@dataclass
class AnnualReport:
    fiscal_year: int
    first: date
    last: date
    body: Body | None
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)

    @property
    def label(self) -> str:
        """令和7年度 (2025年4月1日〜2026年3月31日)."""
        return japanese_fiscal_year(self.fiscal_year)

    @property
    def scope(self) -> str:
        return self.body.name if self.body is not None else _("Whole install")

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)

    def chart_for(self, table_key: str) -> list[Chart]:
        return [c for c in self.charts if c.table_key == table_key]


@dataclass(frozen=True)
class Year:
    """The fiscal year as the queries need it: its days, its UTC bounds, its month bounds."""

    number: int
    first: date
    last: date
    start: datetime
    end: datetime
    month_starts: tuple[datetime, ...]  # the 12 Tokyo month starts, UTC

    @classmethod
    def of(cls, number: int) -> "Year":
        months = [date(number + (m < 4), m, 1) for m in (*range(4, 13), 1, 2, 3)]
        starts = tuple(tokyo_to_utc(day, time(0)) for day in months)
        end = tokyo_to_utc(date(number + 1, 4, 1), time(0))
        return cls(number, months[0], date(number + 1, 3, 31), starts[0], end, starts)

    def month_of(self, column: Any) -> ColumnElement[int]:
        """0 (April) to 11 (March) for a UTC time inside the year: a CASE over the month
        boundaries, portable where date functions are not."""
        whens = [(column < bound, index) for index, bound in enumerate(self.month_starts[1:])]
        return case(*whens, else_=11)

    def month_label(self, index: int) -> str:
        month = (index + 3) % 12 + 1
        return _("%(month)d/%(year)d", month=month, year=self.number + (month < 4))

    def holds(self, column: Any) -> Any:
        return (column >= self.start) & (column < self.end)

    def holds_day(self, column: Any) -> Any:
        return (column >= self.first) & (column <= self.last)


def build(
    db: Session, fiscal_year: int, *, reader: Person, body: Body | None = None
) -> AnnualReport:
    """The report of ``fiscal_year`` (the year it starts) for the install or ``body``, as
    ``reader`` (whose right to it the caller has checked) reads it."""
    year = Year.of(fiscal_year)
    report = AnnualReport(fiscal_year, year.first, year.last, body)
    bodies = {b.id: b for b in db.scalars(select(Body).order_by(Body.name))}
    scope = _Scope(year, body, bodies)
    for part in (_sessions, _attendance, _items, _referrals, _issues, _hours, _tasks):
        tables, charts = part(db, scope, reader)
        report.tables += tables
        report.charts += charts
    return report


def available_years(db: Session) -> list[int]:
    """The fiscal years from the first session or referral to this one, newest first: the
    years a report can be asked for."""
    first_session = db.scalar(select(func.min(MeetingSession.start_at)))
    first_referral = db.scalar(select(func.min(Referral.referred_on)))
    starts = [fiscal_year_of(tokyo_date(first_session))] if first_session is not None else []
    if first_referral is not None:
        starts.append(fiscal_year_of(first_referral))
    current = fiscal_year_of(today())
    return list(range(current, min(starts) - 1, -1)) if starts else []


@dataclass(frozen=True)
class _Scope:
    year: Year
    body: Body | None
    bodies: dict[int, Body]

    def body_ids(self) -> list[int]:
        return [self.body.id] if self.body is not None else list(self.bodies)

    def of_body(self, column: Any) -> Any:
        """``column`` is the body's, for a body's report; no condition for the install's
        (which would lead the database to read every year's rows of every body)."""
        return column == self.body.id if self.body is not None else true()

    def name(self, body_id: int) -> str:
        return self.bodies[body_id].name

    def ordered(self, body_ids: Iterable[int]) -> list[int]:
        return sorted(set(body_ids), key=lambda i: self.bodies[i].name)


Part = tuple[list[Table], list[Chart]]


# --- Sessions -------------------------------------------------------------------------------


def _session_rows(scope: _Scope, by_body: bool) -> Select[Any]:
    served = select(func.count()).where(session_bodies.c.session_id == MeetingSession.id)
    sub = (
        select(Body.id)
        .join(session_bodies, session_bodies.c.body_id == Body.id)
        .where(session_bodies.c.session_id == MeetingSession.id, Body.parent_id.is_not(None))
        .exists()
    )
    form = case(
        (MeetingSession.mode == Mode.WRITTEN, "written"),
        (served.scalar_subquery() > 1, "joint"),
        (sub, "subcommittee"),
        else_="standalone",
    )
    inner = select(
        MeetingSession.id.label("session_id"),
        scope.year.month_of(MeetingSession.start_at).label("month"),
        form.label("form"),
        MeetingSession.status.label("status"),
    ).where(
        scope.year.holds(MeetingSession.start_at),
        MeetingSession.status.in_([Status.HELD, Status.CANCELLED]),
    )
    if scope.body is not None:
        inner = inner.where(
            MeetingSession.id.in_(
                select(session_bodies.c.session_id).where(session_bodies.c.body_id == scope.body.id)
            )
        )
    rows = inner.subquery()
    if by_body:
        return (
            select(session_bodies.c.body_id, rows.c.form, rows.c.status, func.count())
            .join(session_bodies, session_bodies.c.session_id == rows.c.session_id)
            .where(scope.of_body(session_bodies.c.body_id))
            .group_by(session_bodies.c.body_id, rows.c.form, rows.c.status)
        )
    return select(rows.c.month, rows.c.form, rows.c.status, func.count()).group_by(
        rows.c.month, rows.c.form, rows.c.status
    )


def _sessions(db: Session, scope: _Scope, _reader: Person) -> Part:
    labels = form_labels()
    per_body: dict[int, Counter[str]] = defaultdict(Counter)
    for body_id, form, status, n in db.execute(_session_rows(scope, by_body=True)):
        per_body[body_id][form if Status(status) == Status.HELD else "cancelled"] += n
    per_month: dict[int, Counter[str]] = defaultdict(Counter)
    for month, form, status, n in db.execute(_session_rows(scope, by_body=False)):
        per_month[month][form if Status(status) == Status.HELD else "cancelled"] += n
    counts = [Column(labels[f], Kind.COUNT) for f in FORMS]
    held, cancelled = Column(_("Held"), Kind.COUNT), Column(_("Cancelled"), Kind.COUNT)

    def line(counter: Counter[str]) -> list[Cell]:
        return [*(counter[f] for f in FORMS), sum(counter[f] for f in FORMS), counter["cancelled"]]

    year_total: Counter[str] = sum(per_month.values(), Counter())
    by_body = Table(
        "sessions_by_body",
        _("Sessions by body and form"),
        [Column(_("Body")), *counts, held, cancelled],
        [[scope.name(b), *line(per_body[b])] for b in scope.ordered(per_body)],
        total=[_("Total (a joint session once)"), *line(year_total)],
        note=_("A joint session counts for each body it served; the total counts it once."),
    )
    months = list(range(12))
    by_month = Table(
        "sessions_by_month",
        _("Sessions by month and form"),
        [Column(_("Month")), *counts, held, cancelled],
        [[scope.year.month_label(m), *line(per_month[m])] for m in months],
        total=[_("Total"), *line(year_total)],
    )
    chart = Chart(
        "sessions_by_month",
        ChartKind.STACKED_BARS,
        _("Sessions held by month"),
        _("Sessions held in each month of the year, stacked by form."),
        [scope.year.month_label(m) for m in months],
        [Series(labels[f], [float(per_month[m][f]) for m in months]) for f in FORMS],
        table_key="sessions_by_month",
    )
    return [by_body, by_month], [chart]


# --- Attendance and quorum ------------------------------------------------------------------


@dataclass
class _Tally:
    """One body's held sessions with a record: their rates and how many were quorate."""

    rates: list[float] = field(default_factory=list)
    quorate: int = 0

    def add(self, present: int, total: int, needed: int) -> None:
        if total == 0:
            return
        self.rates.append(present / total)
        self.quorate += present >= needed

    def line(self) -> list[Cell]:
        average = statistics.fmean(self.rates) if self.rates else None
        return [len(self.rates), average, self.quorate]


def _attendance(db: Session, scope: _Scope, _reader: Person) -> Part:
    year, wanted = scope.year, scope.body_ids()
    # EXISTS, not IN: the index on (session, person) answers it session by session.
    recorded = select(Attendance.id).where(Attendance.session_id == MeetingSession.id).exists()
    served = db.execute(
        select(MeetingSession.id, MeetingSession.start_at, session_bodies.c.body_id)
        .join(session_bodies, session_bodies.c.session_id == MeetingSession.id)
        .where(
            year.holds(MeetingSession.start_at),
            MeetingSession.status == Status.HELD,
            recorded,
            scope.of_body(session_bodies.c.body_id),
        )
    ).all()
    in_year = select(MeetingSession.id).where(
        year.holds(MeetingSession.start_at), MeetingSession.status == Status.HELD
    )
    chosen: dict[tuple[int, int], set[int]] = defaultdict(set)
    for session_id, body_id, person_id in db.execute(
        select(Selection.session_id, Selection.body_id, SelectedMember.person_id)
        .outerjoin(
            SelectedMember,
            (SelectedMember.session_id == Selection.session_id)
            & (SelectedMember.body_id == Selection.body_id),
        )
        .where(Selection.session_id.in_(in_year))
    ):
        people = chosen[(session_id, body_id)]  # a selection of nobody is still a selection
        if person_id is not None:
            people.add(person_id)
    terms: dict[int, list[tuple[int, date, date | None]]] = defaultdict(list)
    for body_id, person_id, start, end in db.execute(
        select(Membership.body_id, Membership.person_id, Membership.term_start, Membership.term_end)
        .where(
            Membership.body_id.in_(wanted),
            Membership.role.in_(quorum.VOTING_ROLES),
            Membership.term_start <= year.last,
            Membership.term_end.is_(None) | (Membership.term_end >= year.first),
        )
        .order_by(Membership.id)
    ):
        terms[body_id].append((person_id, start, end))
    present = _present(db, scope, in_year)
    tallies: dict[int, _Tally] = defaultdict(_Tally)
    monthly: dict[tuple[int, int], _Tally] = defaultdict(_Tally)
    for session_id, start_at, body_id in served:
        body = scope.bodies[body_id]
        day = tokyo_date(start_at)
        selection = chosen.get((session_id, body_id))
        voters = {
            person_id
            for person_id, first, last in terms[body_id]
            if first <= day
            and (last is None or last >= day)
            and (selection is None or person_id in selection)
        }
        counted = present.get((session_id, body_id), {})
        n_present = sum(
            n
            for (first, last, by_proxy), n in counted.items()
            if first <= day
            and (last is None or last >= day)
            and (not by_proxy or body.quorum_counts_proxy)
        )
        # Convened with selected members: a majority of them (as quorum.reckon counts).
        chosen_few = selection is not None
        needed = len(voters) // 2 + 1 if chosen_few else quorum.required(body, len(voters))
        tallies[body_id].add(n_present, len(voters), needed)
        monthly[(body_id, _month_index(year, start_at))].add(n_present, len(voters), needed)
    columns = [
        Column(_("Sessions with an attendance record"), Kind.COUNT),
        Column(_("Average attendance rate"), Kind.PERCENT),
        Column(_("Quorate sessions"), Kind.COUNT),
    ]
    bodies = scope.ordered(b for b in tallies if tallies[b].rates)
    per_body = Table(
        "attendance",
        _("Attendance and quorum by body"),
        [Column(_("Body")), *columns],
        [[scope.name(b), *tallies[b].line()] for b in bodies],
        note=_(
            "Voting members convened, counted as on the session page: present, or by proxy "
            "where the body counts proxies. Sessions without an attendance record are left out."
        ),
    )
    by_month = Table(
        "attendance_by_month",
        _("Attendance and quorum by body and month"),
        [Column(_("Body")), Column(_("Month")), *columns],
        [
            [scope.name(b), year.month_label(m), *monthly[(b, m)].line()]
            for b in bodies
            for m in range(12)
            if monthly[(b, m)].rates
        ],
    )
    chart = Chart(
        "attendance",
        ChartKind.BARS,
        _("Average attendance rate by body"),
        _("The average share of voting members present at each body's recorded sessions."),
        [scope.name(b) for b in bodies],
        [
            Series(
                _("Average attendance rate"), [statistics.fmean(tallies[b].rates) for b in bodies]
            )
        ],
        table_key="attendance",
        percent=True,
    )
    return [per_body, by_month], [chart]


# (term start, term end, by proxy) -> members counted as present, per (session, body)
_Present = dict[tuple[int, int], dict[tuple[date, date | None, bool], int]]


def _present(db: Session, scope: _Scope, in_year: Select[Any]) -> _Present:
    """The voting members present (or represented by a proxy) at each held session of the
    year, per body served, counted in SQL: one row per session, body and term, not one per
    person. The term's dates come back so that the session's Tokyo day is checked here (a
    UTC time and a date do not compare portably in SQL); a person has one term on a body at
    a time (``services/memberships.py`` refuses overlaps), so no one is counted twice.
    Absences are not counted: most lines of a large year."""
    year, body_id = scope.year, session_bodies.c.body_id
    counted_presences = [p for p in Presence if p.attended or p == Presence.PROXY]
    selection = select(Selection.session_id).where(
        Selection.session_id == Attendance.session_id, Selection.body_id == body_id
    )
    chosen = select(SelectedMember.person_id).where(
        SelectedMember.session_id == Attendance.session_id,
        SelectedMember.body_id == body_id,
        SelectedMember.person_id == Attendance.person_id,
    )
    rows = db.execute(
        select(
            Attendance.session_id,
            body_id,
            Membership.term_start,
            Membership.term_end,
            Attendance.presence,
            func.count(),
        )
        .join(session_bodies, session_bodies.c.session_id == Attendance.session_id)
        .join(
            Membership,
            (Membership.body_id == body_id) & (Membership.person_id == Attendance.person_id),
        )
        .where(
            Attendance.session_id.in_(in_year),
            Attendance.presence.in_(counted_presences),
            scope.of_body(body_id),
            Membership.role.in_(quorum.VOTING_ROLES),
            Membership.term_start <= year.last,
            Membership.term_end.is_(None) | (Membership.term_end >= year.first),
            ~selection.exists() | chosen.exists(),
        )
        .group_by(
            Attendance.session_id,
            body_id,
            Membership.term_start,
            Membership.term_end,
            Attendance.presence,
        )
    )
    present: _Present = defaultdict(lambda: defaultdict(int))
    for session_id, served_body, first, last, state, n in rows:
        by_proxy = not Presence(state).attended
        present[(session_id, served_body)][(first, last, by_proxy)] += n
    return present


def _month_index(year: Year, moment: datetime) -> int:
    return sum(1 for bound in year.month_starts[1:] if moment >= bound)


# --- Agenda items and cases -----------------------------------------------------------------


def _held_items(scope: _Scope) -> ColumnElement[bool]:
    held = select(MeetingSession.id).where(
        scope.year.holds(MeetingSession.start_at), MeetingSession.status == Status.HELD
    )
    condition: ColumnElement[bool] = AgendaItem.session_id.in_(held)
    if scope.body is not None:
        condition = condition & (AgendaItem.body_id == scope.body.id)
    return condition


def _items(db: Session, scope: _Scope, _reader: Person) -> Part:
    condition = _held_items(scope)
    counts: dict[int, Counter[Visibility]] = defaultdict(Counter)
    for body_id, visibility, n in db.execute(
        select(AgendaItem.body_id, AgendaItem.visibility, func.count())
        .where(condition)
        .group_by(AgendaItem.body_id, AgendaItem.visibility)
    ):
        counts[body_id][Visibility(visibility)] += n
    order = list(Visibility)
    totals: Counter[Visibility] = sum(counts.values(), Counter())
    by_visibility = Table(
        "items_by_visibility",
        _("Agenda items by visibility"),
        [Column(_("Body")), *(Column(v.label, Kind.COUNT) for v in order), _count(_("Items"))],
        [
            [scope.name(b), *(counts[b][v] for v in order), sum(counts[b].values())]
            for b in scope.ordered(counts)
        ],
        total=[_("Total"), *(totals[v] for v in order), sum(totals.values())],
    )
    topics = db.execute(
        select(Topic.name, func.count(distinct(AgendaItem.id)))
        .select_from(AgendaItem)
        .outerjoin(Referral, Referral.agenda_item_id == AgendaItem.id)
        .outerjoin(referral_topics, referral_topics.c.referral_id == Referral.id)
        .outerjoin(Topic, Topic.id == referral_topics.c.topic_id)
        .where(condition)
        .group_by(Topic.id, Topic.name, Topic.position)
        .order_by(Topic.position.is_(None), Topic.position, Topic.id)
    ).all()
    by_topic = Table(
        "items_by_topic",
        _("Agenda items by topic"),
        [Column(_("Topic")), _count(_("Items"))],
        [[name if name is not None else _("None"), n] for name, n in topics],
        note=_(
            "An item counts under the topics of the referrals taken to it, once per topic; "
            "under None when no referral was taken to it."
        ),
    )
    cases = db.execute(
        select(
            AgendaItem.body_id,
            func.count(distinct(AgendaItem.case_number)),
            func.count(AgendaItem.case_number),
        )
        .where(condition, AgendaItem.case_number.is_not(None))
        .group_by(AgendaItem.body_id)
    ).all()
    overall = db.execute(
        select(
            func.count(distinct(AgendaItem.case_number)), func.count(AgendaItem.case_number)
        ).where(condition, AgendaItem.case_number.is_not(None))
    ).one()
    by_body = {body_id: (distinct_n, items) for body_id, distinct_n, items in cases}
    case_table = Table(
        "cases",
        _("Cases discussed by body"),
        [Column(_("Body")), _count(_("Cases discussed")), _count(_("Case items"))],
        [[scope.name(b), *by_body[b]] for b in scope.ordered(by_body)],
        total=[_("Total (each case once)"), overall[0], overall[1]],
        note=_("Distinct case numbers of the items of held sessions: counts only."),
    )
    return [by_visibility, by_topic, case_table], []


def _count(heading: str) -> Column:
    return Column(heading, Kind.COUNT)


# --- Referrals ------------------------------------------------------------------------------


def _referral_condition(scope: _Scope) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = scope.year.holds_day(Referral.referred_on)
    if scope.body is not None:
        taken = select(AgendaItem.id).where(AgendaItem.body_id == scope.body.id)
        condition = condition & Referral.agenda_item_id.in_(taken)
    return condition


def _referrals(db: Session, scope: _Scope, _reader: Person) -> Part:
    condition = _referral_condition(scope)
    rows = db.execute(select(Organisation.id, Organisation.name))
    names: dict[int, str] = {org_id: name for org_id, name in rows}
    source: Counter[int] = Counter()
    target: Counter[int] = Counter()
    consent: Counter[Consent] = Counter()
    status: Counter[ReferralStatus] = Counter()
    for from_id, to_id, given, now, n in db.execute(
        select(
            Referral.from_organisation_id,
            Referral.to_organisation_id,
            Referral.consent,
            Referral.status,
            func.count(),
        )
        .where(condition)
        .group_by(
            Referral.from_organisation_id,
            Referral.to_organisation_id,
            Referral.consent,
            Referral.status,
        )
    ):
        source[from_id] += n
        target[to_id] += n
        consent[Consent(given)] += n
        status[ReferralStatus(now)] += n
    total = sum(source.values())
    topics = db.execute(
        select(Topic.name, func.count(distinct(Referral.id)))
        .join(referral_topics, referral_topics.c.topic_id == Topic.id)
        .join(Referral, Referral.id == referral_topics.c.referral_id)
        .where(condition)
        .group_by(Topic.id, Topic.name, Topic.position)
        .order_by(Topic.position, Topic.id)
    ).all()
    reached = _reached(db, condition)
    reached[ReferralStatus.RECEIVED] = total  # every referral was received
    days = _days_to_contact(db, condition)
    median = statistics.median(days) if days else None
    org_columns = [Column(_("Organisation")), _count(_("Referrals"))]

    def by_org(key: str, title: str, counter: Counter[int]) -> Table:
        ordered = sorted(counter, key=lambda i: (-counter[i], names.get(i, "")))
        rows: list[list[Cell]] = [[names.get(i, ""), counter[i]] for i in ordered]
        return Table(key, title, org_columns, rows, total=[_("Total"), total])

    tables = [
        Table(
            "referrals_summary",
            _("Referrals"),
            [
                _count(_("Referrals received")),
                _count(_("Contacted")),
                Column(_("Median days from received to contacted"), Kind.DAYS),
            ],
            [[total, len(days), median]],
            note=_("Days from the referral's date to its first change to Contacted."),
        ),
        by_org("referrals_by_source", _("Referrals by source"), source),
        by_org("referrals_by_destination", _("Referrals by destination"), target),
        Table(
            "referrals_by_topic",
            _("Referrals by topic"),
            [Column(_("Topic")), _count(_("Referrals"))],
            [[name, n] for name, n in topics],
            note=_("A referral counts under each of its topics."),
        ),
        Table(
            "referrals_by_consent",
            _("Referrals by consent"),
            [Column(_("Consent")), _count(_("Referrals"))],
            [[c.label, consent[c]] for c in Consent],
            total=[_("Total"), total],
        ),
        Table(
            "referrals_by_status",
            _("Referrals by status"),
            [
                Column(_("Status")),
                _count(_("Now at this status")),
                _count(_("Ever reached this status")),
            ],
            [[s.label, status[s], reached[s]] for s in ReferralStatus],
            total=[_("Total"), total, None],
        ),
    ]
    chart = Chart(
        "referrals_funnel",
        ChartKind.FUNNEL,
        _("Referrals by status reached"),
        _("How many of the year's referrals reached each status, from received to closed."),
        [s.label for s in FUNNEL],
        [Series(_("Referrals"), [float(reached[s]) for s in FUNNEL])],
        table_key="referrals_by_status",
    )
    return tables, [chart]


def _reached(db: Session, condition: ColumnElement[bool]) -> Counter[ReferralStatus]:
    """How many referrals ever reached each status: their status now or one their history
    moved them to, each pair once (UNION), counted in SQL."""
    now = select(Referral.id.label("referral_id"), Referral.status.label("status")).where(condition)
    moved = (
        select(ReferralEvent.referral_id, ReferralEvent.to_status)
        .join(Referral, Referral.id == ReferralEvent.referral_id)
        .where(condition, ReferralEvent.to_status.is_not(None))
    )
    pairs = union(now, moved).subquery()
    rows = db.execute(select(pairs.c.status, func.count()).group_by(pairs.c.status))
    return Counter({ReferralStatus(status): n for status, n in rows})


def _days_to_contact(db: Session, condition: ColumnElement[bool]) -> list[int]:
    """Days from each referral's date to its first change to 接触済, from one row per pair of
    dates (a date difference is not portable SQL)."""
    first = (
        select(ReferralEvent.referral_id, func.min(ReferralEvent.on).label("on"))
        .where(
            ReferralEvent.to_status == ReferralStatus.CONTACTED,
            ReferralEvent.on.is_not(None),
            ReferralEvent.referral_id.in_(select(Referral.id).where(condition)),
        )
        .group_by(ReferralEvent.referral_id)
        .subquery()
    )
    rows = db.execute(
        select(Referral.referred_on, first.c.on, func.count())
        .join(first, first.c.referral_id == Referral.id)
        .where(condition)
        .group_by(Referral.referred_on, first.c.on)
    )
    return [(contacted - received).days for received, contacted, n in rows for _ in range(n)]


# --- Local issues ---------------------------------------------------------------------------


def _issues(db: Session, scope: _Scope, _reader: Person) -> Part:
    year = scope.year
    mine = scope.of_body(LocalIssue.body_id)
    figures: dict[tuple[int, str], Counter[str]] = defaultdict(Counter)
    raised = year.holds_day(LocalIssue.raised_on)
    resolved = LocalIssue.status.in_(RESOLVED) & year.holds_day(LocalIssue.status_on)
    for body_id, area, n_raised, n_resolved in db.execute(
        select(
            LocalIssue.body_id,
            LocalIssue.area,
            func.sum(case((raised, 1), else_=0)),
            func.sum(case((resolved, 1), else_=0)),
        )
        .where(mine, raised | resolved)
        .group_by(LocalIssue.body_id, LocalIssue.area)
    ):
        figures[(body_id, area)].update(raised=n_raised or 0, resolved=n_resolved or 0)
    for body_id, area, n in db.execute(
        select(LocalIssue.body_id, LocalIssue.area, func.count(distinct(LocalIssue.id)))
        .join(IssueDiscussion, IssueDiscussion.issue_id == LocalIssue.id)
        .join(MeetingSession, MeetingSession.id == IssueDiscussion.session_id)
        .where(mine, year.holds(MeetingSession.start_at))
        .group_by(LocalIssue.body_id, LocalIssue.area)
    ):
        figures[(body_id, area)]["discussed"] += n
    keys = sorted(figures, key=lambda k: (scope.name(k[0]), k[1]))
    parts = ("raised", "discussed", "resolved")
    totals: Counter[str] = sum(figures.values(), Counter())
    table = Table(
        "local_issues",
        _("Local issues by consultative body and area"),
        [
            Column(_("Consultative body")),
            Column(_("Area")),
            _count(_("Raised")),
            _count(_("In discussion")),
            _count(_("Resolved or turned into a resource")),
        ],
        [[scope.name(b), area, *(figures[(b, area)][p] for p in parts)] for b, area in keys],
        total=[_("Total"), "", *(totals[p] for p in parts)],
        note=_(
            "Raised: raised in the year. In discussion: taken up by a session of the year. "
            "Resolved: resolved or turned into a resource in the year."
        ),
    )
    statuses = Counter(
        {
            IssueStatus(s): n
            for s, n in db.execute(
                select(LocalIssue.status, func.count())
                .where(mine, raised)
                .group_by(LocalIssue.status)
            )
        }
    )
    by_status = Table(
        "issues_by_status",
        _("Local issues raised in the year by status"),
        [Column(_("Status")), _count(_("Local issues"))],
        [[s.label, statuses[s]] for s in IssueStatus],
        total=[_("Total"), sum(statuses.values())],
    )
    chart = Chart(
        "issues_by_status",
        ChartKind.BARS,
        _("Local issues by status"),
        _("Where the local issues raised in the year stand now."),
        [s.label for s in IssueStatus],
        [Series(_("Local issues"), [float(statuses[s]) for s in IssueStatus])],
        table_key="issues_by_status",
    )
    return [table, by_status], [chart]


# --- Meeting hours (apportionment) ----------------------------------------------------------


def _hours(db: Session, scope: _Scope, reader: Person) -> Part:
    period = apportionment.fiscal_year(scope.year.number)
    staff = posts.holders(db, period.first, period.last)
    result = apportionment.report(db, period, staff, reader=reader)
    rows: list[list[Cell]] = []
    sums: Counter[Programme] = Counter()
    programmes = list(Programme)
    for person in result.people:
        held = {p.programme for p in person.posts if _overlaps(p, period)}
        if len(held) < 2:
            continue
        minutes: Counter[Programme] = Counter()
        for line in person.lines:
            if scope.body is None or scope.body in line.session.bodies:
                minutes.update(line.minutes)
        if scope.body is not None and not minutes:
            continue
        rows.append(
            [person.person.name, *(minutes[p] / 60 for p in programmes), sum(minutes.values()) / 60]
        )
        sums.update(minutes)
    used = [i for i, p in enumerate(programmes) if any(row[i + 1] for row in rows)]
    table = Table(
        "hours",
        _("Meeting hours by programme (staff with two posts)"),
        [
            Column(_("Name")),
            *(Column(programmes[i].label, Kind.HOURS) for i in used),
            Column(_("Total"), Kind.HOURS),
        ],
        [[row[0], *(row[i + 1] for i in used), row[-1]] for row in rows],
        total=[_("Total"), *(sums[programmes[i]] / 60 for i in used), sum(sums.values()) / 60],
        note=_("The apportionment report's totals for the year, in hours."),
    )
    return [table], []


def _overlaps(post: Post, period: apportionment.Period) -> bool:
    return post.start_on <= period.last and (post.end_on is None or post.end_on >= period.first)


# --- Follow-up tasks ------------------------------------------------------------------------


def _tasks(db: Session, scope: _Scope, _reader: Person) -> Part:
    year = scope.year
    cutoff = min(year.last, today())  # overdue: due before this day and not done by then
    cutoff_at = tokyo_to_utc(cutoff, time(0))
    opened = year.holds(ActionItem.created_at)
    done = ActionItem.done_at.is_not(None) & year.holds(ActionItem.done_at)
    overdue = (
        (ActionItem.created_at < cutoff_at)
        & (ActionItem.due_on < cutoff)
        & (ActionItem.done_at.is_(None) | (ActionItem.done_at >= cutoff_at))
    )
    rows = db.execute(
        select(
            ActionItem.body_id,
            func.sum(case((opened, 1), else_=0)),
            func.sum(case((done, 1), else_=0)),
            func.sum(case((overdue, 1), else_=0)),
        )
        .where(scope.of_body(ActionItem.body_id), opened | done | overdue)
        .group_by(ActionItem.body_id)
    ).all()
    figures = {body_id: [a or 0, b or 0, c or 0] for body_id, a, b, c in rows}
    totals = [sum(f[i] for f in figures.values()) for i in range(3)]
    table = Table(
        "tasks",
        _("Follow-up tasks by body"),
        [Column(_("Body")), _count(_("Opened")), _count(_("Done")), _count(_("Overdue"))],
        [[scope.name(b), *figures[b]] for b in scope.ordered(figures)],
        total=[_("Total"), *totals],
        note=_(
            "Opened and done in the year; overdue: not done at the end of the year (or today) "
            "though due before it."
        ),
    )
    return [table], []
