"""What each recipient's calendar holds of each session, as Renkei last told them by e-mail.

Change notices are worked out from it (services/notices.py): what a person's calendar should
show now, compared with what they were sent, gives per person an invitation, an update or a
cancellation, whatever made the difference (a new time, a body removed, a term ended).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from renkei.db import Base, UTCDateTime, utcnow


class CalendarCopy(Base):
    """One session in one recipient's calendar: the UID it was sent under and what the
    event said (``snapshot``: title, times, place, link, agenda lines, bodies, the series'
    rule and the RECURRENCE-ID). A row is removed when its cancellation is sent."""

    __tablename__ = "calendar_copies"
    __table_args__ = (
        UniqueConstraint("session_id", "address"),
        Index("ix_calendar_copies_uid", "uid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(254))  # lower-cased
    name: Mapped[str] = mapped_column(String(100), default="")  # as the message greeted them
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    uid: Mapped[str] = mapped_column(String(200))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    sequence: Mapped[int] = mapped_column(Integer)  # the SEQUENCE last sent for it
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
