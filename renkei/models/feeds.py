"""The last calendar feed built for each person, kept for the calendar apps that fetch it."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from renkei.db import Base, UTCDateTime, utcnow


class FeedCopy(Base):
    """A person's feed as last built (gzip), with the version it was built for.

    Many calendar apps fetch the whole feed on every poll instead of asking whether it
    changed, and building a feed of a thousand sessions takes seconds: while the version
    stands, they are given this copy. One row per person: a new build replaces it."""

    __tablename__ = "feed_copies"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    etag: Mapped[str] = mapped_column(String(64))
    gzipped: Mapped[bytes] = mapped_column(LargeBinary)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FeedFragment(Base):
    """The text of one session's events (a one-off or an occurrence under its own UID), or
    of a whole series', as every feed carries it: feeds hold public titles only and nothing
    of the person they are for, so one text serves every subscriber, and a feed rebuilt
    after a change re-serialises only what changed (services/feeds.py).

    ``key`` is a digest of everything the text is made of (the session rows, their
    ``calendar_version``, the words and links of the install), so a changed session gets a
    new key and its old text is never found again; ``unit`` names the session or series,
    so that a unit's superseded texts of the same ``variant`` are removed when it is
    rebuilt."""

    __tablename__ = "feed_fragments"
    __table_args__ = (Index("ix_feed_fragments_unit", "unit", "variant"),)

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit: Mapped[str] = mapped_column(String(40))
    variant: Mapped[str] = mapped_column(String(16))
    text: Mapped[bytes] = mapped_column(LargeBinary)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
