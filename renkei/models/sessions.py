"""Sessions (開催回): one meeting on the calendar, serving one or more bodies.

A session serves one body (standalone, or a subcommittee's own session) or several (joint,
共同開催, with a host body and a presiding person). Sessions of a series are stored one row
per occurrence, each remembering the start the series gave it (``original_start``), so
that one occurrence can be moved or cancelled without touching the rest.
"""

from datetime import datetime
from typing import TYPE_CHECKING, Self

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from renkei.db import Base, UTCDateTime, enum_type, utcnow
from renkei.i18n import LazyText
from renkei.i18n import lazy_gettext as _l
from renkei.models.bodies import Body
from renkei.models.case_numbers import CASE_NUMBER_LENGTH
from renkei.models.labels import LabelledEnum
from renkei.models.people import Person

if TYPE_CHECKING:
    from renkei.models.convening import Participant, Selection


class Mode(LabelledEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    HYBRID = "hybrid"
    WRITTEN = "written"  # 書面開催

    @classmethod
    def _labels(cls) -> dict[Self, LazyText]:
        return {
            cls.IN_PERSON: _l("In person"),
            cls.ONLINE: _l("Online"),
            cls.HYBRID: _l("Hybrid"),
            cls.WRITTEN: _l("By written procedure"),
        }


class Status(LabelledEnum):
    """A session's lifecycle: prepared (the secretariat's alone) → convened (the notice was
    sent) → held; or cancelled. A session recorded after its time is held at once."""

    PREPARED = "prepared"  # 準備中
    CONVENED = "convened"  # 招集済
    HELD = "held"  # 開催済
    CANCELLED = "cancelled"  # 中止

    @classmethod
    def _labels(cls) -> dict[Self, LazyText]:
        return {
            cls.PREPARED: _l("Being prepared"),
            cls.CONVENED: _l("Convened"),
            cls.HELD: _l("Held"),
            cls.CANCELLED: _l("Cancelled"),
        }


class Answer(LabelledEnum):
    ATTEND = "attend"
    ABSENT = "absent"
    UNDECIDED = "undecided"
    PROXY = "proxy"  # 代理出席

    @classmethod
    def _labels(cls) -> dict[Self, LazyText]:
        return {
            cls.ATTEND: _l("Attending"),
            cls.ABSENT: _l("Absent"),
            cls.UNDECIDED: _l("Undecided"),
            cls.PROXY: _l("Attending by proxy"),
        }


class Visibility(LabelledEnum):
    """Who may see an agenda item or minutes section, widest first; ``policy`` reads it
    (docs/architecture.md, "The confidentiality rule")."""

    PUBLIC = "public"  # 公開: anyone, every calendar and e-mail
    SESSION = "session"  # 出席者限り: everyone convened to the session, of every body
    BODY = "body"  # 構成員限り: the convened members of the owning body only
    CONFIDENTIAL = "confidential"  # 非公開（守秘義務）: those of the owning body with a pledge

    @classmethod
    def _labels(cls) -> dict[Self, LazyText]:
        return {
            cls.PUBLIC: _l("Public"),
            cls.SESSION: _l("Session attendees only"),
            cls.BODY: _l("Body members only"),
            cls.CONFIDENTIAL: _l("Confidential (statutory secrecy)"),
        }


session_bodies = Table(
    "session_bodies",
    Base.metadata,
    Column("session_id", ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("body_id", ForeignKey("bodies.id", ondelete="RESTRICT"), primary_key=True),
    # A body's sessions (its page, a member's feed and home page): the primary key leads
    # with the session, so without this every such query reads the whole table.
    Index("ix_session_bodies_body", "body_id", "session_id"),
)


class Series(Base):
    """A repeating session, defined by an RRULE that always ends (UNTIL or COUNT)."""

    __tablename__ = "series"

    id: Mapped[int] = mapped_column(primary_key=True)
    rrule: Mapped[str] = mapped_column(String(500))
    # The series' iCalendar SEQUENCE: one UID, so one counter for it and every occurrence.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sessions: Mapped[list["MeetingSession"]] = relationship(
        back_populates="series", order_by="MeetingSession.original_start"
    )


class MeetingSession(Base):
    """A session (開催回). Times are stored in UTC and shown in Asia/Tokyo."""

    __tablename__ = "sessions"
    __table_args__ = (
        Index("ix_sessions_start", "start_at"),
        Index("ix_sessions_series", "series_id", "original_start"),
        # The few sessions being prepared, which the search's policy and the dashboard ask
        # for: without it, both databases read all the town's sessions to find them.
        Index(
            "ix_sessions_prepared",
            "id",
            sqlite_where=text("status = 'prepared'"),
            postgresql_where=text("status = 'prepared'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    host_body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="RESTRICT"))
    presiding_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(200), default="")
    online_url: Mapped[str] = mapped_column(String(500), default="")
    mode: Mapped[Mode] = mapped_column(enum_type(Mode), default=Mode.IN_PERSON)
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[Status] = mapped_column(enum_type(Status), default=Status.PREPARED)
    # When the convening notice (招集通知) went out; None: never (prepared, or recorded after).
    convened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The first change since the last notice that calendars have not heard of yet: changes
    # are sent together a few minutes after it (services/notices.py).
    notice_pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id", ondelete="SET NULL"))
    # The start the series rule gave this occurrence: its RECURRENCE-ID, even once moved.
    original_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The iCalendar SEQUENCE of a session outside a series: rises with every change notice.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Raised with every change to what its calendar event shows from outside this row (its
    # agenda, its bodies and their names): with the row's own columns, the version of its
    # stored event text (models/calendar_versions.py, services/feeds.py).
    calendar_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    host_body: Mapped[Body] = relationship(foreign_keys=[host_body_id])
    presiding_person: Mapped[Person | None] = relationship()
    bodies: Mapped[list[Body]] = relationship(secondary=session_bodies, order_by=Body.name)
    series: Mapped[Series | None] = relationship(back_populates="sessions")
    items: Mapped[list["AgendaItem"]] = relationship(
        back_populates="session", order_by="AgendaItem.position", cascade="all, delete-orphan"
    )
    guests: Mapped[list["Guest"]] = relationship(
        back_populates="session", order_by="Guest.id", cascade="all, delete-orphan"
    )
    replies: Mapped[list["Reply"]] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )
    changes: Mapped[list["SessionChange"]] = relationship(
        back_populates="session", order_by="SessionChange.id", cascade="all, delete-orphan"
    )
    # Bodies convened with selected members, and participants (models/convening.py).
    selections: Mapped[list["Selection"]] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )
    participants: Mapped[list["Participant"]] = relationship(
        back_populates="session", order_by="Participant.id", cascade="all, delete-orphan"
    )

    @property
    def is_joint(self) -> bool:
        return len(self.bodies) > 1

    @property
    def is_moved(self) -> bool:
        return self.original_start is not None and self.original_start != self.start_at

    @property
    def rule_start(self) -> datetime:
        """``original_start`` of an occurrence of a series, which always has one (a session
        joins a series only with it)."""
        if self.original_start is None:
            raise ValueError(f"session {self.id} has no start given by a series rule")
        return self.original_start

    @property
    def minutes_long(self) -> int:
        return int((self.end_at - self.start_at).total_seconds() // 60)

    @property
    def is_prepared(self) -> bool:
        return self.status == Status.PREPARED

    def note_change(self) -> None:
        """Something calendars show, or who is convened, changed: once convened, the people
        concerned are told (with the other changes of the next few minutes)."""
        if self.convened_at is not None and self.notice_pending_since is None:
            self.notice_pending_since = utcnow()

    def selection_of(self, body_id: int) -> "Selection | None":
        """The body's selection (選定招集) for this session; None: every member is convened."""
        return next((s for s in self.selections if s.body_id == body_id), None)

    def convenes(self, body_id: int, person_id: int) -> bool:
        """Whether a member of ``body_id`` (their term is the caller's to check) is convened
        to this session as such: always, unless the body was convened with selected members
        and they are not among them."""
        selection = self.selection_of(body_id)
        return selection is None or person_id in selection.person_ids

    def __repr__(self) -> str:
        return f"<MeetingSession {self.id} {self.title}>"


class AgendaItem(Base):
    """An agenda item (議題), owned by one of the session's bodies."""

    __tablename__ = "agenda_items"
    __table_args__ = (Index("ix_agenda_items_session", "session_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="RESTRICT"))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    presenter: Mapped[str] = mapped_column(String(100), default="")
    planned_minutes: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[Visibility] = mapped_column(enum_type(Visibility))
    # ケース番号 (e.g. R8-0012): how an individual case is named, never by a person's name.
    case_number: Mapped[str | None] = mapped_column(String(CASE_NUMBER_LENGTH))

    session: Mapped[MeetingSession] = relationship(back_populates="items")
    body: Mapped[Body] = relationship()


class Guest(Base):
    """Someone invited by name and e-mail who is not a member of the bodies served."""

    __tablename__ = "guests"
    __table_args__ = (Index("ix_guests_session", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="")

    session: Mapped[MeetingSession] = relationship(back_populates="guests")


class Reply(Base):
    """An invitee's attendance reply (出欠)."""

    __tablename__ = "replies"
    __table_args__ = (UniqueConstraint("session_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    answer: Mapped[Answer] = mapped_column(enum_type(Answer))
    proxy_name: Mapped[str] = mapped_column(String(100), default="")
    comment: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    session: Mapped[MeetingSession] = relationship(back_populates="replies")
    person: Mapped[Person] = relationship()


class SessionChange(Base):
    """History of a session: who created, moved, changed or cancelled it, and when."""

    __tablename__ = "session_changes"
    __table_args__ = (Index("ix_session_changes_session", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    # Human-readable "field: old → new" lines, in the language of no one: values only.
    detail: Mapped[str] = mapped_column(Text, default="")

    session: Mapped[MeetingSession] = relationship(back_populates="changes")
    person: Mapped[Person | None] = relationship()
