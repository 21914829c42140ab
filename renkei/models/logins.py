"""Guarding the login: failed attempts (for rate limits) and password-reset tokens."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from renkei.db import Base, UTCDateTime, utcnow
from renkei.models.people import Person


class LoginFailure(Base):
    """One failed login: the address as typed (lower-cased, whether or not anyone has it)
    and the client's IP address. Counted per address and per IP over a sliding window."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_email_at", "email", "at"),
        Index("ix_login_failures_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(45))  # an IPv6 address in text is at most 45
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PasswordReset(Base):
    """A one-time link to set a new password. Only the SHA-256 of the token is kept here, so
    this table alone opens no account; the token is also inside the queued e-mail
    (mail_messages.content), for the link's hour of validity."""

    __tablename__ = "password_resets"
    __table_args__ = (Index("ix_password_resets_person_created", "person_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person] = relationship()
