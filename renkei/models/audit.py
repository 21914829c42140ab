"""The audit log (監査ログ): who saw, changed, approved, printed or exported confidential
content, who pledged, whose membership changed, who logged in or failed to.

Append-only and hash-chained: each entry stores the hash of the one before it and its own
hash, keyed with the audit key, over every column, so that an edited, inserted or deleted
row breaks the chain at that point (``services.audit_chain``). An entry's id is its place
in the chain (1, 2, 3 …). ``AuditHead`` holds the chain's end; taking it for update makes
concurrent appends wait their turn instead of forking the chain.
"""

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from renkei.db import Base, UTCDateTime, utcnow
from renkei.models.people import Person

GENESIS = "0" * 64


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_body", "body_id", "id"),
        Index("ix_audit_entries_category", "category", "id"),
    )

    # Given by services.audit_chain: the entry's place in the chain, never a sequence's.
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who: the person, by id and by name. No foreign key, like body_id: the id is sealed into
    # the entry's hash, so it must stay as written even if the person's row is deleted
    # (ON DELETE SET NULL would break the chain there).
    person_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(254), default="")
    # "account" (logins, accounts) or "content" (bodies' members, pledges, confidential content)
    category: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(40))
    # What: the thing acted on, by type and id; the body whose log it belongs to.
    subject_type: Mapped[str] = mapped_column(String(40), default="")
    subject_id: Mapped[int | None] = mapped_column(Integer)
    body_id: Mapped[int | None] = mapped_column(Integer)  # no foreign key: the log outlives
    session_id: Mapped[int | None] = mapped_column(Integer)
    # Never confidential content: ids, field names and views only.
    detail: Mapped[str] = mapped_column(Text, default="")
    # From where.
    ip: Mapped[str] = mapped_column(String(45), default="")
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    person: Mapped[Person | None] = relationship(
        primaryjoin="foreign(AuditEntry.person_id) == Person.id", viewonly=True
    )


class AuditHead(Base):
    """One row: the chain's last hash and length, and which key seals it."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS)
    length: Mapped[int] = mapped_column(Integer, default=0)
    # A fingerprint of the audit key (not the key): a server started with another key (a
    # restore without instance/audit_key) refuses to write instead of mixing two keys.
    key_id: Mapped[str | None] = mapped_column(String(16))
