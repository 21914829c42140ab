"""Scheduling sessions: creating, changing and cancelling them, their invitees and replies.

Invitees are the union of the current members (on the session's date, in Tokyo) of every
body the session serves, each person once however many of those bodies they sit on (of a
body convened with selected members, only those chosen), plus named guests and the
session's participants. Holidays and clashes are warnings, never walls: the secretary may
go on.
"""

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, Exists, Row, Select, and_, exists, false, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.sql.base import ExecutableOption

from renkei import textnorm
from renkei.db import unindexed_on_sqlite, utcnow
from renkei.i18n import labelled
from renkei.i18n import lazy_gettext as _l
from renkei.models import (
    Answer,
    Body,
    Guest,
    MeetingSession,
    Membership,
    Mode,
    Participant,
    Person,
    Reply,
    Role,
    SelectedMember,
    Selection,
    SessionChange,
    Status,
)
from renkei.models.sessions import session_bodies
from renkei.services import policy
from renkei.services.dates import holiday_name, in_tokyo, tokyo_date, tokyo_to_utc
from renkei.services.errors import Checks, DomainError, Forbidden

MAX_LENGTH = timedelta(hours=24)
ONE_DAY = timedelta(days=1)
# Dates outside these years are typing mistakes, and far ones overflow date arithmetic.
FIRST_YEAR, LAST_YEAR = 2000, 2099


@dataclass
class SessionData:
    title: str
    body_ids: list[int]
    host_body_id: int | None
    start: datetime  # timezone-aware
    end: datetime
    presiding_person_id: int | None = None
    place: str = ""
    online_url: str = ""
    mode: str = Mode.IN_PERSON.value
    notes: str = ""


@dataclass
class Invitee:
    person: Person
    bodies: list[Body] = field(default_factory=list)
    roles: dict[int, str] = field(default_factory=dict)  # body id -> role

    @property
    def is_secretariat_only(self) -> bool:
        """Brought in as 事務局 only: the organizing side, not an attendee."""
        return bool(self.roles) and all(role == Role.SECRETARY for role in self.roles.values())


@dataclass
class SchedulingWarning:
    """Something the secretary should know before going on; the page words it.

    ``kind`` "holiday": ``holiday`` names it. ``kind`` "clash": ``people`` are invitees who
    also attend ``other``; ``other`` is None when the secretary may not know of that session.
    """

    kind: str
    start: datetime
    holiday: str | None = None
    other: MeetingSession | None = None
    people: list[str] = field(default_factory=list)


# --- Checks -------------------------------------------------------------------------------


def validate(db: Session, data: SessionData, *, by: Person, times: bool = True) -> list[Body]:
    """Raise DomainError for what is wrong, DomainErrors for several things at once (the
    form shows them together); return the bodies served. ``times=False``: the form could
    not read the date or times, and says so itself; the rest is still checked."""
    checks = Checks()
    with checks:
        if not data.title.strip():
            raise DomainError(_l("Enter a title."), "title")
    if times:
        with checks:
            check_times(data)
    bodies: list[Body] = []
    with checks:
        bodies = _served(db, data, by)
    with checks:
        if (
            data.presiding_person_id is not None
            and db.get(Person, data.presiding_person_id) is None
        ):
            raise DomainError(_l("The person does not exist."), "presiding_person_id")
    with checks:
        _check_mode(data.mode)
    with checks:
        _check_url(data.online_url)
    checks.done()
    return bodies


def _served(db: Session, data: SessionData, by: Person) -> list[Body]:
    """The bodies served, one of them the host, all of them the secretary's."""
    bodies = _bodies(db, data)
    if data.host_body_id not in {body.id for body in bodies}:
        raise DomainError(_l("The host body must be one of the bodies served."), "host_body_id")
    managed = policy.secretary_body_ids(db, by)
    if not {body.id for body in bodies} <= managed:
        raise Forbidden(
            _l("You can only schedule sessions of bodies whose secretariat you are."), "body_ids"
        )
    return bodies


def _check_mode(mode: str) -> None:
    try:
        Mode(mode)
    except ValueError:
        raise DomainError(_l("Choose how the session is held."), "mode") from None


def check_times(data: SessionData) -> None:
    """The checks on start and end alone, which need no database."""
    if data.end <= data.start:
        raise DomainError(_l("The session must end after it starts."), "end_time")
    if data.end - data.start > MAX_LENGTH:
        raise DomainError(_l("A session cannot last longer than 24 hours."), "end_time")
    if not FIRST_YEAR <= tokyo_date(data.start).year <= LAST_YEAR:
        raise DomainError(
            _l("Enter a date between %(first)d and %(last)d.", first=FIRST_YEAR, last=LAST_YEAR),
            "start_date",
        )


def _bodies(db: Session, data: SessionData) -> list[Body]:
    ids = set(data.body_ids)
    if not ids:
        raise DomainError(_l("Choose at least one body."), "body_ids")
    bodies = list(db.scalars(select(Body).where(Body.id.in_(ids)).order_by(Body.name)))
    if len(bodies) != len(ids):
        raise DomainError(_l("This body does not exist."), "body_ids")
    return bodies


def _check_url(url: str) -> None:
    if not url:
        return
    if any(c.isspace() for c in url) or textnorm.has_controls(url):
        # A link broken over lines, or with a space, is no link: say so rather than join
        # up what was typed (or write a calendar line it would break).
        raise DomainError(
            _l("Enter the meeting link as one web address, without spaces or line breaks."),
            "online_url",
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DomainError(_l("Enter the meeting link starting with https://."), "online_url")


def warnings(
    db: Session,
    data: SessionData,
    *,
    by: Person | None = None,
    exclude_ids: set[int] | None = None,
) -> list[SchedulingWarning]:
    """Holiday and clash warnings for a planned session (nothing is saved).

    A clashing session is named only to someone who may see it: to anyone else even its
    existence at that hour could say who is being discussed.
    """
    found = []
    holiday = holiday_name(tokyo_date(data.start))
    if holiday:
        found.append(SchedulingWarning("holiday", data.start, holiday=holiday))
    for other, names in clashing_sessions(db, data, exclude_ids or set()):
        visible = by is not None and policy.session_access(db, by, other).can_view
        found.append(
            SchedulingWarning("clash", data.start, other=other if visible else None, people=names)
        )
    return found


def clashing_sessions(
    db: Session, data: SessionData, exclude_ids: set[int]
) -> list[tuple[MeetingSession, list[str]]]:
    """Other sessions overlapping in time that share invitees, with the shared names."""
    return clashes_in_windows(db, set(data.body_ids), [(data.start, data.end)], exclude_ids)[0]


def clashes_in_windows(
    db: Session,
    body_ids: set[int],
    windows: list[tuple[datetime, datetime]],
    exclude_ids: Collection[int] = (),
) -> list[list[tuple[MeetingSession, list[str]]]]:
    """For each (start, end) window: the other sessions overlapping it that share invitees
    with the members of ``body_ids``, with the shared names (a date poll asks for all its
    candidate slots at once).

    Three queries whatever the number of windows and clashes: the overlapping sessions,
    and the terms on every body involved.
    """
    if not windows:
        return []
    first, last = min(w[0] for w in windows), max(w[1] for w in windows)
    candidates = [
        other
        for other in db.scalars(
            select(MeetingSession)
            .where(
                MeetingSession.start_at < last,
                MeetingSession.end_at > first,
                MeetingSession.status != Status.CANCELLED,
            )
            .options(selectinload(MeetingSession.bodies))
        )
        if other.id not in exclude_ids
    ]
    if not candidates:
        return [[] for _ in windows]
    involved = set(body_ids) | {body.id for other in candidates for body in other.bodies}
    days = [tokyo_date(start) for start, _end in windows]
    terms = _terms_between(db, involved, min(days), max(days))
    result = []
    for (start, end), day in zip(windows, days, strict=True):
        others = [o for o in candidates if o.start_at < end and o.end_at > start]
        result.append(_shared_invitees(others, body_ids, [t for t in terms if t.is_current(day)]))
    return result


def _shared_invitees(
    others: list[MeetingSession], body_ids: set[int], terms: list[Membership]
) -> list[tuple[MeetingSession, list[str]]]:
    people_on: dict[int, set[int]] = {}
    names: dict[int, str] = {}
    for term in terms:
        people_on.setdefault(term.body_id, set()).add(term.person_id)
        names[term.person_id] = term.person.name
    invited = set().union(*(people_on.get(body_id, set()) for body_id in body_ids))
    result = []
    for other in others:
        theirs = set().union(*(people_on.get(body.id, set()) for body in other.bodies))
        shared = sorted(names[i] for i in invited & theirs)
        if shared:
            result.append((other, shared))
    return result


# --- Invitees -----------------------------------------------------------------------------


def _terms_between(db: Session, body_ids: set[int], first: date, last: date) -> list[Membership]:
    """Terms on ``body_ids`` current on some day from ``first`` to ``last``."""
    if not body_ids:
        return []
    return list(
        db.scalars(
            select(Membership)
            .where(
                Membership.body_id.in_(body_ids),
                Membership.term_start <= last,
                Membership.term_end.is_(None) | (Membership.term_end >= first),
            )
            .options(joinedload(Membership.person), joinedload(Membership.body))
        )
    )


def invitees(db: Session, session: MeetingSession) -> list[Invitee]:
    """Each current member of a served body convened to the session once, with the bodies
    that bring them in: of a body convened with selected members (選定招集), only those
    chosen. Participants (関係者) are not members and are listed apart
    (``session.participants``)."""
    # Without a selection of members (選定招集) every member is convened: no test per term.
    convenes = session.convenes if session.selections else None
    return invitees_of(db, session.bodies, tokyo_date(session.start_at), convenes)


def invitees_of(
    db: Session,
    bodies: Iterable[Body],
    day: date,
    convenes: Callable[[int, int], bool] | None = None,
) -> list[Invitee]:
    """Each member of ``bodies`` current on ``day`` once, with the bodies that bring them
    in: the invitees of a session, or of a date poll before there is a session.
    ``convenes(body id, person id)`` leaves out the members a session does not convene."""
    by_id = {body.id: body for body in bodies}
    if not by_id:
        return []
    # One row per current term: the person (an ORM object, as mail and letters need it)
    # with the body and role as plain columns; the bodies are those given, not loaded again.
    rows = db.execute(
        select(Person, Membership.body_id, Membership.role)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.body_id.in_(by_id), policy.current_membership_filter(day))
    )
    by_person: dict[int, Invitee] = {}
    for person, body_id, role in rows:
        if convenes is not None and not convenes(body_id, person.id):
            continue
        invitee = by_person.get(person.id)
        if invitee is None:
            invitee = by_person[person.id] = Invitee(person=person)
        if body_id not in invitee.roles:
            invitee.bodies.append(by_id[body_id])
        invitee.roles[body_id] = role
    return sorted(by_person.values(), key=lambda i: (i.person.kana or i.person.name, i.person.id))


def is_invitee(db: Session, session: MeetingSession, person: Person) -> bool:
    """Convened to the session: a member of a served body on its date whom it convenes, or
    one of its participants. They answer attendance and may take the invitation file."""
    if any(p.person_id == person.id for p in session.participants):
        return True
    day = tokyo_date(session.start_at)
    body_ids = db.scalars(
        select(Membership.body_id).where(
            Membership.person_id == person.id,
            Membership.body_id.in_([b.id for b in session.bodies]),
            policy.current_membership_filter(day),
        )
    )
    return any(session.convenes(body_id, person.id) for body_id in body_ids)


# --- Changes ------------------------------------------------------------------------------

# What calendars show of a session (or whom it convenes): a change is sent to those concerned.
CALENDAR_FIELDS = {"title", "start_at", "end_at", "place", "online_url", "bodies", "host_body_id"}
HISTORY_FIELDS = ("title", "start_at", "end_at", "place", "online_url", "mode", "notes",
                  "host_body_id", "presiding_person_id", "status")  # fmt: skip


def _apply(session: MeetingSession, data: SessionData, bodies: list[Body]) -> list[str]:
    """Copy ``data`` onto ``session``; return the names of the fields that changed."""
    values = {
        "title": data.title.strip(),
        "start_at": data.start,
        "end_at": data.end,
        "place": data.place.strip(),
        "online_url": data.online_url.strip(),
        "mode": Mode(data.mode),
        "notes": data.notes.strip(),
        "host_body_id": data.host_body_id,
        "presiding_person_id": data.presiding_person_id,
    }
    changed = [name for name, value in values.items() if getattr(session, name) != value]
    for name, value in values.items():
        setattr(session, name, value)
    if {b.id for b in session.bodies} != {b.id for b in bodies}:
        session.bodies = bodies
        # A body no longer served convenes nobody: its selection of members goes with it.
        served = {b.id for b in bodies}
        session.selections = [s for s in session.selections if s.body_id in served]
        changed.append("bodies")
    return changed


FIELD_LABELS = {
    "title": _l("Title"),
    "start_at": _l("Starts at"),
    "end_at": _l("Ends at"),
    "place": _l("Place"),
    "online_url": _l("Online meeting link"),
    "mode": _l("How it is held"),
    "notes": _l("Notes"),
    "host_body_id": _l("Host body"),
    "presiding_person_id": _l("Presiding"),
    "status": _l("Status"),
}


def _history_values(session: MeetingSession) -> dict[str, object]:
    """The session's fields as history shows them: the host and presiding person by name."""
    values = {name: getattr(session, name) for name in HISTORY_FIELDS}
    values["host_body_id"] = session.host_body.name if session.host_body else None
    values["presiding_person_id"] = (
        session.presiding_person.name if session.presiding_person else None
    )
    return values


def _describe(name: str, old: object, new: object) -> str:
    """One history line, "Place: 役場 → 公民館", in the language of whoever made the change."""

    def shown(value: object) -> str:
        if isinstance(value, datetime):
            return f"{in_tokyo(value):%Y-%m-%d %H:%M}"
        return str(getattr(value, "label", value) or "—")

    return labelled(str(FIELD_LABELS.get(name, name)), f"{shown(old)} → {shown(new)}")


def record(
    db: Session, session: MeetingSession, kind: str, by: Person | None, detail: str = ""
) -> None:
    db.add(SessionChange(session=session, person=by, kind=kind, detail=detail))


def create_session(
    db: Session, data: SessionData, *, by: Person, **extra: object
) -> MeetingSession:
    return create_sessions(db, [(data, extra)], by=by)[0]


def create_sessions(
    db: Session, occurrences: list[tuple[SessionData, dict[str, object]]], *, by: Person
) -> list[MeetingSession]:
    """Sessions alike but for their times (the occurrences of a series), each with its model
    attributes: checked against the database once, written in one flush."""
    bodies = validate(db, occurrences[0][0], by=by)
    created = []
    for data, extra in occurrences:
        check_times(data)
        session = MeetingSession(**extra)
        _apply(session, data, bodies)
        # Prepared, for the secretariat to convene; recorded after its time: held, unannounced.
        session.status = Status.HELD if data.start <= utcnow() else Status.PREPARED
        db.add(session)
        record(db, session, "created", by)
        created.append(session)
    db.flush()
    return created


def update_session(
    db: Session, session: MeetingSession, data: SessionData, *, by: Person
) -> list[str]:
    """Change a session; keep who changed what in its history. Returns the changed fields."""
    require_manager(db, session, by)
    bodies = validate(db, data, by=by)
    removed = {b.id for b in session.bodies} - set(data.body_ids)
    if any(item.body_id in removed for item in session.items):
        raise DomainError(
            _l(
                "A body you took away owns agenda items of this session. Move those items "
                "to another body or delete them first."
            ),
            "body_ids",
        )
    before = _history_values(session)
    changed = _apply(session, data, bodies)
    if not changed:
        return []
    if CALENDAR_FIELDS & set(changed):
        session.note_change()
    moved = "start_at" in changed or "end_at" in changed
    db.flush()
    db.expire(session, ["host_body", "presiding_person"])
    after = _history_values(session)
    detail = "\n".join(
        _describe(name, before[name], after[name]) for name in changed if name in before
    )
    record(db, session, "rescheduled" if moved else "edited", by, detail)
    db.flush()
    return changed


def cancel_session(db: Session, session: MeetingSession, *, by: Person, reason: str = "") -> None:
    require_manager(db, session, by)
    if session.status == Status.CANCELLED:
        raise DomainError(_l("This session is already cancelled."))
    session.status = Status.CANCELLED
    session.note_change()
    record(db, session, "cancelled", by, reason.strip())
    db.flush()


def set_status(db: Session, session: MeetingSession, status: str, *, by: Person) -> None:
    """Mark held, or not held after all (``convened``: back to convened, or to prepared if
    it never was). Cancelling goes through ``cancel_session``; calendars show neither."""
    require_manager(db, session, by)
    held = Status(status) == Status.HELD
    if session.status == Status.CANCELLED:
        raise DomainError(_l("This session has been cancelled."))
    if held and session.start_at > utcnow():
        raise DomainError(_l("A session that has not started yet cannot be marked as held."))
    not_held = Status.CONVENED if session.convened_at is not None else Status.PREPARED
    status = Status.HELD if held else not_held
    if status == session.status:
        return
    old = session.status
    session.status = status
    record(db, session, "status", by, _describe("status", old, status))
    db.flush()


def require_manager(db: Session, session: MeetingSession, by: Person) -> None:
    if not policy.session_access(db, by, session).can_manage:
        raise Forbidden(_l("Only the secretariat of the bodies served may change this session."))


# --- Guests -------------------------------------------------------------------------------


def add_guest(
    db: Session, session: MeetingSession, *, name: str, email: str, organisation: str, by: Person
) -> Guest:
    from renkei.services.accounts import validate_email

    require_manager(db, session, by)
    if session.status == Status.CANCELLED:
        raise DomainError(_l("This session has been cancelled."))
    if not name.strip():
        raise DomainError(_l("Enter a name."), "name")
    guest = Guest(
        session=session,
        name=name.strip(),
        email=validate_email(email) or "",
        organisation=organisation.strip(),
    )
    db.add(guest)
    session.note_change()
    db.flush()
    return guest


def remove_guest(db: Session, guest: Guest, *, by: Person) -> None:
    require_manager(db, guest.session, by)
    guest.session.note_change()
    guest.session.guests.remove(guest)  # deleted (orphan), and gone from the loaded list
    db.flush()


# --- Replies ------------------------------------------------------------------------------


def set_reply(
    db: Session,
    session: MeetingSession,
    person: Person,
    answer: str,
    *,
    proxy_name: str = "",
    comment: str = "",
) -> Reply:
    """An invitee answers (or changes their answer) for themself."""
    if not is_invitee(db, session, person):
        raise Forbidden(_l("You are not invited to this session."))
    if session.status == Status.CANCELLED:
        raise DomainError(_l("This session has been cancelled."))
    if session.status == Status.PREPARED:
        raise DomainError(_l("This session has not been convened yet."))
    if session.status == Status.HELD:
        # What was answered stays as it was: the attendance record says who came.
        raise DomainError(_l("This session has been held: replies are closed."))
    try:
        answer = Answer(answer)
    except ValueError:
        raise DomainError(_l("Choose an answer."), "answer") from None
    if answer == Answer.PROXY and not proxy_name.strip():
        raise DomainError(_l("Enter the name of the person attending for you."), "proxy_name")
    reply = db.scalar(
        select(Reply).where(Reply.session_id == session.id, Reply.person_id == person.id)
    )
    if reply is None:
        reply = Reply(session=session, person=person)
        db.add(reply)
    reply.answer = answer
    reply.proxy_name = proxy_name.strip() if answer == Answer.PROXY else ""
    reply.comment = comment.strip()
    db.flush()
    return reply


@dataclass
class BodyTally:
    body: Body
    counts: Counter[Answer]
    total: int

    @property
    def unanswered(self) -> int:
        return self.total - sum(self.counts.values())


def tally(session: MeetingSession, people: list[Invitee], replies: list[Reply]) -> list[BodyTally]:
    """Replies counted per body served; a shared member counts for each of their bodies."""
    answers = {reply.person_id: reply.answer for reply in replies}
    result = []
    for body in session.bodies:
        members = [i for i in people if body in i.bodies]
        counts = Counter(answers[i.person.id] for i in members if i.person.id in answers)
        result.append(BodyTally(body=body, counts=counts, total=len(members)))
    return result


# --- Lists --------------------------------------------------------------------------------


# A person's term as _terms reads it: body_id, term_start, term_end.
_TermRow = Row[int, date, date | None]


def person_terms(db: Session, person: Person) -> Sequence[_TermRow]:
    """The person's terms, as rows (``_TermRow``), for the conditions below."""
    return db.execute(
        select(Membership.body_id, Membership.term_start, Membership.term_end).where(
            Membership.person_id == person.id
        )
    ).all()


def invitation_test(db: Session, person: Person) -> Callable[[MeetingSession], bool]:
    """A test, in Python, of whether the person is invited to a session already loaded with
    its bodies and selections: one of their terms covers its date in Tokyo on a body it
    serves and convenes them for."""
    terms = person_terms(db, person)

    def is_invited(session: MeetingSession) -> bool:
        day = tokyo_date(session.start_at)
        served = {b.id for b in session.bodies}
        return any(
            t.body_id in served
            and t.term_start <= day
            and (t.term_end is None or t.term_end >= day)
            and session.convenes(t.body_id, person.id)
            for t in terms
        )

    return is_invited


def _invited_clause(terms: Sequence[_TermRow], since: datetime, person_id: int) -> Exists:
    """SQL for "one of ``terms`` covers the session's date in Tokyo, on a body it serves
    and convenes the person for" (a body convened with selected members convenes only
    those chosen).

    Terms open since before the window starts hold for every session in it."""
    window_start = since - MAX_LENGTH
    always = {
        t.body_id
        for t in terms
        if t.term_end is None and tokyo_to_utc(t.term_start, time(0)) <= window_start
    }
    return exists().where(
        session_bodies.c.session_id == MeetingSession.id,
        or_(*_term_conditions(terms, always)),
        _convenes_clause(person_id),
    )


def _current_body_ids(terms: Sequence[_TermRow], on: date) -> set[int]:
    """The bodies of ``terms`` current on ``on``."""
    return {t.body_id for t in terms if t.term_start <= on and (t.term_end or on) >= on}


def _term_conditions(terms: Sequence[_TermRow], holding: set[int]) -> list[ColumnElement[bool]]:
    """SQL conditions on a ``session_bodies`` row and its session, one of which holds when
    a term of ``terms`` covers the session's date in Tokyo on that body (a term runs from
    its first day's midnight to the midnight after its last day). The bodies ``holding``
    (terms that hold for every session asked about) go in one IN list, so that the usual
    case (a person on thirty bodies for years) is one comparison, not thirty."""
    # With a bare column, SQLite probes the (session_id, body_id) key once per body listed
    # for every session it walks; "+ 0" makes it read the session's one or two rows and
    # test them. PostgreSQL, given the bare column, reads the bodies' rows from their index
    # instead of testing every session's (a city member's feed: 13 ms against 23).
    within: list[ColumnElement[bool]] = (
        [unindexed_on_sqlite(session_bodies.c.body_id).in_(holding)] if holding else []
    )
    for t in terms:
        if t.body_id in holding:
            continue
        term: list[ColumnElement[bool]] = [
            session_bodies.c.body_id == t.body_id,
            MeetingSession.start_at >= tokyo_to_utc(t.term_start, time(0)),
        ]
        if t.term_end is not None:
            term.append(MeetingSession.start_at < tokyo_to_utc(t.term_end + ONE_DAY, time(0)))
        within.append(and_(*term))
    return within


def served_by_terms(terms: Sequence[_TermRow], on: date) -> ColumnElement[bool]:
    """SQL for "the session serves a body of ``terms`` whose term is current on ``on``, or
    whose term covered the session's date" (``policy.SessionAccess.can_view``: a member not
    convened to a session still knows it is held)."""
    within = _term_conditions(terms, _current_body_ids(terms, on))
    if not within:
        return false()
    return exists().where(session_bodies.c.session_id == MeetingSession.id, or_(*within))


def _convenes_clause(person_id: int) -> ColumnElement[bool]:
    """SQL for "the session_bodies row's body is convened whole, or chose the person"."""
    same = (Selection.session_id == session_bodies.c.session_id) & (
        Selection.body_id == session_bodies.c.body_id
    )
    chosen = (
        (SelectedMember.session_id == session_bodies.c.session_id)
        & (SelectedMember.body_id == session_bodies.c.body_id)
        & (SelectedMember.person_id == person_id)
    )
    return ~exists().where(same) | exists().where(chosen)


def _known_to(db: Session, person: Person) -> ColumnElement[bool]:
    """SQL for "the person may know of the session": a session being prepared is its
    secretariat's alone until the convening notice goes out (``policy.SessionAccess``)."""
    convened = MeetingSession.status != Status.PREPARED
    preparing = policy.secretary_body_ids(db, person)
    if not preparing:
        return convened
    # An alias: a query joining the session's bodies (a body's list) must not correlate it.
    bodies = session_bodies.alias()
    served = exists().where(
        bodies.c.session_id == MeetingSession.id, bodies.c.body_id.in_(preparing)
    )
    return or_(convened, served)


@dataclass(frozen=True, slots=True)
class BodyRef:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A session as the lists of sessions show it (``sessions/_list.html``): plain columns
    and the names of the bodies it serves, read without building ORM objects, for the
    home page, a body's page and last month's sessions."""

    id: int
    title: str
    start_at: datetime
    end_at: datetime
    status: Status
    bodies: list[BodyRef]


_ROW_COLUMNS = (
    MeetingSession.id,
    MeetingSession.title,
    MeetingSession.start_at,
    MeetingSession.end_at,
    MeetingSession.status,
)


def session_rows(db: Session, query: Select[MeetingSession]) -> list[SessionRow]:
    """The sessions of ``query`` (a select of ``MeetingSession``, filtered, ordered and
    limited) as ``SessionRow``; the bodies of all of them in one more query."""
    rows = db.execute(query.with_only_columns(*_ROW_COLUMNS)).all()
    if not rows:
        return []
    bodies: dict[int, list[BodyRef]] = {}
    served = db.execute(
        select(session_bodies.c.session_id, Body.id, Body.name)
        .join(Body, Body.id == session_bodies.c.body_id)
        .where(session_bodies.c.session_id.in_([row.id for row in rows]))
        .order_by(Body.name)  # as MeetingSession.bodies
    )
    for session_id, body_id, name in served:
        bodies.setdefault(session_id, []).append(BodyRef(body_id, name))
    return [
        SessionRow(row.id, row.title, row.start_at, row.end_at, row.status, bodies.get(row.id, []))
        for row in rows
    ]


def _upcoming_query(db: Session, person: Person, since: datetime) -> Select[MeetingSession] | None:
    terms = person_terms(db, person)
    if not terms:
        return None
    return (
        select(MeetingSession)
        .where(
            MeetingSession.start_at >= since - MAX_LENGTH,
            MeetingSession.end_at >= since,
            _invited_clause(terms, since, person.id),
            _known_to(db, person),
        )
        .order_by(MeetingSession.start_at, MeetingSession.id)
    )


def upcoming_rows(
    db: Session, person: Person, since: datetime, limit: int = 50
) -> list[SessionRow]:
    """``upcoming_for`` as plain rows, for the home page."""
    query = _upcoming_query(db, person, since)
    return [] if query is None else session_rows(db, query.limit(limit))


def participating_rows(
    db: Session, person: Person, since: datetime, limit: int = 50
) -> list[SessionRow]:
    """Sessions ending at ``since`` or later to which the person is invited as a participant
    (関係者), in order, as plain rows: on their home page with those they are invited to as
    a member. A feed does not carry them: a participant is invited to one session, by its
    message."""
    return session_rows(db, _participating_query(db, person, since).limit(limit))


def upcoming_for(
    db: Session,
    person: Person,
    since: datetime,
    limit: int | None = 50,
    options: Sequence[ExecutableOption] = (),
) -> list[MeetingSession]:
    """Sessions the person is invited to that end at ``since`` or later, across all their
    bodies, in order. ``options`` add loader options (the feed loads agendas and series).

    The terms are tested in SQL, so that only the sessions shown are loaded; the bound on
    the start lets the database walk the start index from ``since`` rather than read every
    session of the person's bodies over the years."""
    query = _upcoming_query(db, person, since)
    if query is None:
        return []
    query = query.options(selectinload(MeetingSession.bodies), *options)
    return list(db.scalars(query.limit(limit) if limit else query))


def _participating_query(db: Session, person: Person, since: datetime) -> Select[MeetingSession]:
    return (
        select(MeetingSession)
        .join(Participant, Participant.session_id == MeetingSession.id)
        .where(
            Participant.person_id == person.id,
            MeetingSession.end_at >= since,
            _known_to(db, person),
        )
        .order_by(MeetingSession.start_at, MeetingSession.id)
    )


def body_sessions(
    db: Session, body: Body, *, viewer: Person, page: int, per_page: int = 20
) -> tuple[list[SessionRow], int, int]:
    """A body's sessions the viewer may know of, newest first, one page of them, and the
    number of pages."""
    base = (
        select(MeetingSession)
        .join(MeetingSession.bodies)
        .where(Body.id == body.id, _known_to(db, viewer))
    )
    total = db.scalar(select(func.count()).select_from(base.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    sessions = session_rows(
        db,
        base.order_by(MeetingSession.start_at.desc()).offset((page - 1) * per_page).limit(per_page),
    )
    return sessions, page, pages


def upcoming_rows_for(
    db: Session, person: Person, since: datetime, columns: Sequence[Any]
) -> Sequence[Row[Any]]:
    """``upcoming_for``'s sessions, all of them, as rows of ``columns`` of the sessions table
    rather than objects: the feed reads a thousand of them to find what it stored."""
    query = _upcoming_query(db, person, since)
    return [] if query is None else db.execute(query.with_only_columns(*columns)).all()
