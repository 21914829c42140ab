"""Who a session convenes beyond "every current member of every body served".

- **Selected members (選定招集)**: for one session, a body may be convened with only chosen
  members (a 支援会議's 個別ケース検討 is commonly convened so). A ``Selection`` row marks the
  body as so convened; its ``SelectedMember`` rows name those chosen. A selection whose
  members all went (a person deleted) still convenes nobody rather than everyone: closed
  content must never open because a row disappeared.
- **Participants (関係者)**: a person who is not a member of the owning body (a school, a
  care manager, a doctor asked to attend), invited to one session and assigned to some of
  its agenda items. They pledge for that session (``SessionPledge``, to the text of the
  owning body's law), and then see those items and nothing else that is closed.

``policy.session_access`` reads these rows; ``services/convening.py`` changes them.
"""

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Table,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from renkei.db import Base, UTCDateTime, utcnow
from renkei.models.bodies import Body
from renkei.models.people import Person
from renkei.models.sessions import AgendaItem, MeetingSession


class Selection(Base):
    """A body served by a session, convened with selected members only for that session."""

    __tablename__ = "session_selections"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    body_id: Mapped[int] = mapped_column(
        ForeignKey("bodies.id", ondelete="CASCADE"), primary_key=True
    )
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    session: Mapped[MeetingSession] = relationship(back_populates="selections")
    body: Mapped[Body] = relationship()
    members: Mapped[list["SelectedMember"]] = relationship(
        back_populates="selection", cascade="all, delete-orphan"
    )

    @property
    def person_ids(self) -> set[int]:
        return {member.person_id for member in self.members}


class SelectedMember(Base):
    """A member convened to one session under its body's selection."""

    __tablename__ = "selected_members"
    __table_args__ = (
        ForeignKeyConstraint(
            ["session_id", "body_id"],
            ["session_selections.session_id", "session_selections.body_id"],
            ondelete="CASCADE",
        ),
        # A person's feed asks, per session, whether they were chosen (the primary key
        # answers that); deleting a person finds their rows by this index.
        Index("ix_selected_members_person", "person_id"),
    )

    session_id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )

    selection: Mapped[Selection] = relationship(back_populates="members")
    person: Mapped[Person] = relationship()


participant_items = Table(
    "participant_items",
    Base.metadata,
    Column("participant_id", ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True),
    Column("agenda_item_id", ForeignKey("agenda_items.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_participant_items_item", "agenda_item_id"),
)


class Participant(Base):
    """A person invited to one session for some of its agenda items (関係者)."""

    __tablename__ = "participants"
    __table_args__ = (
        UniqueConstraint("session_id", "person_id"),
        Index("ix_participants_person", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    # Whether they may read the minutes sections of their items (the secretariat decides).
    may_read_minutes: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[MeetingSession] = relationship(back_populates="participants")
    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    items: Mapped[list[AgendaItem]] = relationship(
        secondary=participant_items, order_by=AgendaItem.position
    )

    @property
    def item_ids(self) -> set[int]:
        return {item.id for item in self.items}


class SessionPledge(Base):
    """A participant's pledge of confidentiality for one session and one owning body: the
    statutory duty of that body's law binds them for what they hear there. Kept as a record
    even if they are later taken off the session."""

    __tablename__ = "session_pledges"
    __table_args__ = (UniqueConstraint("session_id", "person_id", "body_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="CASCADE"))
    pledged_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    body: Mapped[Body] = relationship()
