"""Personal calendar feeds: a secret URL per person, cheap to poll when nothing changed."""

import gzip
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from renkei.db import utcnow
from renkei.models import AgendaItem, Body, FeedCopy, MeetingSession, Membership, Person, Series
from renkei.models.people import new_login_token
from renkei.services import calendar, scheduling
from renkei.services.dates import tokyo_date

# Past sessions stay in the feed for a year; every future one is in it.
HISTORY = timedelta(days=365)
# Raised whenever the feed's layout changes, so that calendars fetch it anew.
FORMAT_VERSION = "1"


@dataclass
class FeedVersion:
    etag: str
    last_modified: datetime | None


def person_for_token(db: Session, token: str) -> Person | None:
    """The active person whose feed this is; None for an unknown or renewed token."""
    person = db.scalar(select(Person).where(Person.feed_token == token))
    return person if person is not None and person.active else None


def renew_token(db: Session, person: Person) -> str:
    """A new feed URL; the old one stops working at once."""
    person.feed_token = new_login_token()
    db.flush()
    return person.feed_token


def version(
    db: Session, person: Person, *, locale: str, base_url: str, now: datetime | None = None
) -> FeedVersion:
    """The feed's ETag and Last-Modified from the stamps of the person's bodies and terms
    (models/calendar_stamps.py): one small query, however many sessions the feed holds.

    The day is part of the ETag because the feed's window moves with it; the locale,
    because the feed's words are translated; the site's address, because links carry it."""
    rows = db.execute(
        select(
            Person.calendar_changed_at,
            Membership.body_id,
            Membership.term_start,
            Membership.term_end,
            Body.calendar_changed_at,
        )
        .outerjoin(Membership, Membership.person_id == Person.id)
        .outerjoin(Body, Body.id == Membership.body_id)
        .where(Person.id == person.id)
        .order_by(Membership.id)
    ).all()
    stamps = [stamp for stamp in {rows[0][0], *(row[4] for row in rows)} if stamp]
    parts = [FORMAT_VERSION, locale, base_url, tokyo_date(now or utcnow()), *rows]
    digest = hashlib.sha256(repr(parts).encode())
    return FeedVersion(etag=f'"{digest.hexdigest()[:32]}"', last_modified=max(stamps, default=None))


def gzipped(
    db: Session, person: Person, current: FeedVersion, *, base_url: str, name: str
) -> bytes:
    """The feed for ``current``, gzipped: the stored copy while the version stands, else
    built, stored and returned. Two requests building at once both answer; one copy stays."""
    copy = db.get(FeedCopy, person.id)
    if copy is not None and copy.etag == current.etag:
        return copy.gzipped
    data = gzip.compress(render(db, person, base_url=base_url, name=name), mtime=0)
    try:
        with db.begin_nested():
            if copy is None:
                db.add(FeedCopy(person_id=person.id, etag=current.etag, gzipped=data))
            else:
                copy.etag, copy.gzipped, copy.built_at = current.etag, data, utcnow()
    except IntegrityError:
        pass  # another request stored its copy first: the same feed
    return data


def render(db: Session, person: Person, *, base_url: str, name: str) -> bytes:
    since = utcnow() - HISTORY
    sessions = scheduling.upcoming_for(
        db,
        person,
        since,
        limit=None,
        options=(
            selectinload(MeetingSession.items).selectinload(AgendaItem.body),
            selectinload(MeetingSession.series)
            .selectinload(Series.sessions)
            .options(
                selectinload(MeetingSession.items).selectinload(AgendaItem.body),
                selectinload(MeetingSession.bodies),
            ),
        ),
    )
    return calendar.feed(person, sessions, name=name, base_url=base_url)
