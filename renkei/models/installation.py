"""This installation of Renkei: what must stay the same whatever its address or servers."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from renkei.db import Base


class Installation(Base):
    """One row. ``uid_domain`` ends every calendar UID Renkei issues: made once, at random,
    so that moving the site to another address (BASE_URL) or adding servers leaves every
    event in members' calendars the same event."""

    __tablename__ = "installation"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid_domain: Mapped[str] = mapped_column(String(100))
