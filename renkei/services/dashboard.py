"""The secretary's tile on the home page: what needs doing across the bodies they run."""

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from renkei.db import utcnow
from renkei.models import (
    MeetingSession,
    Membership,
    Minutes,
    MinutesStatus,
    MinutesVersion,
    Person,
    Reply,
    Status,
)
from renkei.models.sessions import session_bodies
from renkei.services import apportionment, policy
from renkei.services.dates import today, tokyo_day_bounds

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
