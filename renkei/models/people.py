"""People: everyone Renkei knows, with or without a login."""

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from renkei.db import Base, UTCDateTime, utcnow
from renkei.models.organisations import Organisation


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


class Person(UserMixin, Base):
    """A person. A resident member may have no password: they only receive invitations.

    ``login_token`` is what the login cookie holds instead of the id; renewing it (on a
    password change or deactivation) ends every session the person had open elsewhere.
    """

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kana: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    login_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_login_token)
    # The secret in the person's calendar feed URL; renewing it kills the old URL.
    feed_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_login_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the person's terms or name last changed (models/calendar_stamps.py).
    calendar_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation | None] = relationship()

    @property
    def has_login(self) -> bool:
        return self.password_hash is not None

    # Flask-Login
    @property
    def is_active(self) -> bool:
        return self.active and self.has_login

    def get_id(self) -> str:
        return self.login_token

    def __repr__(self) -> str:
        return f"<Person {self.id} {self.name}>"
