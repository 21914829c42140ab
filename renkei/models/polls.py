"""Date polls (日程調整): before a session has a date, its invitees say which candidate
slots they can attend; the secretary decides one and the session is created from it.

Invitees are fixed when the poll is made (the de-duplicated members of its bodies), each
with a row here; those without a login answer through a personal link whose token is kept
only as a SHA-256 hash. Every change of an answer is kept (``PollAnswerChange``).
"""

from datetime import datetime, timedelta
from typing import Self

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from renkei.db import Base, UTCDateTime, enum_type, utcnow
from renkei.i18n import LazyText
from renkei.i18n import lazy_gettext as _l
from renkei.models.bodies import Body
from renkei.models.labels import LabelledEnum
from renkei.models.people import Person
from renkei.models.sessions import MeetingSession


class PollStatus(LabelledEnum):
    OPEN = "open"
    DECIDED = "decided"

    @classmethod
    def _labels(cls) -> dict[Self, LazyText]:
        return {cls.OPEN: _l("Open for answers"), cls.DECIDED: _l("Decided")}


class Choice(LabelledEnum):
    """An invitee's answer for one slot: ○ can attend, △ not sure or on conditions, × cannot."""

    YES = "yes"
    MAYBE = "maybe"
    NO = "no"

    @classmethod
    def _labels(cls) -> dict[Self, LazyText]:
        return {cls.YES: _l("Can attend"), cls.MAYBE: _l("Not sure"), cls.NO: _l("Cannot attend")}

    @property
    def mark(self) -> str:
        return {Choice.YES: "○", Choice.MAYBE: "△", Choice.NO: "×"}[self]


poll_bodies = Table(
    "poll_bodies",
    Base.metadata,
    Column("poll_id", ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True),
    Column("body_id", ForeignKey("bodies.id", ondelete="RESTRICT"), primary_key=True),
)


class Poll(Base):
    __tablename__ = "polls"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str] = mapped_column(Text, default="")
    host_body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="RESTRICT"))
    # Answers are taken until this moment (the end of the deadline's Tokyo day), if set.
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[PollStatus] = mapped_column(enum_type(PollStatus), default=PollStatus.OPEN)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The session created from the decided slot.
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"))

    host_body: Mapped[Body] = relationship()
    created_by: Mapped[Person | None] = relationship()
    session: Mapped[MeetingSession | None] = relationship()
    bodies: Mapped[list[Body]] = relationship(secondary=poll_bodies, order_by=Body.name)
    slots: Mapped[list["PollSlot"]] = relationship(
        back_populates="poll",
        order_by="(PollSlot.start_at, PollSlot.id)",
        cascade="all, delete-orphan",
    )
    invitees: Mapped[list["PollInvitee"]] = relationship(
        back_populates="poll", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.status == PollStatus.OPEN

    @property
    def chosen_slot(self) -> "PollSlot | None":
        return next((slot for slot in self.slots if slot.chosen), None)

    @property
    def deadline_day_end(self) -> datetime | None:
        """The last moment answers are taken, for showing the deadline's date."""
        return self.deadline_at - timedelta(seconds=1) if self.deadline_at else None

    def accepts_answers(self, now: datetime) -> bool:
        return self.is_open and (self.deadline_at is None or now < self.deadline_at)

    def status_label(self, now: datetime) -> str:
        """The status as people read it: an open poll past its deadline awaits a decision."""
        if self.is_open and not self.accepts_answers(now):
            return str(_l("Deadline passed, not yet decided"))
        return self.status.label


class PollSlot(Base):
    """A candidate slot (候補日時)."""

    __tablename__ = "poll_slots"
    __table_args__ = (Index("ix_poll_slots_poll", "poll_id", "start_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    chosen: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    poll: Mapped[Poll] = relationship(back_populates="slots")


class PollInvitee(Base):
    """One invitee's row in a poll: their comment and when they last answered."""

    __tablename__ = "poll_invitees"
    __table_args__ = (
        UniqueConstraint("poll_id", "person_id"),
        Index("ix_poll_invitees_person", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    # Typed in a text area: its lines are kept (renkei.db normalises text by column).
    comment: Mapped[str] = mapped_column(String(500), default="", info={"lines": True})
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    poll: Mapped[Poll] = relationship(back_populates="invitees")
    person: Mapped[Person] = relationship()


class PollAnswer(Base):
    """An invitee's current answer for one slot."""

    __tablename__ = "poll_answers"
    __table_args__ = (UniqueConstraint("slot_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("poll_slots.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    choice: Mapped[Choice] = mapped_column(enum_type(Choice))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PollAnswerChange(Base):
    """History: one slot's answer of one invitee changed (``old`` None: first answer).
    ``by`` is who was logged in; None when the invitee used their personal link."""

    __tablename__ = "poll_answer_changes"
    __table_args__ = (Index("ix_poll_answer_changes_poll", "poll_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("poll_slots.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    old: Mapped[Choice | None] = mapped_column(enum_type(Choice))
    new: Mapped[Choice] = mapped_column(enum_type(Choice))

    slot: Mapped[PollSlot] = relationship()
    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    by: Mapped[Person | None] = relationship(foreign_keys=[by_id])


class PollLink(Base):
    """A personal answer link. Only the SHA-256 of its token is kept; every link sent stays
    valid (a reminder adds one) until the poll closes or its deadline passes."""

    __tablename__ = "poll_links"
    __table_args__ = (Index("ix_poll_links_poll_person", "poll_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    poll: Mapped[Poll] = relationship()
    person: Mapped[Person] = relationship()
