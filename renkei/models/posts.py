"""Posts (職): the funded positions a person holds under a programme, for a period.

One person may hold 相談支援員 under the livelihood-support programme and 生活支援
コーディネーター under care insurance at once; their meeting hours are then apportioned
between the two (docs/architecture.md, "Minutes and apportionment").
"""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from renkei.db import Base, UTCDateTime, enum_type, utcnow
from renkei.models.bodies import Programme
from renkei.models.people import Person


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        CheckConstraint("end_on IS NULL OR end_on >= start_on", name="post_order"),
        Index("ix_posts_person", "person_id", "start_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    programme: Mapped[Programme] = mapped_column(enum_type(Programme))
    title: Mapped[str] = mapped_column(String(100))
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship()

    def is_held(self, on: date) -> bool:
        return self.start_on <= on and (self.end_on is None or self.end_on >= on)
