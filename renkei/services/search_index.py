"""Keeping the search index (search_entries) in step with what it indexes.

Every flush of the app's database sessions notes what changed (a session, an agenda item,
a material or a new file of it, minutes, a referral, a local issue, a body, a person); just
before the transaction commits, the entries of those things are written again, in the same
transaction: a search never sees a change the index has not followed, and a rolled-back
change leaves the index as it was. ``pending`` does the same at search time for changes
flushed but not yet committed. ``rebuild`` (`flask search-rebuild`) writes the whole index.

The entry holds content and scope only (renkei/models/search.py): who may see it is the
policy's, at query time, so pledges, terms and selections need no reindexing.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from sqlalchemy import delete, event, func, insert, select, text
from sqlalchemy.orm import Session, UOWTransaction, selectinload, sessionmaker

from renkei.models import (
    AgendaItem,
    Body,
    LocalIssue,
    Material,
    MaterialVersion,
    MeetingSession,
    Minutes,
    MinutesSection,
    MinutesStatus,
    MinutesVersion,
    Person,
    Referral,
    SearchEntry,
    SearchKind,
    Visibility,
)
from renkei.services import policy, search_dates, search_text
from renkei.services.dates import tokyo_date
from renkei.services.policy import STRICTNESS

_PENDING = "renkei.search_pending"
BATCH = 200  # sessions (or other things) read and written at a time by ``rebuild``
MATERIAL_TEXT_INDEXED = 20_000  # characters of a material's text in the index (see _material_text)
Row = dict[str, Any]


@dataclass
class Pending:
    """What changed since the index was last written, by kind of thing."""

    sessions: set[int] = field(default_factory=set)
    materials: set[int] = field(default_factory=set)
    minutes: set[int] = field(default_factory=set)
    versions: set[int] = field(default_factory=set)
    referrals: set[int] = field(default_factory=set)
    issues: set[int] = field(default_factory=set)
    bodies: set[int] = field(default_factory=set)
    people: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return any(vars(self).values())


def install(maker: sessionmaker[Session]) -> None:
    """Let the sessions of ``maker`` (the app's own) keep the index: note changes after
    each flush, write their entries before each commit."""
    event.listen(maker, "after_flush", _note_changes)
    event.listen(maker, "before_commit", _before_commit)
    event.listen(maker, "after_rollback", _forget)


def _pending(db: Session) -> Pending:
    found = db.info.get(_PENDING)
    if found is None:
        found = db.info[_PENDING] = Pending()
    return found


def _note_changes(db: Session, _context: UOWTransaction) -> None:
    seen = _pending(db)
    for obj in (*db.new, *db.dirty, *db.deleted):
        _note(seen, obj)


# What a changed object asks to be written again: the set of ``Pending`` it goes in, and the
# attribute naming what (a session's things are written with their session).
_NOTED: dict[type, tuple[str, Callable[[Any], int | None]]] = {
    MeetingSession: ("sessions", attrgetter("id")),
    AgendaItem: ("sessions", attrgetter("session_id")),
    Material: ("sessions", attrgetter("session_id")),
    Minutes: ("sessions", attrgetter("session_id")),
    MaterialVersion: ("materials", attrgetter("material_id")),
    MinutesVersion: ("minutes", attrgetter("minutes_id")),
    MinutesSection: ("versions", attrgetter("version_id")),
    Referral: ("referrals", attrgetter("id")),
    LocalIssue: ("issues", attrgetter("id")),
    Body: ("bodies", attrgetter("id")),
    Person: ("people", attrgetter("id")),
}


def _note(seen: Pending, obj: object) -> None:
    found = _NOTED.get(type(obj))
    if found is not None:
        which, of = found
        getattr(seen, which).add(of(obj))


def _before_commit(db: Session) -> None:
    catch_up(db)


def _forget(db: Session, *_args: object) -> None:
    db.info.pop(_PENDING, None)


def catch_up(db: Session) -> None:
    """Write the entries of everything changed in this transaction (flushing first)."""
    db.flush()
    seen = db.info.pop(_PENDING, None)
    if not seen:
        return
    sessions = set(seen.sessions)
    if seen.materials:
        sessions |= set(
            db.scalars(select(Material.session_id).where(Material.id.in_(seen.materials)))
        )
    if seen.minutes:
        sessions |= set(db.scalars(select(Minutes.session_id).where(Minutes.id.in_(seen.minutes))))
    if seen.versions:
        sessions |= set(
            db.scalars(
                select(Minutes.session_id)
                .join(MinutesVersion, MinutesVersion.minutes_id == Minutes.id)
                .where(MinutesVersion.id.in_(seen.versions))
            )
        )
    sessions.discard(None)
    referrals = set(seen.referrals)
    for chunk in _chunks(sorted(sessions)):
        _write_sessions(db, chunk)
        # A referral taken to an item carries the item's scope (policy.referral_scope).
        referrals |= set(
            db.scalars(
                select(Referral.id)
                .join(AgendaItem, Referral.agenda_item_id == AgendaItem.id)
                .where(AgendaItem.session_id.in_(chunk))
            )
        )
    for kind, ids, rows_of in (
        (SearchKind.REFERRAL, referrals, _referral_rows),
        (SearchKind.ISSUE, seen.issues, _issue_rows),
        (SearchKind.BODY, seen.bodies, _body_rows),
        (SearchKind.PERSON, seen.people, _person_rows),
    ):
        for chunk in _chunks(sorted(i for i in ids if i is not None)):
            db.execute(
                delete(SearchEntry).where(
                    SearchEntry.kind == kind, SearchEntry.object_id.in_(chunk)
                )
            )
            _insert(db, rows_of(db, chunk))
    db.info.pop(_PENDING, None)


def rebuild(db: Session) -> int:
    """Write the whole index again (`flask search-rebuild`); the number of entries."""
    db.info.pop(_PENDING, None)
    db.execute(delete(SearchEntry))
    # Oldest first: a search reads the latest written entries first (search.CAP), which
    # after a rebuild are the latest sessions'.
    by_start = select(MeetingSession.id).order_by(MeetingSession.start_at, MeetingSession.id)
    for chunk in _chunks(list(db.scalars(by_start))):
        _write_sessions(db, chunk)
    for model, rows_of in (
        (Referral, _referral_rows),
        (LocalIssue, _issue_rows),
        (Body, _body_rows),
        (Person, _person_rows),
    ):
        ids = list(db.scalars(select(model.id).order_by(model.id)))
        for chunk in _chunks(ids):
            _insert(db, rows_of(db, chunk))
    if db.get_bind().dialect.name == "sqlite":
        # FTS5 merges the segments its inserts wrote: a match then reads one list per
        # token (a city's match read several, 2 to 9 times slower).
        db.execute(text("INSERT INTO search_fts(search_fts) VALUES ('optimize')"))
    return db.scalar(select(func.count(SearchEntry.id))) or 0


def rebuild_if_empty(db: Session) -> int | None:
    """Write the index if it is empty while there is something to index (a database made
    before the search, or a migration that emptied the index); the number of entries."""
    if db.scalar(select(SearchEntry.id).limit(1)) is not None:
        return None
    if (
        db.scalar(select(Body.id).limit(1)) is None
        and db.scalar(select(Person.id).limit(1)) is None
    ):
        return None
    return rebuild(db)


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def _insert(db: Session, rows: list[Row]) -> None:
    if rows:
        db.execute(insert(SearchEntry), rows)


def _row(
    kind: SearchKind, object_id: int, title: str, *texts: str, reach: list[str], **scope: Any
) -> Row:
    """An entry; ``reach``: the policy's scope tokens of who could possibly see it."""
    text = "\n".join(t for t in texts if t)
    day = scope.get("day")
    return {
        "kind": kind,
        "object_id": object_id,
        "title": title[:300],
        "text": text,
        "tokens": search_text.token_string(title, text),
        "scope": " ".join(reach + (search_dates.day_tokens(day) if day else [])),
        "session_id": scope.get("session_id"),
        "body_id": scope.get("body_id"),
        "visibility": scope.get("visibility"),
        "item_id": scope.get("item_id"),
        "narrowed_to": scope.get("narrowed_to"),
        "raised_by_id": scope.get("raised_by_id"),
        "day": scope.get("day"),
    }


# --- Sessions and what belongs to them ------------------------------------------------------


def _write_sessions(db: Session, session_ids: list[int]) -> None:
    db.execute(delete(SearchEntry).where(SearchEntry.session_id.in_(session_ids)))
    sessions = db.scalars(
        select(MeetingSession)
        .where(MeetingSession.id.in_(session_ids))
        .order_by(MeetingSession.start_at, MeetingSession.id)
        .options(selectinload(MeetingSession.items), selectinload(MeetingSession.bodies))
        .execution_options(populate_existing=True)
    ).all()
    if not sessions:
        return
    days = {s.id: tokyo_date(s.start_at) for s in sessions}
    served = {s.id: [b.id for b in s.bodies] for s in sessions}
    rows: list[Row] = []
    for session in sessions:
        rows += _session_rows(session, days[session.id], served[session.id])
    rows += _material_rows(db, days, served)
    rows += _section_rows(db, days, served)
    _insert(db, rows)


def _session_rows(session: MeetingSession, day: Any, served: list[int]) -> list[Row]:
    scope = {"session_id": session.id, "day": day}
    rows = [
        _row(
            SearchKind.SESSION,
            session.id,
            session.title,
            session.place,
            reach=policy.session_scope(served, session.id),
            body_id=session.host_body_id,
            visibility=Visibility.PUBLIC,
            **scope,
        )
    ]
    for item in session.items:
        rows.append(
            _row(
                SearchKind.ITEM,
                item.id,
                item.title,
                item.case_number or "",
                item.description,
                reach=policy.item_scope(item.visibility, item.body_id, served, session.id),
                body_id=item.body_id,
                visibility=item.visibility,
                item_id=item.id,
                **scope,
            )
        )
    return rows


def _material_rows(db: Session, days: dict[int, Any], served: dict[int, list[int]]) -> list[Row]:
    materials = db.scalars(
        select(Material)
        .where(Material.session_id.in_(days), Material.deleted_at.is_(None))
        .options(
            selectinload(Material.versions).undefer(MaterialVersion.text),
            selectinload(Material.agenda_item),
        )
        .execution_options(populate_existing=True)
    ).all()
    rows = []
    for material in materials:
        if not material.versions:
            continue
        item = material.agenda_item
        scope: Row = {"session_id": material.session_id, "day": days[material.session_id]}
        if item is None:
            scope |= {"visibility": material.visibility}
        else:
            narrower = STRICTNESS[material.visibility] > STRICTNESS[item.visibility]
            scope |= {
                "visibility": item.visibility,
                "body_id": item.body_id,
                "item_id": item.id,
                "narrowed_to": material.visibility if narrower else None,
            }
        current = material.current
        reach = policy.material_scope(
            scope["visibility"],
            scope.get("narrowed_to"),
            scope.get("body_id"),
            served[material.session_id],
            material.session_id,
        )
        rows.append(
            _row(
                SearchKind.MATERIAL,
                material.id,
                material.title,
                current.filename,
                _material_text(current),
                reach=reach,
                **scope,
            )
        )
    return rows


def _material_text(version: MaterialVersion) -> str:
    """The text read from the material's current file on upload (PDF, Word, Excel: see
    services/material_text.py), its first part only: each character costs about 14 bytes
    of index, and a handout's opening pages are where its subject is named."""
    return (version.text or "")[:MATERIAL_TEXT_INDEXED]


def _section_rows(db: Session, days: dict[int, Any], served: dict[int, list[int]]) -> list[Row]:
    """The sections of each session's latest approved minutes: a draft or a submitted
    version is its secretariat's and approvers' work, not yet the record."""
    versions = db.scalars(
        select(MinutesVersion)
        .join(Minutes, MinutesVersion.minutes_id == Minutes.id)
        .where(Minutes.session_id.in_(days), MinutesVersion.status == MinutesStatus.APPROVED)
        .options(selectinload(MinutesVersion.sections), selectinload(MinutesVersion.minutes))
        .execution_options(populate_existing=True)
    ).all()
    latest: dict[int, MinutesVersion] = {}
    for version in versions:
        session_id = version.minutes.session_id
        if session_id not in latest or latest[session_id].number < version.number:
            latest[session_id] = version
    rows = []
    for session_id, version in latest.items():
        for section in version.sections:
            rows.append(
                _row(
                    SearchKind.SECTION,
                    section.id,
                    section.title,
                    section.case_number or "",
                    section.text,
                    reach=policy.item_scope(
                        section.visibility, section.body_id, served[session_id], session_id
                    ),
                    session_id=session_id,
                    day=days[session_id],
                    body_id=section.body_id,
                    visibility=section.visibility,
                    item_id=section.agenda_item_id,
                )
            )
    return rows


# --- Things of their own --------------------------------------------------------------------


def _referral_rows(db: Session, ids: Iterable[int]) -> list[Row]:
    return [
        _row(
            SearchKind.REFERRAL,
            r.id,
            r.case_number,
            r.note,
            reach=policy.referral_scope(r),
            day=r.referred_on,
        )
        for r in db.scalars(
            select(Referral)
            .where(Referral.id.in_(list(ids)))
            .options(
                selectinload(Referral.agenda_item)
                .selectinload(AgendaItem.session)
                .selectinload(MeetingSession.bodies)
            )
        )
    ]


def _issue_rows(db: Session, ids: Iterable[int]) -> list[Row]:
    return [
        _row(
            SearchKind.ISSUE,
            issue.id,
            issue.title,
            issue.area,
            issue.text,
            reach=policy.issue_scope(issue.body_id, issue.created_by_id),
            body_id=issue.body_id,
            raised_by_id=issue.created_by_id,
            day=issue.raised_on,
        )
        for issue in db.scalars(select(LocalIssue).where(LocalIssue.id.in_(list(ids))))
    ]


def _body_rows(db: Session, ids: Iterable[int]) -> list[Row]:
    return [
        _row(
            SearchKind.BODY,
            body.id,
            body.name,
            body.area,
            body.description,
            reach=policy.body_scope(body.id),
            body_id=body.id,
        )
        for body in db.scalars(select(Body).where(Body.id.in_(list(ids))))
    ]


def _person_rows(db: Session, ids: Iterable[int]) -> list[Row]:
    return [
        _row(SearchKind.PERSON, person.id, person.name, person.kana, reach=policy.PERSON_SCOPE)
        for person in db.scalars(select(Person).where(Person.id.in_(list(ids))))
    ]
