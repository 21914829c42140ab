"""Meeting materials (資料): files of an agenda item, or of the session as a whole.

A ``Material`` is one paper as the meeting knows it (its title, its place in the list, who
may see it); each file uploaded for it is a ``MaterialVersion``, the newest being the one
handed out. Replacing a file (差し替え) adds a version and keeps the earlier ones. The file
content lives in the material store under its SHA-256 (services/material_store.py), never in
the database. Deleting after the retention period (保存年限) keeps the rows, marked deleted,
as the record of what there was; only the content goes.
"""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from renkei.db import Base, UTCDateTime, enum_type, utcnow
from renkei.models.people import Person
from renkei.models.sessions import AgendaItem, MeetingSession, Visibility

MATERIAL_TITLE_LENGTH = 200
FILENAME_LENGTH = 200


class Material(Base):
    __tablename__ = "materials"
    __table_args__ = (Index("ix_materials_session", "session_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    # None: a paper of the session as a whole (資料一覧), not of one item.
    agenda_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(MATERIAL_TITLE_LENGTH))
    # As closed as its item at least (the policy reads both): narrowed, never widened.
    visibility: Mapped[Visibility] = mapped_column(enum_type(Visibility))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))

    session: Mapped[MeetingSession] = relationship()
    agenda_item: Mapped[AgendaItem | None] = relationship()
    created_by: Mapped[Person | None] = relationship(foreign_keys=[created_by_id])
    versions: Mapped[list["MaterialVersion"]] = relationship(
        back_populates="material", order_by="MaterialVersion.number", cascade="all, delete-orphan"
    )

    @property
    def body_id(self) -> int | None:
        """The owning body, as the policy's rule for closed things reads it: the item's; a
        paper of the whole session has none."""
        return self.agenda_item.body_id if self.agenda_item is not None else None

    @property
    def current(self) -> "MaterialVersion":
        return self.versions[-1]

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def replaced(self) -> bool:
        """Replaced at least once (差し替え)."""
        return len(self.versions) > 1

    def __repr__(self) -> str:
        return f"<Material {self.id} {self.title}>"


class MaterialVersion(Base):
    """One file of a material as uploaded: its name, type, size and content hash."""

    __tablename__ = "material_versions"
    __table_args__ = (
        UniqueConstraint("material_id", "number"),
        Index("ix_material_versions_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(FILENAME_LENGTH))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The file's plain text for the search (services/material_text.py), read once on upload:
    # None while not read (files stored before it, until `flask material-text`; and again
    # once the material is deleted after its retention period), "" for a file without text.
    # Deferred: up to 200,000 characters that no page listing materials needs.
    text: Mapped[str | None] = mapped_column(Text, deferred=True)

    material: Mapped[Material] = relationship(back_populates="versions")
    uploaded_by: Mapped[Person | None] = relationship()
