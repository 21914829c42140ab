"""Forms already acted on: a one-time token per create form, and where its result is."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from renkei.db import Base, UTCDateTime, utcnow


class FormSubmission(Base):
    """A create form's token, recorded in the transaction of what it created, so that the
    same form posted again (a double click, a reload, a second tab) finds it and is sent
    to ``result_url`` instead of creating a second time. Kept a few days."""

    __tablename__ = "form_submissions"
    __table_args__ = (Index("ix_form_submissions_created", "created_at"),)

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    result_url: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
