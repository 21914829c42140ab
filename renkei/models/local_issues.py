"""Local issues (地域課題): what cases and sessions reveal about the area, raised anonymised to
a 協議体 and followed until a resource is created or the issue is settled (資源開発)."""

from datetime import date, datetime
from typing import Self

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from renkei.db import Base, UTCDateTime, enum_type, utcnow
from renkei.i18n import LazyText
from renkei.i18n import lazy_gettext as _l
from renkei.models.bodies import Body
from renkei.models.labels import LabelledEnum
from renkei.models.people import Person
from renkei.models.sessions import AgendaItem, MeetingSession


class IssueStatus(LabelledEnum):
    """提起 → 協議中 → 資源化 / 解決 / 継続. ``rank`` orders them: a move to a lower or equal
    rank goes backwards (or sideways between outcomes) and needs a reason."""

    RAISED = "raised"  # 提起
    DISCUSSING = "discussing"  # 協議中
    CONTINUING = "continuing"  # 継続: carried on to a later year or body
    RESOURCED = "resourced"  # 資源化: a local resource was created
    RESOLVED = "resolved"  # 解決

    @classmethod
    def _labels(cls) -> dict[Self, LazyText]:
        return {
            cls.RAISED: _l("Raised"),
            cls.DISCUSSING: _l("Under discussion"),
            cls.CONTINUING: _l("Continued"),
            cls.RESOURCED: _l("Turned into a resource"),
            cls.RESOLVED: _l("Resolved"),
        }

    @property
    def rank(self) -> int:
        return {
            IssueStatus.RAISED: 0,
            IssueStatus.DISCUSSING: 1,
            IssueStatus.CONTINUING: 2,
            IssueStatus.RESOURCED: 3,
            IssueStatus.RESOLVED: 3,
        }[self]

    @property
    def is_open(self) -> bool:
        """Still to be taken up by a session: neither turned into a resource nor resolved."""
        return self not in (IssueStatus.RESOURCED, IssueStatus.RESOLVED)


class LocalIssue(Base):
    """One local issue, owned by the 協議体 it goes to. Its text is anonymised: no person's
    name, no case number (the case item it came from is linked, never copied)."""

    __tablename__ = "local_issues"
    __table_args__ = (Index("ix_local_issues_body", "body_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    # A district or 第2層 area, as free text (the 協議体's own area by default).
    area: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[IssueStatus] = mapped_column(enum_type(IssueStatus))
    raised_on: Mapped[date] = mapped_column(Date)
    status_on: Mapped[date] = mapped_column(Date)  # when the current status was reached
    # Where it was raised from: an agenda item (a case discussed) or a session; neither when
    # the 協議体's secretariat raised it directly.
    source_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="SET NULL")
    )
    source_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    body: Mapped[Body] = relationship()
    source_item: Mapped[AgendaItem | None] = relationship()
    source_session: Mapped[MeetingSession | None] = relationship()
    created_by: Mapped[Person | None] = relationship()
    events: Mapped[list["LocalIssueEvent"]] = relationship(
        back_populates="issue", order_by="LocalIssueEvent.id", cascade="all, delete-orphan"
    )
    discussions: Mapped[list["IssueDiscussion"]] = relationship(
        back_populates="issue", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<LocalIssue {self.id} {self.status}>"


class IssueDiscussion(Base):
    """A session of the 協議体 where the issue was discussed; ``item_id``: the agenda item
    made for it when the session took it onto its agenda."""

    __tablename__ = "local_issue_sessions"
    __table_args__ = (Index("ix_local_issue_sessions_session", "session_id"),)

    issue_id: Mapped[int] = mapped_column(
        ForeignKey("local_issues.id", ondelete="CASCADE"), primary_key=True
    )
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_items.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    issue: Mapped[LocalIssue] = relationship(back_populates="discussions")
    session: Mapped[MeetingSession] = relationship()


class LocalIssueEvent(Base):
    """The issue's history. Lines hold what changed, never the text of the case item it
    came from: ``fields`` names changed fields, statuses and the reason are the issue's own."""

    __tablename__ = "local_issue_events"
    __table_args__ = (Index("ix_local_issue_events_issue", "issue_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("local_issues.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # raised, edited, status, taken_up
    kind: Mapped[str] = mapped_column(String(40))
    old_status: Mapped[IssueStatus | None] = mapped_column(enum_type(IssueStatus))
    new_status: Mapped[IssueStatus | None] = mapped_column(enum_type(IssueStatus))
    effective_on: Mapped[date | None] = mapped_column(Date)  # the status date given
    fields: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(String(500), default="")
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"))

    issue: Mapped[LocalIssue] = relationship(back_populates="events")
    person: Mapped[Person | None] = relationship()
    session: Mapped[MeetingSession | None] = relationship()
