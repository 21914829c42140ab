"""Calendar stamps: when the sessions of each body, and the terms of each person, last changed.

Calendar apps poll a person's feed every few minutes. Working out from the sessions whether
anything changed would read every session in the feed (a thousand in a large city), so every
transaction that changes what a feed shows stamps the bodies and people concerned, as it
commits, and the feed's version is read from those stamps (``services.feeds.version``):

- a session created, changed, cancelled or deleted, or the bodies it serves changed, and
  any change to its agenda stamp every body it serves (before and after the change);
- a body renamed stamps itself and the bodies that share a session with it (serving it, or
  owning one of its agenda items): joint sessions show their other bodies' names;
- a person's terms added, changed or removed, or their name changed, stamp the person;
- a body convened with selected members, or its selection changed (選定招集), stamps the
  bodies the session serves: who of their members has it in their feed changed.

Replies, minutes and attendance do not appear in feeds and stamp nothing.

With several workers and app servers on one PostgreSQL, three rules keep the stamps sound:

- **Noted at each flush, stamped at commit.** Each flush notes what it changes (the bodies a
  session served are read before the flush changes them) and locks nothing for it; the rows
  are stamped once, just before COMMIT. Two transactions that change sessions of two bodies
  in opposite order therefore never hold one body's stamp while waiting for the other's.
- **One stamping commit at a time, rows in id order.** Just before COMMIT a stamping
  transaction takes a transaction-scoped advisory lock (PostgreSQL; SQLite's write lock does
  the same), after anything else it locks (the audit log's head, which most changes take),
  then the rows in id order (the order of SQLAlchemy's own updates). So the stamp's time is
  read while no other stamp can commit before it.
- **Never backwards.** The time is ``max(now, the latest stamp anywhere + 1 µs)``: a stamp
  is later than every stamp committed before it, whatever a slower clock on another app
  server or a long transaction says, so a feed's Last-Modified and ETag move on with every
  change and never return to a version already served.

One wait remains possible: a transaction that itself updates a body's or person's row (a
rename) holds that row until it commits; a stamping commit that needs the row waits for it.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import chain

from sqlalchemy import event, func, inspect, or_, select, text, update
from sqlalchemy.orm import InstanceState, Session, SessionTransaction, UOWTransaction

from renkei.db import table_of, utcnow
from renkei.models.bodies import Body, Membership
from renkei.models.convening import SelectedMember, Selection
from renkei.models.people import Person
from renkei.models.sessions import AgendaItem, MeetingSession, Series, session_bodies

# The advisory lock that stamping transactions take turns on (PostgreSQL).
LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"renkei:calendar-stamps").digest()[:8], "big", signed=True
)
TICK = timedelta(microseconds=1)
_PENDING = "renkei.calendar_stamps"  # key in Session.info


@dataclass
class _Pending:
    """What the transaction's flushes changed, stamped when it commits."""

    body_ids: set[int] = field(default_factory=set)
    person_ids: set[int] = field(default_factory=set)


def _pending(db: Session) -> _Pending:
    pending = db.info.get(_PENDING)
    if pending is None:
        pending = db.info[_PENDING] = _Pending()
    return pending


@event.listens_for(Session, "before_flush")
def _note(db: Session, _context: UOWTransaction, _instances: object) -> None:
    changes = _Changes()
    with db.no_autoflush:
        for obj in chain(db.new, db.dirty, db.deleted):
            changes.note(db, obj)
    if not changes:
        return
    pending = _pending(db)
    # Read now, before this flush changes which bodies serve the sessions.
    pending.body_ids |= changes.body_ids_of(db)
    pending.person_ids |= changes.person_ids


@event.listens_for(Session, "before_commit")
def _stamp(db: Session) -> None:
    if db.get_nested_transaction() is not None:
        return  # a savepoint released: the stamps wait for the transaction's commit
    db.flush()  # commit() would flush after this hook: its changes must be noted first
    pending = db.info.pop(_PENDING, None)
    if pending is None or not (pending.body_ids or pending.person_ids):
        return
    _take_turn(db)
    connection = db.connection()
    bodies, people = table_of(Body), table_of(Person)
    postgresql = connection.dialect.name == "postgresql"
    latest = connection.execute(
        select(
            select(func.max(bodies.c.calendar_changed_at)).scalar_subquery(),
            select(func.max(people.c.calendar_changed_at)).scalar_subquery(),
        )
    ).one()
    now = max([utcnow(), *(stamp + TICK for stamp in latest if stamp is not None)])
    for table, ids in ((bodies, pending.body_ids), (people, pending.person_ids)):
        if not ids:
            continue
        if postgresql:  # rows locked in id order, as flushes lock them
            connection.execute(
                select(table.c.id)
                .where(table.c.id.in_(ids))
                .order_by(table.c.id)
                .with_for_update(key_share=True)
            )
        connection.execute(update(table).where(table.c.id.in_(ids)).values(calendar_changed_at=now))


@event.listens_for(Session, "after_transaction_end")
def _forget(db: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the transaction ended (committed or rolled back)
        db.info.pop(_PENDING, None)


def _take_turn(db: Session) -> None:
    """Wait until no other transaction is stamping; held until this one ends."""
    if db.get_bind().dialect.name == "postgresql":
        db.connection().execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


class _Changes:
    def __init__(self) -> None:
        self.body_ids: set[int] = set()
        self.session_ids: set[int] = set()
        self.series_ids: set[int] = set()
        self.person_ids: set[int] = set()
        self.renamed_ids: set[int] = set()

    def __bool__(self) -> bool:
        return bool(
            self.body_ids
            or self.session_ids
            or self.series_ids
            or self.person_ids
            or self.renamed_ids
        )

    def note(self, db: Session, obj: object) -> None:
        if isinstance(obj, MeetingSession):
            self._session(db, obj)
        elif isinstance(obj, AgendaItem):
            self._item(obj)
        elif isinstance(obj, Series) and obj.id is not None:
            self.series_ids.add(obj.id)
        elif isinstance(obj, Body):
            if obj.id is not None and _changed(obj, "name"):
                self.renamed_ids.add(obj.id)
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

    def body_ids_of(self, db: Session) -> set[int]:
        """The bodies to stamp, as the database holds them before this flush: one query."""
        found = self.body_ids | self.renamed_ids
        sessions = session_bodies.c.session_id
        conditions = []
        if self.session_ids:
            conditions.append(sessions.in_(self.session_ids))
        if self.series_ids:
            in_series = select(MeetingSession.id).where(
                MeetingSession.series_id.in_(self.series_ids)
            )
            conditions.append(sessions.in_(in_series))
        if self.renamed_ids:
            # A renamed body's name shows in the sessions it serves or has agenda items in.
            served = select(session_bodies.c.session_id).where(
                session_bodies.c.body_id.in_(self.renamed_ids)
            )
            owned = select(AgendaItem.session_id).where(AgendaItem.body_id.in_(self.renamed_ids))
            conditions += [sessions.in_(served), sessions.in_(owned)]
        if conditions:
            query = select(session_bodies.c.body_id).where(or_(*conditions)).distinct()
            found |= set(db.connection().scalars(query))
        return found


def _changed(obj: object, attribute: str) -> bool:
    state: InstanceState[object] = inspect(obj)
    return state.attrs[attribute].history.has_changes()


def _id(obj: Person | MeetingSession | None) -> int | None:
    return obj.id if obj is not None else None
