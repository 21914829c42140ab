"""The attendance record (出席記録) of a held session: who was there, from when to when,
and who was present for each confidential item."""

from datetime import datetime
from typing import Self

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from renkei.db import Base, UTCDateTime, enum_type, utcnow
from renkei.i18n import LazyText
from renkei.i18n import lazy_gettext as _l
from renkei.models.labels import LabelledEnum
from renkei.models.people import Person
from renkei.models.sessions import AgendaItem, MeetingSession


class Presence(LabelledEnum):
    PRESENT = "present"
    PARTIAL = "partial"  # 遅刻・早退: present for part of the session, with times
    PROXY = "proxy"  # someone else attended in the member's place
    ABSENT = "absent"

    @classmethod
    def _labels(cls) -> dict[Self, LazyText]:
        return {
            cls.PRESENT: _l("Present"),
            cls.PARTIAL: _l("Late or left early"),
            cls.PROXY: _l("Proxy attended"),
            cls.ABSENT: _l("Absent"),
        }

    @property
    def attended(self) -> bool:
        """The member themself was in the room for at least part of the session."""
        return self in (Presence.PRESENT, Presence.PARTIAL)


class Attendance(Base):
    """One invitee's line in a session's attendance record."""

    __tablename__ = "attendances"
    __table_args__ = (
        UniqueConstraint("session_id", "person_id"),
        Index("ix_attendances_person", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    presence: Mapped[Presence] = mapped_column(enum_type(Presence))
    # Only for Presence.PARTIAL; None means from the start / until the end.
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    proxy_name: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(String(200), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    session: Mapped[MeetingSession] = relationship()
    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    items: Mapped[list["ItemPresence"]] = relationship(
        back_populates="attendance", cascade="all, delete-orphan"
    )

    @property
    def item_ids(self) -> set[int]:
        return {row.agenda_item_id for row in self.items}


class ItemPresence(Base):
    """The attendee was in the room for this confidential item.

    Only confidential items get rows: everyone who attended sat through the others, while a
    confidential item is heard by those entitled to it alone (docs/architecture.md, "The
    confidentiality rule").
    """

    __tablename__ = "item_presences"

    attendance_id: Mapped[int] = mapped_column(
        ForeignKey("attendances.id", ondelete="CASCADE"), primary_key=True
    )
    agenda_item_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="CASCADE"), primary_key=True
    )

    attendance: Mapped[Attendance] = relationship(back_populates="items")
    agenda_item: Mapped[AgendaItem] = relationship()
