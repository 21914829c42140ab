"""What the home page shows each person: the secretary's tile (what needs doing across the
bodies they run), the minutes a chair is to approve, the tasks one owns, the replies one
still owes and last month's sessions."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TypeVar

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from renkei.db import utcnow
from renkei.models import (
    ActionItem,
    Approval,
    Body,
    MeetingSession,
    Membership,
    Minutes,
    MinutesStatus,
    MinutesVersion,
    Participant,
    Person,
    Reply,
    Status,
)
from renkei.models.sessions import session_bodies
from renkei.services import apportionment, minutes, policy, scheduling, tasks
from renkei.services.dates import today, tokyo_day_bounds
from renkei.services.mail import backlog

LISTED = 5  # sessions and minutes named in the tile; the counts cover all


@dataclass
class SecretaryTile:
    sessions_this_month: int
    replies_outstanding: int
    awaiting_replies: list[tuple[MeetingSession, int]] = field(default_factory=list)
    awaiting_approval: list[MinutesVersion] = field(default_factory=list)
    approvals_total: int = 0
    # Coming sessions whose convening notice is still to be sent, soonest first.
    to_convene: list[MeetingSession] = field(default_factory=list)


def mail_backlog(db: Session, person: Person) -> backlog.Backlog | None:
    """The mail waiting to be sent about the sessions of the bodies the person runs (all
    mail, for an administrator); None for anyone else. Two queries at most."""
    if person.is_admin:
        return backlog.of_sessions(db, None)
    body_ids = policy.secretary_body_ids(db, person)
    if not body_ids:
        return None
    theirs = select(session_bodies.c.session_id).where(session_bodies.c.body_id.in_(body_ids))
    return backlog.of_sessions(db, theirs)


def _month_bounds(on: date) -> tuple[datetime, datetime]:
    month = apportionment.month(on.year, on.month)
    return tokyo_day_bounds(month.first)[0], tokyo_day_bounds(month.last)[1]


def secretary_tile(db: Session, person: Person) -> SecretaryTile | None:
    """None for someone who is no body's secretary. A fixed number of queries."""
    body_ids = policy.secretary_body_ids(db, person)
    if not body_ids:
        return None
    theirs = select(session_bodies.c.session_id).where(session_bodies.c.body_id.in_(body_ids))
    start, end = _month_bounds(today())
    this_month = (
        db.scalar(
            select(func.count(MeetingSession.id)).where(
                MeetingSession.id.in_(theirs),
                MeetingSession.status != Status.CANCELLED,
                MeetingSession.start_at >= start,
                MeetingSession.start_at < end,
            )
        )
        or 0
    )
    outstanding = _outstanding(db, theirs)
    sessions = _sessions(db, [session_id for session_id, _ in outstanding[:LISTED]])
    versions, approvals_total = _awaiting_approval(db, theirs)
    to_convene = db.scalars(
        select(MeetingSession)
        .where(
            MeetingSession.id.in_(theirs),
            MeetingSession.status == Status.PREPARED,
            MeetingSession.start_at >= utcnow(),
        )
        .order_by(MeetingSession.start_at, MeetingSession.id)
        .limit(LISTED)
    )
    return SecretaryTile(
        to_convene=list(to_convene),
        sessions_this_month=this_month,
        replies_outstanding=sum(n for _, n in outstanding),
        awaiting_replies=[(sessions[sid], n) for sid, n in outstanding[:LISTED]],
        awaiting_approval=versions,
        approvals_total=approvals_total,
    )


def _outstanding(db: Session, theirs: Select[int]) -> list[tuple[int, int]]:
    """(session id, invitees without a reply) for coming sessions, soonest first. Invitees
    are today's members of the bodies served, each counted once per session (the session
    page counts those of the session's own date; they differ only where a term starts or
    ends in between)."""
    on = today()
    pairs = (
        select(MeetingSession.id.label("session_id"), Membership.person_id)
        .join(session_bodies, session_bodies.c.session_id == MeetingSession.id)
        .join(Membership, Membership.body_id == session_bodies.c.body_id)
        .where(
            MeetingSession.id.in_(theirs),
            MeetingSession.status == Status.CONVENED,
            MeetingSession.start_at >= utcnow(),
            policy.current_membership_filter(on),
            ~select(Reply.id)
            .where(Reply.session_id == MeetingSession.id, Reply.person_id == Membership.person_id)
            .exists(),
        )
        .distinct()
        .subquery()
    )
    rows = db.execute(
        select(pairs.c.session_id, func.count())
        .join(MeetingSession, MeetingSession.id == pairs.c.session_id)
        .group_by(pairs.c.session_id, MeetingSession.start_at)
        .order_by(MeetingSession.start_at, pairs.c.session_id)
    )
    return [(row[0], row[1]) for row in rows]


def _sessions(db: Session, ids: list[int]) -> dict[int, MeetingSession]:
    if not ids:
        return {}
    return {s.id: s for s in db.scalars(select(MeetingSession).where(MeetingSession.id.in_(ids)))}


def _awaiting_approval(db: Session, theirs: Select[int]) -> tuple[list[MinutesVersion], int]:
    waiting = (
        select(MinutesVersion)
        .join(Minutes, Minutes.id == MinutesVersion.minutes_id)
        .where(MinutesVersion.status == MinutesStatus.SUBMITTED, Minutes.session_id.in_(theirs))
    )
    total = db.scalar(select(func.count()).select_from(waiting.subquery())) or 0
    listed = db.scalars(
        waiting.order_by(MinutesVersion.id)
        .limit(LISTED)
        .options(selectinload(MinutesVersion.minutes).selectinload(Minutes.session))
    )
    return list(listed), total


# --- The chair's approvals ----------------------------------------------------------------


@dataclass
class ChairTile:
    """Minutes awaiting the person's decision as chair: (version, body) pairs, the body
    being the one whose part they approve, oldest request first."""

    awaiting: list[tuple[MinutesVersion, Body]] = field(default_factory=list)
    total: int = 0


def chair_tile(db: Session, person: Person) -> ChairTile | None:
    """None for someone who chairs no body. A fixed number of queries."""
    body_ids = policy.chair_body_ids(db, person)
    if not body_ids:
        return None
    # Decided in the present round (a return sends the version back to draft; a new
    # submission is a new round, to be decided again).
    decided = exists().where(
        Approval.version_id == MinutesVersion.id,
        Approval.round == MinutesVersion.round,
        Approval.body_id == session_bodies.c.body_id,
    )
    waiting = (
        select(MinutesVersion, Body)
        .join(Minutes, Minutes.id == MinutesVersion.minutes_id)
        .join(session_bodies, session_bodies.c.session_id == Minutes.session_id)
        .join(Body, Body.id == session_bodies.c.body_id)
        .where(
            MinutesVersion.status == MinutesStatus.SUBMITTED,
            session_bodies.c.body_id.in_(body_ids),
            ~decided,
        )
    )
    total = db.scalar(select(func.count()).select_from(waiting.subquery())) or 0
    rows = db.execute(
        waiting.order_by(MinutesVersion.submitted_at, MinutesVersion.id, Body.id)
        .limit(LISTED)
        .options(selectinload(MinutesVersion.minutes).selectinload(Minutes.session))
    )
    return ChairTile(awaiting=[(version, body) for version, body in rows], total=total)


# --- Tasks --------------------------------------------------------------------------------

DONE_SHOWN_FOR = timedelta(days=30)  # a task done stays in the list this long, below the open


def tasks_of(db: Session, person: Person) -> list[ActionItem]:
    """The person's tasks that they may still read: the open ones first, soonest due
    first (``minutes.open_actions``), then a few done in the last month, latest done first.
    A fixed number of queries."""
    done = db.scalars(
        select(ActionItem)
        .where(ActionItem.owner_id == person.id, ActionItem.done_at >= utcnow() - DONE_SHOWN_FOR)
        .order_by(ActionItem.done_at.desc(), ActionItem.id)
        .limit(LISTED)
        .options(*tasks.WITH_ORIGIN)
    ).all()
    readable = policy.readable_tasks(db, person, done) if done else set()
    return minutes.open_actions(db, person) + [a for a in done if a.id in readable]


# --- Replies ------------------------------------------------------------------------------


Listed = TypeVar("Listed", MeetingSession, "scheduling.SessionRow")


def replies_open(db: Session, person: Person, sessions: Sequence[Listed]) -> list[Listed]:
    """Of ``sessions`` (those on the person's home page, to which they are invited), the
    convened ones yet to start that the person has not answered, soonest first. One query."""
    now = utcnow()
    answerable = [s for s in sessions if s.status == Status.CONVENED and s.start_at > now]
    if not answerable:
        return []
    answered = set(
        db.scalars(
            select(Reply.session_id).where(
                Reply.person_id == person.id,
                Reply.session_id.in_([s.id for s in answerable]),
            )
        )
    )
    return [s for s in answerable if s.id not in answered]


# --- Last month ---------------------------------------------------------------------------

LAST_MONTH_LISTED = 10


def last_month(db: Session, person: Person, on: date | None = None) -> list[scheduling.SessionRow]:
    """The sessions held in the calendar month before ``on`` (today) that the person may
    see, in order: those of a body they sit on today, or sat on on the session's date, and
    those they took part in (関係者), as plain rows. Three queries, however many there were."""
    first = (on or today()).replace(day=1)
    start, end = _month_bounds(first - timedelta(days=1))
    terms = scheduling.person_terms(db, person)
    took_part = exists().where(
        Participant.session_id == MeetingSession.id, Participant.person_id == person.id
    )
    return scheduling.session_rows(
        db,
        select(MeetingSession)
        .where(
            MeetingSession.status == Status.HELD,
            MeetingSession.start_at >= start,
            MeetingSession.start_at < end,
            or_(took_part, scheduling.served_by_terms(terms, today())),
        )
        .order_by(MeetingSession.start_at, MeetingSession.id)
        .limit(LAST_MONTH_LISTED),
    )
