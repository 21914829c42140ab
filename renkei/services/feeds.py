"""Personal calendar feeds: a secret URL per person, cheap to poll when nothing changed."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from renkei.db import utcnow
from renkei.models import AgendaItem, MeetingSession, Person, Series
from renkei.models.people import new_login_token
from renkei.services import calendar, scheduling

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


def version(db: Session, person: Person, now: datetime | None = None) -> FeedVersion:
    since = (now or utcnow()) - HISTORY
    versions = scheduling.invited_versions(db, person, since)
    digest = hashlib.sha256(FORMAT_VERSION.encode())
    digest.update(person.name.encode())
    for session_id, updated_at in sorted(versions.items()):
        digest.update(f"{session_id}:{updated_at.isoformat()};".encode())
    return FeedVersion(
        etag=f'"{digest.hexdigest()[:32]}"',
        last_modified=max(versions.values(), default=None),
    )


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
