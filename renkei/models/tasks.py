"""How follow-up tasks (``ActionItem``) stand on the agendas that carry them, and their history.

Which sessions carry a task is worked out, not stored (services/tasks.py); a ``TaskCarry``
row keeps only what the secretariat decided for one session: the task's place among the
carried tasks, or that it is deferred to a later session.
"""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from renkei.db import Base, UTCDateTime, utcnow
from renkei.models.minutes import ActionItem
from renkei.models.people import Person


class TaskCarry(Base):
    __tablename__ = "task_carries"
    __table_args__ = (UniqueConstraint("session_id", "action_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    action_id: Mapped[int] = mapped_column(ForeignKey("action_items.id", ondelete="CASCADE"))
    position: Mapped[int | None] = mapped_column(Integer)
    deferred: Mapped[bool] = mapped_column(Boolean, default=False)


class TaskEvent(Base):
    """One change of a task, for its history: what changed, never the task's text (the
    history is read by the secretariat of the body, as the task's page shows it)."""

    __tablename__ = "task_events"
    __table_args__ = (Index("ix_task_events_action", "action_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("action_items.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    change: Mapped[str] = mapped_column(String(40))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"))

    action: Mapped[ActionItem] = relationship()
    by: Mapped[Person | None] = relationship()
