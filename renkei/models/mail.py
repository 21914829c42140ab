"""Outgoing e-mail, kept as rows so that a failed send can be shown and retried, and so
that nothing is sent twice."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from renkei.db import Base, UTCDateTime, enum_type, utcnow
from renkei.models.people import Person
from renkei.models.sessions import MeetingSession


class MailStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class MailMessage(Base):
    """One message to one recipient. ``dedupe_key`` is unique: the same invitation for the
    same version (SEQUENCE) of a session is queued once, however often it is asked for.

    A worker sending it holds a lease: ``claimed_at``/``claimed_by`` (host:pid) say when and
    who; a 'sending' message whose lease has expired (MAIL_LEASE_SECONDS) was left by a
    worker that died, and is claimed again. ``claimed_at`` stays after the attempt: it is
    the time of the last attempt. A failed message is tried again from ``next_attempt_at``
    (back-off); ``refused`` marks a permanent refusal (5xx) that is not retried by itself
    and holds nothing back (see ``services.mail.delivery``)."""

    __tablename__ = "mail_messages"
    __table_args__ = (
        Index("ix_mail_messages_session", "session_id"),
        Index("ix_mail_messages_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    recipient_name: Mapped[str] = mapped_column(String(100))
    to_address: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(20))  # invite, update, cancel, reminder
    subject: Mapped[str] = mapped_column(String(300))
    # The whole message as sent (RFC 5322 bytes), built when queued.
    content: Mapped[bytes] = mapped_column(LargeBinary)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[MailStatus] = mapped_column(enum_type(MailStatus), default=MailStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str] = mapped_column(String(100), default="")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refused: Mapped[bool] = mapped_column(Boolean, default=False)

    session: Mapped[MeetingSession | None] = relationship()
    person: Mapped[Person | None] = relationship()
