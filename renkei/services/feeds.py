"""Personal calendar feeds: a secret URL per person, cheap to poll when nothing changed."""

import hashlib
import inspect
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Row, String, cast, delete, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, joinedload, selectinload

from renkei.db import UTCDateTime, insert_new, utcnow
from renkei.links import Links
from renkei.models import (
    AgendaItem,
    Body,
    FeedCopy,
    FeedFragment,
    MeetingSession,
    Membership,
    Person,
    Selection,
    Series,
)
from renkei.models.people import new_login_token
from renkei.services import calendar, chunked_gzip, policy, scheduling
from renkei.services.disk import is_disk_full

# Past sessions stay in the feed for a year; every future one is in it.
HISTORY = timedelta(days=365)
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def _format_digest() -> str:
    """What writes a feed besides the data: the modules that choose and lay out its sessions
    and the compiled translations. A deploy that changes any of them changes every feed's
    version, so that no stored copy outlives the code that built it."""
    digest = hashlib.sha256()
    for module in (calendar, policy, scheduling, sys.modules[__name__]):
        digest.update(Path(inspect.getfile(module)).read_bytes())
    for catalogue in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/*.mo")):
        digest.update(catalogue.read_bytes())
    return digest.hexdigest()[:16]


@dataclass
class FeedVersion:
    person_id: int
    etag: str
    last_modified: datetime | None


def renew_token(db: Session, person: Person) -> str:
    """A new feed URL; the old one stops working at once."""
    person.feed_token = new_login_token()
    db.flush()
    return person.feed_token


# The person's stamp, and each of their terms with its body's stamp. Built once: a calendar
# app's poll should cost little more than the query itself.
_STAMPS = (
    select(
        Person.id,
        Person.calendar_changed_at,
        Membership.body_id,
        Membership.term_start,
        Membership.term_end,
        Body.calendar_changed_at,
    )
    .outerjoin(Membership, Membership.person_id == Person.id)
    .outerjoin(Body, Body.id == Membership.body_id)
    .where(Person.active.is_(True))
    .order_by(Membership.id)
)
# A row of _STAMPS; the term and body are None for a person with no terms (outer joins).
_StampRow = Row[int, datetime | None, int | None, date | None, date | None, datetime | None]


def version_for_token(db: Session, token: str, *, locale: str, links: Links) -> FeedVersion | None:
    """The version of the feed behind ``token``; None for an unknown or renewed token, or
    a person no longer active."""
    rows = db.execute(_STAMPS.where(Person.feed_token == token)).all()
    return _version(rows, locale, links) if rows else None


def version(db: Session, person: Person, *, locale: str, links: Links) -> FeedVersion:
    rows = db.execute(_STAMPS.where(Person.id == person.id)).all()
    return _version(rows, locale, links)


def _version(rows: Sequence[_StampRow], locale: str, links: Links) -> FeedVersion:
    """ETag and Last-Modified from the stamps of the person's bodies and terms
    (models/calendar_stamps.py): one small query, however many sessions the feed holds.

    The locale is part of the ETag because the feed's words are translated; a session
    page's address (the site's address and the route's path), because the events link to
    it. The day is not: a session passing the year's edge leaves the feed at its next
    change, rather than every feed in town being rebuilt at midnight."""
    stamps = [stamp for stamp in {rows[0][1], *(row[5] for row in rows)} if stamp]
    parts = [FORMAT, locale, links.session(0), *map(tuple, rows)]
    digest = hashlib.sha256("|".join(map(str, parts)).encode())
    return FeedVersion(
        person_id=rows[0][0],
        etag=f'"{digest.hexdigest()[:32]}"',
        last_modified=max(stamps, default=None),
    )


def gzipped(
    db: Session, person: Person, current: FeedVersion, *, links: Links, sender: str, name: str
) -> bytes:
    """The feed for ``current``, gzipped: the stored copy while the version stands, else
    built, stored and returned. Two requests building at once both answer; one copy stays.
    When the copy cannot be stored (a full disk), the feed is returned all the same."""
    copy = db.get(FeedCopy, person.id)
    if copy is not None and copy.etag == current.etag:
        return copy.gzipped
    issuer = calendar.issuer(db, links, sender)
    built = _render(db, person, issuer=issuer, name=name)
    # Level 9, chunk by chunk, so that a rebuild compresses the changed session's chunk
    # alone: the copy is what calendar apps polling without If-None-Match download every
    # time (level 1 made it 64 % larger, 68.7 against 42.0 KiB for 1,017 sessions).
    data = chunked_gzip.compress(built.parts)
    try:
        # One savepoint for the event texts and the copy: on SQLite, where no transaction
        # has begun yet, releasing it is a commit, and one durable write costs less than two.
        with db.begin_nested():
            _store(db, built)
            if copy is None:
                insert_new(
                    db, FeedCopy, [{"person_id": person.id, "etag": current.etag, "gzipped": data}]
                )
            else:
                copy.etag, copy.gzipped, copy.built_at = current.etag, data, utcnow()
    except OperationalError as error:
        # The copy only spares the next poll the work: on a full disk the feed still answers.
        if not is_disk_full(error):
            raise
    return data


# A session's columns that its event text is made of, besides its agenda and its bodies
# (whose changes raise ``calendar_version``, models/calendar_versions.py), and those a feed
# chooses by: read as rows, not objects, a thousand of them cost a few milliseconds.
_ROW = (
    MeetingSession.id,
    MeetingSession.status,
    MeetingSession.series_id,
    MeetingSession.calendar_version,
    MeetingSession.title,
    MeetingSession.start_at,
    MeetingSession.end_at,
    MeetingSession.place,
    MeetingSession.online_url,
    MeetingSession.sequence,
    MeetingSession.original_start,
    MeetingSession.host_body_id,
    MeetingSession.created_at,
    MeetingSession.updated_at,
)
# The times as the database writes them, for the key alone: parsing four thousand of them
# into datetimes would cost more than the rest of a rebuild's reading.
_SELECTED = [
    cast(column, String).label(column.key) if isinstance(column.type, UTCDateTime) else column
    for column in _ROW
]


@dataclass
class _Built:
    parts: list[tuple[str, bytes]]  # the feed's parts in order, each with a key that names it
    variant: str
    new: dict[str, tuple[str, bytes]]  # key: the unit's name and its text, to store

    @property
    def feed(self) -> bytes:
        return b"".join(text for _key, text in self.parts)


def render(db: Session, person: Person, *, issuer: calendar.Issuer, name: str) -> bytes:
    """The person's feed, assembled from the stored text of each session or series it
    carries (``FeedFragment``); the texts built anew are stored."""
    built = _render(db, person, issuer=issuer, name=name)
    _store(db, built)
    return built.feed


def _render(db: Session, person: Person, *, issuer: calendar.Issuer, name: str) -> _Built:
    """The sessions are read as rows, and only the units changed since their text was
    stored are loaded with their agendas, built and serialised again, in one batch of
    queries however many they are."""
    rows = scheduling.upcoming_rows_for(db, person, utcnow() - HISTORY, _SELECTED)
    series = _series(db, {row.series_id for row in rows if row.series_id is not None})
    is_invited = scheduling.invitation_test(db, person) if series else _nobody
    units = calendar.feed_units(rows, series, is_invited=is_invited)
    variant = _variant(issuer)
    keys = [_key(unit, variant) for unit in units]
    # .get, not "in" then []: another thread may empty the kept texts in between.
    kept = {key: _RECENT.get(key) for key in keys}
    texts = {key: text for key, text in kept.items() if text is not None}
    unread = [key for key in keys if key not in texts]
    if unread:
        found = select(FeedFragment.key, FeedFragment.text).where(FeedFragment.key.in_(unread))
        texts.update((key, text) for key, text in db.execute(found))
    missing = {key: unit for key, unit in zip(keys, units, strict=True) if key not in texts}
    new = _build(db, missing, issuer) if missing else {}
    texts.update((key, text) for key, (_name, text) in new.items())
    _remember(texts)
    framed = calendar.framed(name, [texts[key] for key in keys])
    # The time zone and the end are the same in every feed a process writes.
    names = [hashlib.sha256(framed[0]).hexdigest(), *(["zone", *keys] if keys else []), "end"]
    return _Built(list(zip(names, framed, strict=True)), variant, new)


# The texts this process read or built last, by key. A key is a digest of everything its
# text is made of, so a text found here is the stored one (or the one about to be stored),
# never an old one: reading a thousand texts from the database was a fifth of a rebuild.
_RECENT: dict[str, bytes] = {}
RECENT_TEXTS = 20_000  # about 15 MB of a worker's memory at most


# The keys of the rows this process keyed last, by the variant and the row's values.
_ROW_KEYS: dict[tuple[str, Any], str] = {}


def _remember(texts: dict[str, bytes]) -> None:
    if len(_RECENT) + len(texts) > RECENT_TEXTS:
        _RECENT.clear()  # simpler than an LRU; the next rebuilds fill it again
    _RECENT.update(texts)
    if len(_ROW_KEYS) > RECENT_TEXTS:
        _ROW_KEYS.clear()


def forget() -> None:
    """Forget what this process kept to build feeds faster (tests start without it)."""
    _RECENT.clear()
    _ROW_KEYS.clear()
    chunked_gzip.forget()


def _nobody(_session: MeetingSession) -> bool:
    return False  # never asked: only the occurrences of a series are tested


def _series(db: Session, ids: set[int]) -> dict[int, Series]:
    """The series, with their sessions and what tells whom each convenes."""
    if not ids:
        return {}
    query = (
        select(Series)
        .where(Series.id.in_(ids))
        .options(
            selectinload(Series.sessions).options(
                selectinload(MeetingSession.bodies),
                selectinload(MeetingSession.selections).selectinload(Selection.members),
            )
        )
        .execution_options(populate_existing=True)
    )
    return {series.id: series for series in db.scalars(query)}


def _variant(issuer: calendar.Issuer) -> str:
    """What every event text of this install and locale shares besides the sessions: the
    code's and translations' version, the words, the links and the issuer."""
    parts = [FORMAT, *calendar.feed_words(), issuer.links.session(0), issuer.uid_domain]
    parts.append(issuer.address)
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _key(unit: calendar.FeedUnit, variant: str) -> str:
    """A digest of everything the unit's text is made of: each session's ``_ROW`` (its
    ``calendar_version`` raised by its agenda, bodies and their names), and for a series
    its rule and sequence and every occurrence's."""
    if unit.series is None:
        # A row with the same values as one keyed before has its key: the digests of a
        # thousand rows were an eighth of a rebuild.
        row: Any = unit.session  # a row of _ROW
        key = _ROW_KEYS.get((variant, row))
        if key is None:
            key = _ROW_KEYS[variant, row] = _digest([variant, unit.name, *row])
        return key
    parts: list[object] = [variant, unit.name, unit.series.sequence, unit.series.rrule]
    for s in unit.series.sessions:
        parts += [getattr(s, column.key) for column in _ROW]
    return _digest(parts)


def _digest(parts: list[object]) -> str:
    # NUL keeps the values apart: no text can hold it (PostgreSQL refuses it, and the app
    # strips control characters from what it stores: textnorm).
    return hashlib.sha256("\x00".join(map(str, parts)).encode()).hexdigest()


def _build(
    db: Session, missing: dict[str, calendar.FeedUnit], issuer: calendar.Issuer
) -> dict[str, tuple[str, bytes]]:
    """The names and texts of ``missing`` units, built with their agendas loaded in one
    batch."""
    session_ids = {u.session.id for u in missing.values() if u.session is not None}
    series_ids = {u.series.id for u in missing.values() if u.series is not None}
    loaded = db.scalars(
        select(MeetingSession)
        .where(or_(MeetingSession.id.in_(session_ids), MeetingSession.series_id.in_(series_ids)))
        .options(
            selectinload(MeetingSession.items).joinedload(AgendaItem.body),
            selectinload(MeetingSession.bodies),
            joinedload(MeetingSession.host_body),
        )
        # As the database has them now, like the rows their keys were made from, even if
        # this database session loaded them before another request changed them.
        .execution_options(populate_existing=True)
    )
    sessions = {session.id: session for session in loaded}
    return {
        key: (unit.name, calendar.unit_text(unit, issuer, sessions))
        for key, unit in missing.items()
    }


def _store(db: Session, built: _Built) -> None:
    """Store the texts built anew in place of their units' earlier ones. Two requests
    storing the same text at once both answer (``insert_new``: one row stays); on a full
    disk the feed is answered all the same."""
    if not built.new:
        return
    try:
        with db.begin_nested():
            names = {name for name, _text in built.new.values()}
            db.execute(
                delete(FeedFragment).where(
                    FeedFragment.unit.in_(names), FeedFragment.variant == built.variant
                )
            )
            rows: list[dict[str, object]] = [
                {"key": key, "unit": name, "variant": built.variant, "text": text}
                for key, (name, text) in built.new.items()
            ]
            insert_new(db, FeedFragment, rows)
    except OperationalError as error:
        if not is_disk_full(error):
            raise


FORMAT = _format_digest()
