"""Personal calendar feeds: a secret URL per person, cheap to poll when nothing changed."""

import gzip
import hashlib
import inspect
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Row, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, selectinload

from renkei.db import utcnow
from renkei.links import Links
from renkei.models import (
    AgendaItem,
    Body,
    FeedCopy,
    MeetingSession,
    Membership,
    Person,
    Selection,
    Series,
)
from renkei.models.people import new_login_token
from renkei.services import calendar, policy, scheduling
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
    data = gzip.compress(render(db, person, issuer=issuer, name=name), mtime=0)
    try:
        with db.begin_nested():
            if copy is None:
                db.add(FeedCopy(person_id=person.id, etag=current.etag, gzipped=data))
            else:
                copy.etag, copy.gzipped, copy.built_at = current.etag, data, utcnow()
    except IntegrityError:
        pass  # another request stored its copy first: the same feed
    except OperationalError as error:
        # The copy only spares the next poll the work: on a full disk the feed still answers.
        if not is_disk_full(error):
            raise
    return data


def render(db: Session, person: Person, *, issuer: calendar.Issuer, name: str) -> bytes:
    since = utcnow() - HISTORY
    sessions = scheduling.upcoming_for(
        db,
        person,
        since,
        limit=None,
        options=(
            selectinload(MeetingSession.items).joinedload(AgendaItem.body),
            selectinload(MeetingSession.series)
            .selectinload(Series.sessions)
            .options(
                selectinload(MeetingSession.items).joinedload(AgendaItem.body),
                selectinload(MeetingSession.bodies),
                selectinload(MeetingSession.selections).selectinload(Selection.members),
            ),
        ),
    )
    return calendar.feed(
        sessions, name=name, issuer=issuer, is_invited=scheduling.invitation_test(db, person)
    )


FORMAT = _format_digest()
