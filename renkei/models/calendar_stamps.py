"""Calendar stamps: when the sessions of each body, and the terms of each person, last changed.

Calendar apps poll a person's feed every few minutes. Working out from the sessions whether
anything changed would read every session in the feed (a thousand in a large city), so every
flush that changes what a feed shows stamps the bodies and people concerned, in the same
transaction, and the feed's version is read from those stamps (``services.feeds.version``):

- a session created, changed, cancelled or deleted, or the bodies it serves changed, and
  any change to its agenda stamp every body it serves (before and after the change);
- a body renamed stamps every body, since joint sessions show their other bodies' names;
- a person's terms added, changed or removed, or their name changed, stamp the person;
- a body convened with selected members, or its selection changed (選定招集), stamps the
  bodies the session serves: who of their members has it in their feed changed.

Replies, minutes and attendance do not appear in feeds and stamp nothing.
"""

from itertools import chain

from sqlalchemy import event, inspect, or_, select, update
from sqlalchemy.orm import InstanceState, Session, UOWTransaction

from renkei.db import table_of, utcnow
from renkei.models.bodies import Body, Membership
from renkei.models.convening import SelectedMember, Selection
from renkei.models.people import Person
from renkei.models.sessions import AgendaItem, MeetingSession, Series, session_bodies


@event.listens_for(Session, "before_flush")
def _stamp(db: Session, _context: UOWTransaction, _instances: object) -> None:
    changes = _Changes()
    with db.no_autoflush:
        for obj in chain(db.new, db.dirty, db.deleted):
            changes.note(db, obj)
    changes.write(db)


class _Changes:
    def __init__(self) -> None:
        self.body_ids: set[int] = set()
        self.session_ids: set[int] = set()
        self.series_ids: set[int] = set()
        self.person_ids: set[int] = set()
        self.every_body = False

    def note(self, db: Session, obj: object) -> None:
        if isinstance(obj, MeetingSession):
            self._session(db, obj)
        elif isinstance(obj, AgendaItem):
            self._item(obj)
        elif isinstance(obj, Series) and obj.id is not None:
            self.series_ids.add(obj.id)
        elif isinstance(obj, Body):
            self.every_body |= obj.id is not None and _changed(obj, "name")
        elif isinstance(obj, Membership):
            person_id = obj.person_id if obj.person_id is not None else _id(obj.person)
            if person_id is not None:
                self.person_ids.add(person_id)
        elif isinstance(obj, Person) and obj.id is not None and _changed(obj, "name"):
            self.person_ids.add(obj.id)
        elif isinstance(obj, SelectedMember):
            self._selection(obj.selection if obj.session_id is None else obj)
        elif isinstance(obj, Selection):
            self._selection(obj)

    def _selection(self, row: Selection | SelectedMember | None) -> None:
        if row is None:
            return
        session_id = row.session_id
        if session_id is None and isinstance(row, Selection):
            session_id = _id(row.session)
        if session_id is not None:
            self.session_ids.add(session_id)

    def _session(self, db: Session, session: MeetingSession) -> None:
        state = inspect(session)
        # A reply or a history row added through the session's collections changes no feed.
        if (
            state.persistent
            and session not in db.deleted
            and not (
                db.is_modified(session, include_collections=False) or _changed(session, "bodies")
            )
        ):
            return
        if session.id is not None:
            self.session_ids.add(session.id)  # the bodies it served before this flush
        if "bodies" in state.dict:  # loaded: the bodies it serves after it
            history = state.attrs.bodies.history
            for body in chain(history.added, history.unchanged, history.deleted):
                if body.id is not None:
                    self.body_ids.add(body.id)

    def _item(self, item: AgendaItem) -> None:
        session_id = item.session_id if item.session_id is not None else _id(item.session)
        if session_id is not None:
            self.session_ids.add(session_id)

    def write(self, db: Session) -> None:
        bodies, people, now = table_of(Body), table_of(Person), utcnow()
        if self.every_body:
            db.connection().execute(update(bodies).values(calendar_changed_at=now))
        elif self.body_ids or self.session_ids or self.series_ids:
            in_series = select(MeetingSession.id).where(
                MeetingSession.series_id.in_(self.series_ids)
            )
            served = select(session_bodies.c.body_id).where(
                or_(
                    session_bodies.c.session_id.in_(self.session_ids),
                    session_bodies.c.session_id.in_(in_series),
                )
            )
            db.connection().execute(
                update(bodies)
                .where(or_(bodies.c.id.in_(self.body_ids), bodies.c.id.in_(served)))
                .values(calendar_changed_at=now)
            )
        if self.person_ids:
            db.connection().execute(
                update(people)
                .where(people.c.id.in_(self.person_ids))
                .values(calendar_changed_at=now)
            )


def _changed(obj: object, attribute: str) -> bool:
    state: InstanceState[object] = inspect(obj)
    return state.attrs[attribute].history.has_changes()


def _id(obj: Person | MeetingSession | None) -> int | None:
    return obj.id if obj is not None else None
