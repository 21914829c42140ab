"""Calendar versions: each session's ``calendar_version`` rises, when the transaction commits,
with every change to what its calendar event shows from outside the session's own row:

- an agenda item added, changed or removed (its title, visibility, position, minutes);
- the bodies it serves changed;
- a body it serves or is hosted by renamed (an event names its bodies and its host's
  secretariat).

With the session's row, the version is what the event text stored for feeds is keyed by
(``services.feeds``): a change gives the session a new key, so its old text is never served
after the change commits. Changes to the row itself (title, times, place, status, sequence)
need no version: the row is part of the key.

Like the calendar stamps (models/calendar_stamps.py, which say *whether* a person's feed
changed; this says *which* of its sessions did), the changes are noted at each flush and
the rows written once, just before COMMIT, in id order: a flush locks no session row for
it, so two transactions changing the agendas of two sessions in opposite order never wait
for each other. A feed built inside the changing transaction itself, before it commits,
may still find the texts of the version before (a feed is built by a request of its own).
"""

from itertools import chain

from sqlalchemy import event, inspect, or_, select, update
from sqlalchemy.orm import InstanceState, Session, SessionTransaction, UOWTransaction

from renkei.db import table_of
from renkei.models.bodies import Body
from renkei.models.sessions import AgendaItem, MeetingSession, session_bodies

_PENDING = "renkei.calendar_versions"  # key in Session.info: (session ids, renamed body ids)


@event.listens_for(Session, "before_flush")
def _note(db: Session, _context: UOWTransaction, _instances: object) -> None:
    session_ids: set[int] = set()
    renamed: set[int] = set()
    with db.no_autoflush:
        for obj in chain(db.new, db.dirty, db.deleted):
            if isinstance(obj, AgendaItem):
                session_id = obj.session_id if obj.session_id is not None else _id(obj.session)
                if session_id is not None:
                    session_ids.add(session_id)
            elif isinstance(obj, MeetingSession) and obj.id is not None:
                # Items taken off the agenda are deleted (orphans) only during the flush.
                if _changed(obj, "bodies") or _changed(obj, "items"):
                    session_ids.add(obj.id)
            elif isinstance(obj, Body) and obj.id is not None and _changed(obj, "name"):
                renamed.add(obj.id)
    if session_ids or renamed:
        pending = db.info.setdefault(_PENDING, (set(), set()))
        pending[0].update(session_ids)
        pending[1].update(renamed)


@event.listens_for(Session, "before_commit")
def _raise(db: Session) -> None:
    if db.get_nested_transaction() is not None:
        return  # a savepoint released: the versions wait for the transaction's commit
    db.flush()  # commit() would flush after this hook: its changes must be noted first
    pending = db.info.pop(_PENDING, None)
    if pending is None:
        return
    session_ids, renamed = pending
    sessions = table_of(MeetingSession)
    which = [sessions.c.id.in_(session_ids)] if session_ids else []
    if renamed:
        served = select(session_bodies.c.session_id).where(session_bodies.c.body_id.in_(renamed))
        which += [sessions.c.id.in_(served), sessions.c.host_body_id.in_(renamed)]
    connection = db.connection()
    if connection.dialect.name == "postgresql":  # rows locked in id order
        connection.execute(
            select(sessions.c.id)
            .where(or_(*which))
            .order_by(sessions.c.id)
            .with_for_update(key_share=True)
        )
    connection.execute(
        update(sessions)
        .where(or_(*which))
        # Not updated_at (its onupdate would): the events' DTSTAMP and LAST-MODIFIED stay
        # what they were before versions were kept.
        .values(
            calendar_version=sessions.c.calendar_version + 1,
            updated_at=sessions.c.updated_at,
        )
    )
    for obj in list(db.identity_map.values()):
        if isinstance(obj, MeetingSession) and (renamed or obj.id in session_ids):
            db.expire(obj, ["calendar_version"])


@event.listens_for(Session, "after_transaction_end")
def _forget(db: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the transaction ended (committed or rolled back)
        db.info.pop(_PENDING, None)


def _changed(obj: object, attribute: str) -> bool:
    state: InstanceState[object] = inspect(obj)
    return state.attrs[attribute].history.has_changes()


def _id(session: MeetingSession | None) -> int | None:
    return session.id if session is not None else None
