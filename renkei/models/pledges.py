"""Confidentiality pledges (守秘義務の確認), recorded per person and body."""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column, relationship

from renkei.db import Base, UTCDateTime, utcnow
from renkei.models.bodies import Body
from renkei.models.people import Person


class Pledge(Base):
    """A person's pledge to keep a body's confidential matters secret, from ``pledged_on``."""

    __tablename__ = "pledges"
    __table_args__ = (Index("ix_pledges_person_body", "person_id", "body_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="CASCADE"))
    pledged_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    body: Mapped[Body] = relationship()
    recorded_by: Mapped[Person | None] = relationship(foreign_keys=[recorded_by_id])
