"""The last calendar feed built for each person, kept for the calendar apps that fetch it."""

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
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
